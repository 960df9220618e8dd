import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { linkAsCopy } from "../../src/fsutil.ts";

// The suite runs as root (README): only root can hand a file to another user.
describe("linkAsCopy", () => {
  it("links this user's file, and copies another user's, so the result is owned as a copy would be", () => {
    expect(process.geteuid?.()).toBe(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "democd-linkascopy-"));
    const mine = path.join(dir, "mine");
    const theirs = path.join(dir, "theirs");
    fs.writeFileSync(mine, "kernel");
    fs.writeFileSync(theirs, "kernel");
    fs.chmodSync(mine, 0o640);
    fs.chmodSync(theirs, 0o751);
    fs.chownSync(theirs, 65534, 65534);

    linkAsCopy(mine, path.join(dir, "a"));
    expect(fs.statSync(path.join(dir, "a")).ino).toBe(fs.statSync(mine).ino);

    linkAsCopy(theirs, path.join(dir, "b"));
    const b = fs.statSync(path.join(dir, "b"));
    expect(b.ino).not.toBe(fs.statSync(theirs).ino);
    expect([b.uid, b.gid, b.mode & 0o7777]).toEqual([0, 0, 0o751]);
    expect(fs.readFileSync(path.join(dir, "b"), "utf8")).toBe("kernel");
    fs.rmSync(dir, { recursive: true });
  });
});
