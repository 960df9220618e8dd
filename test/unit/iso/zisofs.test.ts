import crypto from "node:crypto";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { readPlainList } from "../../../src/iso/zisofs-tree.ts";
import { ZISOFS_BLOCK_LOG2, ZISOFS_MAGIC, zisofsDecode, zisofsEncode } from "../../../src/iso/zisofs.ts";
import { tempDir } from "../../helpers/temp.ts";

describe("zisofs version 1", () => {
  it("writes the header Linux reads: magic, size, header size in words, block size as log2", async () => {
    const data = Buffer.from("democd ".repeat(100_000));
    const z = (await zisofsEncode(data))!;
    expect(z.subarray(0, 8)).toEqual(ZISOFS_MAGIC);
    expect(z.readUInt32LE(8)).toBe(data.length);
    expect(z[12]).toBe(4);
    expect(z[13]).toBe(ZISOFS_BLOCK_LOG2);
    expect([15, 16, 17]).toContain(ZISOFS_BLOCK_LOG2);
    // n+1 block pointers, the first right after them, the last at the end of the file.
    const n = Math.ceil(data.length / 2 ** ZISOFS_BLOCK_LOG2);
    expect(z.readUInt32LE(16)).toBe(16 + 4 * (n + 1));
    expect(z.readUInt32LE(16 + 4 * n)).toBe(z.length);
    expect(zisofsDecode(z)).toEqual(data);
  });

  it("round-trips a file of mixed blocks, storing a block of zeros as nothing", async () => {
    const block = 2 ** 15;
    const data = Buffer.concat([Buffer.from("a".repeat(block + 1000)), Buffer.alloc(block * 2), crypto.randomBytes(1000), Buffer.from("tail")]);
    const z = (await zisofsEncode(data, 6, 15))!;
    expect(zisofsDecode(z)).toEqual(data);
    const pointers = Array.from({ length: 6 }, (_, i) => z.readUInt32LE(16 + 4 * i));
    // Block 1 holds the rest of the a's and zeros; block 2 is all zeros and takes no bytes.
    expect(pointers[2] - pointers[1]).toBeGreaterThan(0);
    expect(pointers[3] - pointers[2]).toBe(0);
  });

  it("keeps a file plain when compressing would not save a 2 KiB sector, or it is empty", async () => {
    expect(await zisofsEncode(crypto.randomBytes(100_000))).toBeUndefined();
    expect(await zisofsEncode(Buffer.from("x".repeat(2000)))).toBeUndefined();
    expect(await zisofsEncode(Buffer.alloc(0))).toBeUndefined();
  });

  it("gives the same bytes every time (the medium is reproducible)", async () => {
    const data = Buffer.from(Array.from({ length: 50_000 }, (_, i) => `line ${i}\n`).join(""));
    expect(await zisofsEncode(data)).toEqual(await zisofsEncode(data));
  });
});

describe("the list of files the boot reads", () => {
  it("is one path per line relative to the medium's root; comments and blank lines skipped", () => {
    const file = `${tempDir("plain")}/medium-plain.txt`;
    fs.writeFileSync(file, "# measured\n\nbin/bash\n/lib/x86_64-linux-gnu/libc.so.6  # the C library\n");
    expect(readPlainList(file)).toEqual(["bin/bash", "lib/x86_64-linux-gnu/libc.so.6"]);
    expect(readPlainList(`${file}.missing`)).toEqual([]);
  });
});
