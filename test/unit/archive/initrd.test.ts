import { beforeAll, describe, expect, it } from "vitest";
import type { CpioEntry } from "../../../src/archive/cpio.ts";
import { InitrdFormatError, readInitrd, writeInitrd } from "../../../src/archive/initrd.ts";
import { COMPRESSIONS } from "../../../src/archive/compress.ts";
import { needTools } from "../../helpers/tools.ts";

const e = (name: string, data: string): CpioEntry => ({ name, type: "file", perm: 0o644, uid: 0, gid: 0, mtime: 1, data: Buffer.from(data) });

describe("initrd segments", () => {
  beforeAll(() => needTools("xz", "zstd", "lz4"));

  for (const c of COMPRESSIONS) {
    it(`reads back a ${c} initrd, with trailing zero padding`, async () => {
      const image = await writeInitrd([{ compression: c, entries: [e("init", "#!/bin/sh\n"), e("etc/x", "y".repeat(5000))] }]);
      const padded = Buffer.concat([image, Buffer.alloc(1000)]);
      const [seg, ...rest] = await readInitrd(padded);
      expect(rest).toEqual([]);
      expect(seg.compression).toBe(c);
      expect(seg.entries.map((x) => [x.name, x.data.toString()])).toEqual([["init", "#!/bin/sh\n"], ["etc/x", "y".repeat(5000)]]);
    });
  }

  it("writes and reads an early-microcode cpio followed by a compressed main one", async () => {
    const segments = [
      { compression: "none" as const, entries: [e("kernel/x86/microcode/AuthenticAMD.bin", "ucode")] },
      { compression: "zstd" as const, entries: [e("init", "main")] },
    ];
    const back = await readInitrd(await writeInitrd(segments));
    expect(back.map((s) => [s.compression, s.entries.map((x) => x.name)])).toEqual([["none", ["kernel/x86/microcode/AuthenticAMD.bin"]], ["zstd", ["init"]]]);
  });

  it("names what it cannot read", async () => {
    await expect(readInitrd(Buffer.from("BZh91AY&SY this is bzip2"))).rejects.toThrow(InitrdFormatError);
    await expect(readInitrd(Buffer.from("hello, not an initrd at all"))).rejects.toThrow(/neither cpio nor a known compression/);
    await expect(readInitrd(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]))).rejects.toThrow(/cannot decompress the gzip segment/);
  });
});
