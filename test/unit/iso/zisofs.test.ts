import crypto from "node:crypto";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import path from "node:path";
import { readPlainList, zisofsTree } from "../../../src/iso/zisofs-tree.ts";
import { Logger } from "../../../src/log.ts";
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

describe("the medium's compressed view", () => {
  it("compresses each file once into the cache, reuses it, and makes a damaged entry again (said in one line)", async () => {
    const dir = tempDir("ztree");
    const src = path.join(dir, "usr");
    fs.mkdirSync(path.join(src, "bin"), { recursive: true });
    const text = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join(""));
    fs.writeFileSync(path.join(src, "bin", "a"), text, { mode: 0o755 });
    fs.writeFileSync(path.join(src, "bin", "plain"), text);
    fs.writeFileSync(path.join(src, "small"), "tiny");
    const logFile = path.join(dir, "log");
    const log = new Logger({ file: logFile, quiet: true });
    const view = (n: number) => path.join(dir, `view${n}`);
    const cache = path.join(dir, "cache");

    const first = await zisofsTree(src, view(1), cache, new Set(["bin/plain"]), log);
    expect(first).toMatchObject({ files: 3, compressed: 1, made: 1, keptPlain: 1 });
    expect(zisofsDecode(fs.readFileSync(path.join(view(1), "bin", "a")))).toEqual(text);
    expect(fs.statSync(path.join(view(1), "bin", "a")).mode & 0o7777).toBe(0o755);
    expect(fs.readFileSync(path.join(view(1), "bin", "plain"))).toEqual(text);
    expect(fs.readFileSync(path.join(view(1), "small"), "utf8")).toBe("tiny");
    expect((await zisofsTree(src, view(2), cache, new Set(["bin/plain"]), log)).made).toBe(0);

    // One byte of the cache entry changed: the view's file is a hard link to it.
    const entry = path.join(view(2), "bin", "a");
    const bytes = fs.readFileSync(entry);
    bytes[bytes.length - 5] ^= 0xff;
    fs.writeFileSync(entry, bytes);
    const third = await zisofsTree(src, view(3), cache, new Set(["bin/plain"]), log);
    expect(third.made).toBe(1);
    expect(fs.readFileSync(logFile, "utf8")).toMatch(/warning: cache: .*\/zisofs\/.* is damaged \(it does not decode to the content its name hashes\): making it again/);
    expect(zisofsDecode(fs.readFileSync(path.join(view(3), "bin", "a")))).toEqual(text);
    log.close();
  });
});
