import fs from "node:fs";
import path from "node:path";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import type { Logger } from "../log.ts";
import { imageEnd, keepSection } from "./pe.ts";

/** The user's own Secure Boot key pair (PEM files), for Xen under Secure Boot. */
export interface UserKey {
  key: string;
  cert: string;
}

/**
 * The .sbat section shim requires of every binary it verifies: the SBAT format line, Xen
 * upstream's generation (it has published none, so 1), and this build's line, which says who
 * signed it.
 */
export function xenSbat(xenVersion: string): string {
  return [
    "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md",
    `xen,1,Xen Project,xen,${xenVersion},https://xenproject.org/`,
    `xen.democd,1,democd (signed with its user's key),xen,${xenVersion},https://www.debian.org/`,
  ].join("\n") + "\n";
}

/** What Xen's EFI loader reads from its own sections instead of files: xen.cfg, domain 0's kernel and initrd. */
export interface XenPayload {
  cfg: string;
  kernel: string;
  initrd: string;
}

/** A section's address: past the image's end, each on its own 2 MiB boundary (Xen's section alignment). */
const SLOT = 0x200000n;
const align = (n: bigint) => ((n + SLOT - 1n) / SLOT) * SLOT;

/**
 * Debian's xen.efi as one signed file shim starts once the user's key is enrolled: a unified Xen
 * image (Xen 4.16+'s EFI loader reads .config, .kernel and .ramdisk from itself, so it needs no
 * file system: the firmware reads no ISO 9660), with the .sbat section shim requires, all added
 * past the image's end by objcopy; .reloc no longer discardable (shim's loader would leave it
 * out); then signed (sbsign) and checked against the certificate (sbverify): `dir`/xen.efi. The
 * kernel is Debian's signed one, byte for byte. The private key is read by sbsign only.
 */
export async function signXen(xenEfi: string, xenVersion: string, payload: XenPayload, user: UserKey, dir: string, log?: Logger): Promise<string> {
  // The build's own directory: what an earlier build signed (and its ESP image) goes.
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const sbat = path.join(dir, "sbat.csv");
  const cfg = path.join(dir, "xen.cfg");
  const unified = path.join(dir, "xen-unified.efi");
  const unsigned = path.join(dir, "xen-unsigned.efi");
  const signed = path.join(dir, "xen.efi");
  fs.writeFileSync(sbat, xenSbat(xenVersion));
  fs.writeFileSync(cfg, payload.cfg);
  const sections: [string, string][] = [[".sbat", sbat], [".config", cfg], [".kernel", payload.kernel], [".ramdisk", payload.initrd]];
  const args: string[] = [];
  let at = align(imageEnd(fs.readFileSync(xenEfi)));
  for (const [name, file] of sections) {
    args.push("--add-section", `${name}=${file}`, "--set-section-flags", `${name}=contents,alloc,load,readonly,data`, "--change-section-vma", `${name}=0x${at.toString(16)}`);
    at = align(at + BigInt(fs.statSync(file).size));
  }
  await run("objcopy", [...args, xenEfi, unified], { log });
  fs.writeFileSync(unsigned, keepSection(fs.readFileSync(unified), ".reloc"));
  try {
    await run("sbsign", ["--key", user.key, "--cert", user.cert, "--output", signed, unsigned], { log });
    await run("sbverify", ["--cert", user.cert, signed], { log });
  } catch (e) {
    throw new DemocdError(`secureBoot: cannot sign Xen with the key ${user.key} and the certificate ${user.cert}`, {
      hint: "give a PEM private key without a passphrase and the PEM certificate made from it, e.g. openssl req -new -x509 -newkey rsa:2048 -nodes -keyout KEY -out CERT -subj /CN=NAME -days 3650",
      debug: e instanceof DemocdError ? e.debug : String(e),
      cause: e,
    });
  }
  for (const f of [sbat, cfg, unified, unsigned]) fs.rmSync(f);
  return signed;
}
