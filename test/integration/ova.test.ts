import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { sha256 } from "../../src/hash.ts";
import { TEST_BUILD_DIR } from "../helpers/paths.ts";
import { isRoot } from "../../src/archive/devices.ts";
import { requireUnderCi } from "../helpers/ci.ts";
import { tempDir } from "../helpers/temp.ts";
import { virtV2vPrintSource } from "../helpers/virt-v2v.ts";
import { needTools } from "../helpers/tools.ts";

const base = inject("diskBase");
const ova = `${base}.ova`;
const name = path.basename(base);
const members = [`${name}.ovf`, `${name}.mf`, `${name}-disk1.vmdk`];
let dir: string;
let epoch: number;

beforeAll(async () => {
  await needTools("tar", "xmllint", "qemu-img");
  dir = tempDir("ova");
  await execa("tar", ["-xf", ova, "-C", dir]);
  epoch = JSON.parse(fs.readFileSync(path.join(TEST_BUILD_DIR, "work/democd/build.json"), "utf8")).sourceDateEpoch;
});

/** A value from the descriptor, read by libxml2's XPath (namespaces by local name). */
async function xpath(expr: string): Promise<string> {
  return (await execa("xmllint", ["--xpath", expr, path.join(dir, members[0])])).stdout.trim();
}

describe("the OVA (VMware, VirtualBox)", () => {
  it("is a ustar tar of the descriptor, the manifest and the disk, in that order, owned by 0:0 and dated SOURCE_DATE_EPOCH", async () => {
    const listing = (await execa("tar", ["--numeric-owner", "--full-time", "-tvf", ova], { env: { TZ: "UTC" } })).stdout.split("\n");
    expect(listing.map((l) => l.split(/\s+/).at(-1))).toEqual(members);
    const when = new Date(epoch * 1000).toISOString().replace("T", " ").slice(0, 19);
    for (const l of listing) expect(l).toMatch(new RegExp(`^-r[w-]-r--r-- 0/0 +\\d+ ${when} `));
    // POSIX ustar ("ustar\0" "00" at 257), what OVF requires, not GNU's format.
    const head = Buffer.alloc(512);
    const fd = fs.openSync(ova, "r");
    fs.readSync(fd, head, 0, 512, 0);
    fs.closeSync(fd);
    expect(head.toString("latin1", 257, 265)).toBe("ustar\u000000");
    expect(fs.readFileSync(`${ova}.sha256`, "utf8")).toBe(`${sha256(fs.readFileSync(ova))}  ${path.basename(ova)}\n`);
  });

  it("has a manifest whose SHA256 lines match the descriptor and the disk", () => {
    const mf = fs.readFileSync(path.join(dir, members[1]), "utf8");
    expect(mf).toBe([members[0], members[2]].map((m) => `SHA256(${m})= ${sha256(fs.readFileSync(path.join(dir, m)))}\n`).join(""));
  });

  it("holds the very VMDK the vmdk writer made (one conversion), which qemu-img reads as streamOptimized", async () => {
    expect(sha256(fs.readFileSync(path.join(dir, members[2])))).toBe(sha256(fs.readFileSync(`${base}.vmdk`)));
    const info = JSON.parse((await execa("qemu-img", ["info", "--output=json", path.join(dir, members[2])])).stdout);
    expect(info.format).toBe("vmdk");
    expect(info["format-specific"].data["create-type"]).toBe("streamOptimized");
    expect(info["virtual-size"]).toBe(fs.statSync(`${base}.raw`).size);
  });

  it("describes that disk and machine in a descriptor libxml2 reads", async () => {
    await execa("xmllint", ["--noout", path.join(dir, members[0])]);
    expect(await xpath("string(//*[local-name()='File']/@*[local-name()='href'])")).toBe(members[2]);
    expect(Number(await xpath("string(//*[local-name()='File']/@*[local-name()='size'])"))).toBe(fs.statSync(path.join(dir, members[2])).size);
    expect(Number(await xpath("string(//*[local-name()='Disk']/@*[local-name()='capacity'])"))).toBe(fs.statSync(`${base}.raw`).size);
    expect(await xpath("string(//*[local-name()='Disk']/@*[local-name()='format'])")).toBe("http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized");
    const types = (await xpath("//*[local-name()='Item']/*[local-name()='ResourceType']/text()")).split(/\s+/);
    expect(types).toEqual(["3", "4", "20", "17", "10"]);
  });
});

// virt-v2v's root is made by mmdebstrap and entered with mount and chroot: root only (CI runs as root).
describe.runIf(isRoot() || process.env.CI === "true")("the OVA read by Debian's virt-v2v, as an importer reads it", () => {
  it("lists the tar, checks every manifest hash and parses the descriptor: the machine democd described", async () => {
    requireUnderCi(isRoot(), "virt-v2v's root needs root to make and enter");
    await needTools("mmdebstrap", "unshare", "chroot");
    const r = await virtV2vPrintSource(ova);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toMatch(/source name: democd-9\.9-test/);
    expect(r.output).toMatch(/nr vCPUs: 2\n/);
    expect(r.output).toMatch(/memory: 1073741824 \(bytes\)/);
    expect(r.output).toMatch(/firmware: bios/);
    expect(r.output).toMatch(/0 \[sata\]/);
    // An unreadable manifest is only a warning to virt-v2v: none may appear.
    expect(r.output).not.toMatch(/warning:/);
  }, 600_000);

  it("refuses a copy whose manifest does not match its disk", async () => {
    requireUnderCi(isRoot(), "virt-v2v's root needs root to make and enter");
    const bad = path.join(tempDir("ova-bad"), "bad.ova");
    const mf = path.join(dir, members[1]);
    const good = fs.readFileSync(mf, "utf8");
    const vmdkLine = good.split("\n").find((l) => l.startsWith(`SHA256(${members[2]})= `))!;
    const flipped = vmdkLine.replace(/= (.)/, (_m, c: string) => `= ${c === "0" ? "1" : "0"}`);
    fs.writeFileSync(mf, good.replace(vmdkLine, flipped));
    try {
      await execa("tar", ["--format=ustar", "-cf", bad, "-C", dir, ...members]);
    } finally {
      fs.writeFileSync(mf, good);
    }
    const r = await virtV2vPrintSource(bad);
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(new RegExp(`corrupt OVA: checksum of disk ${members[2].replace(/\./g, "\\.")} does not match manifest`));
  }, 600_000);
});
