import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { libraryClosure, readElfDynamic, readElfDynamicFile } from "../../src/elf.ts";
import { tempDir } from "../helpers/temp.ts";
import { needTools } from "../helpers/tools.ts";

/** A minimal little-endian ELF64 with one PT_LOAD, an optional PT_INTERP and a PT_DYNAMIC. */
function fakeElf(o: { interp?: string; needed: string[]; soname?: string; vaddr?: bigint }): Buffer {
  const base = o.vaddr ?? 0x400000n;
  const phnum = o.interp ? 3 : 2;
  let off = 64 + phnum * 56;
  const interpOff = off;
  const interpBytes = o.interp ? Buffer.from(o.interp + "\0", "latin1") : Buffer.alloc(0);
  off += interpBytes.length;
  const strings = ["", ...o.needed, ...(o.soname ? [o.soname] : [])];
  const strOffsets: number[] = [];
  let strtab = Buffer.alloc(0);
  for (const s of strings) {
    strOffsets.push(strtab.length);
    strtab = Buffer.concat([strtab, Buffer.from(s + "\0", "latin1")]);
  }
  const strtabOff = off;
  off += strtab.length;
  off = (off + 7) & ~7;
  const dynOff = off;
  const dyn: [bigint, bigint][] = [
    ...o.needed.map((_, i): [bigint, bigint] => [1n, BigInt(strOffsets[i + 1])]),
    ...(o.soname ? [[14n, BigInt(strOffsets.at(-1)!)] as [bigint, bigint]] : []),
    [5n, base + BigInt(strtabOff)],
    [10n, BigInt(strtab.length)],
    [0n, 0n],
  ];
  const size = dynOff + dyn.length * 16;
  const b = Buffer.alloc(size);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2; // ELFCLASS64
  b[5] = 1; // little-endian
  b[6] = 1;
  b.writeUInt16LE(3, 16); // ET_DYN
  b.writeUInt16LE(62, 18); // x86-64
  b.writeBigUInt64LE(64n, 0x20);
  b.writeUInt16LE(64, 0x34);
  b.writeUInt16LE(56, 0x36);
  b.writeUInt16LE(phnum, 0x38);
  let ph = 64;
  const phdr = (type: number, offset: number, filesz: number) => {
    b.writeUInt32LE(type, ph);
    b.writeBigUInt64LE(BigInt(offset), ph + 8);
    b.writeBigUInt64LE(base + BigInt(offset), ph + 16);
    b.writeBigUInt64LE(base + BigInt(offset), ph + 24);
    b.writeBigUInt64LE(BigInt(filesz), ph + 32);
    b.writeBigUInt64LE(BigInt(filesz), ph + 40);
    ph += 56;
  };
  if (o.interp) phdr(3, interpOff, interpBytes.length);
  phdr(1, 0, size);
  phdr(2, dynOff, dyn.length * 16);
  interpBytes.copy(b, interpOff);
  strtab.copy(b, strtabOff);
  dyn.forEach(([t, v], i) => {
    b.writeBigInt64LE(t, dynOff + i * 16);
    b.writeBigUInt64LE(v, dynOff + i * 16 + 8);
  });
  return b;
}

/** The fetched package's directory in the shared cache, if a build has fetched it. */
const sfdisk = "/usr/sbin/sfdisk";

describe("ELF64 dynamic section reader", () => {
  it("reads the loader and DT_NEEDED of Debian's sfdisk (the one the initrd gets)", () => {
    const info = readElfDynamicFile(sfdisk);
    expect(info.interp).toBe("/lib64/ld-linux-x86-64.so.2");
    expect(info.needed).toEqual(expect.arrayContaining(["libfdisk.so.1", "libsmartcols.so.1", "libc.so.6"]));
    expect(info.soname).toBeUndefined();
  });

  it("agrees with readelf -d on real programs and libraries", async () => {
    await needTools("readelf");
    for (const f of [sfdisk, "/bin/ls", "/usr/bin/qemu-img", "/lib/x86_64-linux-gnu/libc.so.6"]) {
      const { stdout } = await execa("readelf", ["-dW", f]);
      const needed = [...stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
      const soname = /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(stdout)?.[1];
      const info = readElfDynamicFile(f);
      expect(info.needed, f).toEqual(needed);
      expect(info.soname, f).toBe(soname);
    }
  });

  it("reads a hand-made file: interpreter, needed in order, soname", () => {
    const info = readElfDynamic(fakeElf({ interp: "/lib/ld-test.so.1", needed: ["liba.so.1", "libb.so.2"], soname: "libself.so.3" }));
    expect(info).toEqual({ interp: "/lib/ld-test.so.1", needed: ["liba.so.1", "libb.so.2"], soname: "libself.so.3" });
  });

  it("refuses what it cannot read, in one line naming the file", () => {
    expect(() => readElfDynamic(Buffer.from("#!/bin/sh\necho hi\n".padEnd(80)), "script")).toThrow(/script is not a usable ELF64 file: no ELF magic/);
    const elf32 = fakeElf({ needed: [] });
    elf32[4] = 1;
    expect(() => readElfDynamic(elf32, "x")).toThrow(/not 64-bit/);
    const truncated = fakeElf({ needed: ["liba.so.1"] }).subarray(0, 100);
    expect(() => readElfDynamic(truncated, "t")).toThrow(/out of range/);
  });
});

describe("shared library closure", () => {
  it("follows libraries' own needs across directories, relative symlinks, and names what is missing", () => {
    const d = tempDir("elf");
    const [a, b] = [path.join(d, "a"), path.join(d, "b")];
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.writeFileSync(path.join(d, "prog"), fakeElf({ interp: "/lib64/ld-test.so.2", needed: ["liba.so.1", "libc.so.6"] }));
    fs.writeFileSync(path.join(a, "liba.so.1.2.3"), fakeElf({ needed: ["libb.so.2", "libc.so.6"], soname: "liba.so.1" }));
    fs.symlinkSync("liba.so.1.2.3", path.join(a, "liba.so.1"));
    fs.writeFileSync(path.join(b, "libb.so.2"), fakeElf({ needed: ["libc.so.6"], soname: "libb.so.2" }));
    fs.writeFileSync(path.join(b, "libc.so.6"), fakeElf({ needed: ["ld-test.so.2"], soname: "libc.so.6" }));
    fs.writeFileSync(path.join(b, "ld-test.so.2"), fakeElf({ needed: [], soname: "ld-test.so.2" }));
    // An absolute link would reach into the build host: it is not followed.
    fs.symlinkSync("/lib/x86_64-linux-gnu/libc.so.6", path.join(a, "libc.so.6"));

    const c = libraryClosure([path.join(d, "prog")], [a, b]);
    expect([...c.libs.keys()].sort()).toEqual(["ld-test.so.2", "liba.so.1", "libb.so.2", "libc.so.6"]);
    expect(c.libs.get("liba.so.1")).toBe(path.join(a, "liba.so.1.2.3"));
    expect(c.libs.get("libc.so.6")).toBe(path.join(b, "libc.so.6"));
    expect(c.interp).toEqual({ path: "/lib64/ld-test.so.2", file: path.join(b, "ld-test.so.2") });

    fs.rmSync(path.join(b, "libb.so.2"));
    expect(() => libraryClosure([path.join(d, "prog")], [a, b])).toThrow(/shared libraries not found: libb\.so\.2 \(needed by liba\.so\.1\.2\.3\)/);
  });

});
