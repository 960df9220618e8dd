import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { bzImagePayload, extractVmlinux, trimElf } from "../../../src/kernel/vmlinux.ts";

/** A small ELF64: header, program headers, two PT_LOADs (the last ending in zeros), a PT_NOTE, section headers at the end. */
function elf(): { buf: Buffer; last: { offset: number; filesz: number; memsz: number } } {
  const buf = Buffer.alloc(0x3000 + 64 * 2);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  const phoff = 64;
  buf.writeBigUInt64LE(BigInt(phoff), 0x20);
  buf.writeBigUInt64LE(0x3000n, 0x28); // e_shoff
  buf.writeUInt16LE(56, 0x36);
  buf.writeUInt16LE(3, 0x38);
  buf.writeUInt16LE(64, 0x3a);
  buf.writeUInt16LE(2, 0x3c);
  buf.writeUInt16LE(1, 0x3e);
  const ph = (i: number, type: number, offset: number, filesz: number, memsz: number) => {
    const at = phoff + i * 56;
    buf.writeUInt32LE(type, at);
    buf.writeBigUInt64LE(BigInt(offset), at + 8);
    buf.writeBigUInt64LE(BigInt(filesz), at + 32);
    buf.writeBigUInt64LE(BigInt(memsz), at + 40);
  };
  ph(0, 1, 0x1000, 0x800, 0x800);
  ph(1, 4, 0x1100, 0x20, 0x20); // PT_NOTE inside the first segment
  ph(2, 1, 0x2000, 0x1000, 0x4000); // its last 0xf00 bytes are zeros
  buf.fill(0xaa, 0x1000, 0x1800);
  buf.fill(0xbb, 0x2000, 0x2100);
  buf.fill(0xcc, 0x3000); // section headers
  return { buf, last: { offset: 0x2000, filesz: 0x1000, memsz: 0x4000 } };
}

describe("the demo guests' kernel (vmlinux.gz)", () => {
  it("drops the last segment's trailing zeros and the section headers, keeping what the loader reads", () => {
    const { buf } = elf();
    const t = trimElf(buf);
    expect(t.length).toBe(0x2100);
    expect(t.subarray(0, 0x2100).subarray(0x1000).equals(buf.subarray(0x1000, 0x2100))).toBe(true);
    expect(t.readBigUInt64LE(64 + 2 * 56 + 32)).toBe(0x100n); // p_filesz
    expect(t.readBigUInt64LE(64 + 2 * 56 + 40)).toBe(0x4000n); // p_memsz unchanged: the loader zero-fills
    expect(t.readBigUInt64LE(64 + 56 + 8)).toBe(0x1100n); // PT_NOTE where it was
    expect([t.readBigUInt64LE(0x28), t.readUInt16LE(0x3c), t.readUInt16LE(0x3e)]).toEqual([0n, 0, 0]);
  });

  it("leaves an ELF alone when another segment lies after the cut, and anything that is not ELF64", () => {
    const { buf } = elf();
    buf.writeBigUInt64LE(0x2f00n, 64 + 56 + 8); // the note now past the zeros' start
    expect(trimElf(buf)).toBe(buf);
    const notElf = Buffer.from("not an elf at all, not an elf at all, not an elf at all, not an elf");
    expect(trimElf(notElf)).toBe(notElf);
  });

  it("finds the payload of a bzImage by its header and decompresses it to the ELF", async () => {
    const { buf } = elf();
    const payload = zlib.gzipSync(buf);
    const image = Buffer.alloc(5 * 512 + payload.length + 4);
    image[0x1f1] = 4; // setup sectors: the protected-mode part starts at 5 * 512
    image.write("HdrS", 0x202, "latin1");
    image.writeUInt16LE(0x20f, 0x206);
    image.writeUInt32LE(0, 0x248);
    image.writeUInt32LE(payload.length + 4, 0x24c); // the kernel's size trailer follows the stream
    payload.copy(image, 5 * 512);
    expect(bzImagePayload(image, "vmlinuz").length).toBe(payload.length + 4);
    expect((await extractVmlinux(image, "vmlinuz")).equals(buf)).toBe(true);
    expect(() => bzImagePayload(Buffer.alloc(1024), "vmlinuz")).toThrow(/vmlinuz is not an x86 bzImage/);
  });
});
