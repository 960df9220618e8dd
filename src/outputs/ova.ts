import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema.ts";
import { run } from "../exec.ts";
import { fileSha256, sha256 } from "../hash.ts";
import type { Logger } from "../log.ts";
import { renderFile } from "../render/ejs.ts";

/** What the OVF descriptor says about the appliance and its one disk. */
export interface OvfFacts {
  name: string;
  diskFile: string;
  diskFileBytes: number;
  capacityBytes: number;
  populatedBytes: number;
}

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Text as XML character data or an attribute value. */
export function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/** The OVF descriptor, from templates/ovf.ejs. */
export function renderOvf(config: Config, facts: OvfFacts): string {
  return renderFile(path.join(config.profileDir, "templates"), "ovf.ejs", {
    ...facts, xml, version: config.version, builder: config.builder, network: "nat",
    cpus: config.vm.cpus, memoryMb: config.vm.memory, firmware: config.vm.firmware,
  });
}

/** The manifest as VMware's ovftool and VirtualBox write and check it: `SHA256(file)= hex`, one per member. */
export function ovaManifest(members: { name: string; sha256: string }[]): string {
  return members.map((m) => `SHA256(${m.name})= ${m.sha256}\n`).join("");
}

/** ustar (what OVF requires) stores a member of at most 8 GiB - 1 byte. */
export const USTAR_MAX_BYTES = 8 * 1024 ** 3 - 1;

/**
 * The appliance: a ustar tar of the descriptor, the manifest and the disk, in that order (the
 * descriptor first, as OVF requires), owned by 0:0, every date SOURCE_DATE_EPOCH.
 */
export async function writeOva(out: string, config: Config, disk: { vmdk: string; sha256?: string; capacityBytes: number; populatedBytes: number }, epoch: number, scratch: string, log?: Logger): Promise<void> {
  const base = path.basename(out).replace(/\.ova$/, "");
  const names = { ovf: `${base}.ovf`, mf: `${base}.mf`, vmdk: `${base}-disk1.vmdk` };
  const stage = fs.mkdtempSync(path.join(scratch, "ova-"));
  try {
    const vmdkBytes = fs.statSync(disk.vmdk).size;
    if (vmdkBytes > USTAR_MAX_BYTES) throw new Error(`the VMDK is ${vmdkBytes} bytes: an OVA (ustar) holds at most 8 GiB per member`);
    try {
      fs.linkSync(disk.vmdk, path.join(stage, names.vmdk));
    } catch {
      fs.copyFileSync(disk.vmdk, path.join(stage, names.vmdk)); // another file system
    }
    const ovf = renderOvf(config, { name: `democd-${config.version}`, diskFile: names.vmdk, diskFileBytes: vmdkBytes, capacityBytes: disk.capacityBytes, populatedBytes: disk.populatedBytes });
    fs.writeFileSync(path.join(stage, names.ovf), ovf);
    fs.writeFileSync(path.join(stage, names.mf), ovaManifest([{ name: names.ovf, sha256: sha256(ovf) }, { name: names.vmdk, sha256: disk.sha256 ?? (await fileSha256(disk.vmdk)) }]));
    await run("tar", ["--format=ustar", "--owner=0", "--group=0", "--numeric-owner", `--mtime=@${epoch}`, "--mode=a=r,u+w", "-cf", out, "-C", stage, names.ovf, names.mf, names.vmdk], { log });
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
