import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CpioFormatError, cpioSha256, readCpio, splitDev, treeEntries, writeCpio, type CpioEntry } from "../../../src/archive/cpio.ts";
import { tempDir } from "../../helpers/temp.ts";

const entry = (name: string, type: CpioEntry["type"], data = "", extra: Partial<CpioEntry> = {}): CpioEntry => ({
  name, type, perm: type === "dir" ? 0o755 : 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, data: Buffer.from(data), ...extra,
});

describe("cpio newc", () => {
  it("round-trips files, directories, symlinks and device nodes", () => {
    const entries = [
      entry("bin", "dir"),
      entry("bin/busybox", "file", "\x7fELF...", { perm: 0o755 }),
      entry("bin/sh", "symlink", "busybox", { perm: 0o777 }),
      entry("dev", "dir"),
      entry("dev/console", "char", "", { perm: 0o600, rdevMajor: 5, rdevMinor: 1 }),
      entry("etc/odd name with spaces", "file", "x".repeat(1023)),
    ];
    const { entries: back, end } = readCpio(writeCpio(entries));
    expect(back.map(({ name, type, perm, uid, gid, mtime, rdevMajor, rdevMinor }) => ({ name, type, perm, uid, gid, mtime, rdevMajor, rdevMinor }))).toEqual(
      entries.map(({ name, type, perm, uid, gid, mtime }, i) => ({ name, type, perm, uid, gid, mtime, rdevMajor: entries[i].rdevMajor ?? 0, rdevMinor: entries[i].rdevMinor ?? 0 })),
    );
    expect(back.map((e) => e.data.toString())).toEqual(entries.map((e) => e.data.toString()));
    expect(end % 4).toBe(0);
  });

  it("is byte-for-byte reproducible and 4-byte aligned", () => {
    const a = writeCpio([entry("a", "file", "abc"), entry("b", "dir")]);
    const b = writeCpio([entry("a", "file", "abc"), entry("b", "dir")]);
    expect(a.equals(b)).toBe(true);
    expect(a.length % 4).toBe(0);
    expect(a.subarray(0, 6).toString()).toBe("070701");
  });

  it("hashes an archive as written, without putting it together", () => {
    const entries = [entry("a", "file", "abc"), entry("b", "dir"), entry("c", "file", "12345", { ino: 40 })];
    const written = writeCpio(entries);
    expect(cpioSha256(entries)).toBe(crypto.createHash("sha256").update(written).digest("hex"));
    expect(cpioSha256(entries.slice(0, 2))).not.toBe(cpioSha256(entries));
    // Inode numbers: given ones kept, the others by position.
    expect(readCpio(written).entries.map((e) => e.ino)).toEqual([1, 2, 40]);
  });

  it("reads concatenated archives segment by segment", () => {
    const first = writeCpio([entry("kernel/x86/microcode/GenuineIntel.bin", "file", "ucode")]);
    const second = writeCpio([entry("init", "file", "#!/bin/sh")]);
    const both = Buffer.concat([first, Buffer.alloc(512), second]);
    const one = readCpio(both);
    expect(one.entries.map((e) => e.name)).toEqual(["kernel/x86/microcode/GenuineIntel.bin"]);
    let next = one.end;
    while (both[next] === 0) next++;
    expect(readCpio(both, next).entries.map((e) => e.name)).toEqual(["init"]);
  });

  it("refuses truncated and foreign data with a readable error", () => {
    const good = writeCpio([entry("a", "file", "hello world")]);
    expect(() => readCpio(good.subarray(0, 120))).toThrow(CpioFormatError);
    expect(() => readCpio(Buffer.from("PK\x03\x04 not a cpio archive at all, really not".repeat(4)))).toThrow(/not a newc cpio header/);
  });

  it("walks a tree sorted, owned by 0:0, with mtimes clamped", () => {
    const dir = tempDir("cpio");
    fs.mkdirSync(path.join(dir, "b"));
    fs.writeFileSync(path.join(dir, "b", "z"), "z");
    fs.writeFileSync(path.join(dir, "a"), "a");
    fs.symlinkSync("a", path.join(dir, "c"));
    const entries = treeEntries(dir, { mtimeClamp: 1000 });
    expect(entries.map((e) => `${e.name}:${e.type}`)).toEqual(["a:file", "b:dir", "b/z:file", "c:symlink"]);
    expect(entries.every((e) => e.uid === 0 && e.gid === 0 && e.mtime === 1000)).toBe(true);
    expect(entries.find((e) => e.name === "c")!.data.toString()).toBe("a");
  });

  it("decodes Linux dev_t numbers", () => {
    expect(splitDev(0x0501)).toEqual({ rdevMajor: 5, rdevMinor: 1 });
    expect(splitDev(259 * 256 + 3)).toEqual({ rdevMajor: 259, rdevMinor: 3 });
  });
});
