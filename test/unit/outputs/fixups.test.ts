import { describe, expect, it } from "vitest";
import { fixVhdFooter, fixVmdkDescriptor, isVhdFooter } from "../../../src/outputs/fixups.ts";

function footer(): Buffer {
  const f = Buffer.alloc(512);
  f.write("conectix", 0, "latin1");
  f.writeUInt32BE(123456, 24);
  f.write("qem2", 28, "latin1");
  Buffer.alloc(16, 0x5a).copy(f, 68);
  return f;
}

const checksumOk = (f: Buffer) => {
  let sum = 0;
  f.forEach((b, i) => (sum += i >= 64 && i < 68 ? 0 : b));
  return f.readUInt32BE(64) === (~sum >>> 0);
};

describe("converter fields fixed from the build", () => {
  it("sets a VHD footer's time (from 2000-01-01) and UUID and makes its checksum right again", () => {
    const f = fixVhdFooter(footer(), 946684800 + 1000, "01234567-89ab-4cde-8f01-23456789abcd");
    expect(isVhdFooter(f)).toBe(true);
    expect(f.readUInt32BE(24)).toBe(1000);
    expect(f.subarray(68, 84).toString("hex")).toBe("0123456789ab4cde8f0123456789abcd");
    expect(checksumOk(f)).toBe(true);
    expect(f.subarray(28, 32).toString("latin1")).toBe("qem2");
  });

  it("sets a VMDK descriptor's CID, whether qemu printed 7 or 8 digits, in a region of the same size", () => {
    for (const cid of ["e5fe9bc7", "3a10bba"]) {
      const region = Buffer.alloc(1024);
      region.write(`# Disk DescriptorFile\nversion=1\nCID=${cid}\nparentCID=ffffffff\n`, "latin1");
      const out = fixVmdkDescriptor(region, "0badcafe");
      expect(out.length).toBe(1024);
      expect(out.toString("latin1")).toMatch(/^# Disk DescriptorFile\nversion=1\nCID=0badcafe\nparentCID=ffffffff\n\0+$/);
    }
    expect(() => fixVmdkDescriptor(Buffer.from("nothing"), "0badcafe")).toThrow(/no CID/);
  });
});
