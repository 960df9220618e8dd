import { describe, expect, it } from "vitest";
import { imageEnd, isDiscardable, keepSection, peSections } from "../../../src/efi/pe.ts";
import { fakePe } from "../../helpers/pe.ts";

/** fakePe's section table starts right after the COFF header (no optional header): 0x40 + 24. */
const TABLE = 0x40 + 24;
const DISCARDABLE = 0x02000000;

function withFlags(image: Buffer, flags: number[]): Buffer {
  flags.forEach((f, i) => image.writeUInt32LE(f >>> 0, TABLE + i * 40 + 36));
  return image;
}

describe("keepSection: what shim's loader must copy into memory", () => {
  it("clears the discardable flag of the named section only, keeping its other flags and every byte else", () => {
    const before = withFlags(fakePe({ ".text": "code", ".reloc": "relocs", ".sbat": "sbat,1" }), [0x60000020, 0x42000040, 0x40000040]);
    const after = keepSection(before, ".reloc");
    expect(isDiscardable(before, ".reloc")).toBe(true);
    expect(isDiscardable(after, ".reloc")).toBe(false);
    expect(after.readUInt32LE(TABLE + 40 + 36)).toBe(0x42000040 & ~DISCARDABLE);
    const changed = [...after.keys()].filter((i) => after[i] !== before[i]);
    expect(changed).toEqual([TABLE + 40 + 36 + 3]);
    expect(peSections(after)).toEqual(peSections(before));
  });

  it("refuses an image without that section, and what is not a PE image", () => {
    expect(() => keepSection(fakePe({ ".text": "code" }), ".reloc")).toThrow("not a PE image: no .reloc section");
    expect(() => keepSection(Buffer.from("#!/bin/sh\n".padEnd(128)), ".reloc")).toThrow("not a PE image: no MZ header");
  });
});

describe("imageEnd: where objcopy may add a section", () => {
  it("is ImageBase + SizeOfImage of a PE32+ image (Xen's: 0xffff82d040000000 + 16 MiB)", () => {
    const image = Buffer.alloc(0x40 + 24 + 240);
    image.write("MZ", 0, "latin1");
    image.writeUInt32LE(0x40, 0x3c);
    image.write("PE\0\0", 0x40, "latin1");
    image.writeUInt16LE(240, 0x40 + 20);
    image.writeUInt16LE(0x20b, 0x40 + 24);
    image.writeBigUInt64LE(0xffff82d040000000n, 0x40 + 24 + 24);
    image.writeUInt32LE(0x1000000, 0x40 + 24 + 56);
    expect(imageEnd(image)).toBe(0xffff82d041000000n);
    image.writeUInt16LE(0x10b, 0x40 + 24);
    expect(() => imageEnd(image)).toThrow("not PE32+");
  });
});
