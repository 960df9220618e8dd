import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { mirrorTree } from "../../src/fsutil.ts";

function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "democd-mirror-"));
  const src = path.join(dir, "src");
  fs.mkdirSync(path.join(src, "etc", "deep"), { recursive: true });
  fs.writeFileSync(path.join(src, "etc", "a"), "a\n");
  fs.writeFileSync(path.join(src, "etc", "deep", "b"), "b\n");
  fs.symlinkSync("etc/a", path.join(src, "link"));
  fs.chmodSync(path.join(src, "etc", "deep"), 0o700);
  fs.utimesSync(path.join(src, "etc"), 1_000_000, 1_000_000);
  return { dir, src, dest: path.join(dir, "dest") };
}

const ino = (p: string) => fs.lstatSync(p).ino;

describe("mirrorTree", () => {
  it("makes dest the source's tree by hard links, with its modes, links and (preserved) dates", () => {
    const { dir, src, dest } = scratch();
    expect(mirrorTree(src, dest, { preserve: true })).toBe(2);
    expect(ino(path.join(dest, "etc", "deep", "b"))).toBe(ino(path.join(src, "etc", "deep", "b")));
    expect(fs.readlinkSync(path.join(dest, "link"))).toBe("etc/a");
    expect(fs.statSync(path.join(dest, "etc", "deep")).mode & 0o7777).toBe(0o700);
    expect(fs.statSync(path.join(dest, "etc")).mtimeMs).toBe(1_000_000_000);
    fs.rmSync(dir, { recursive: true });
  });

  it("on a second run keeps what matches, replaces what was rewritten, removes what the source lacks, leaves owned paths", () => {
    const { dir, src, dest } = scratch();
    mirrorTree(src, dest);
    const linkIno = ino(path.join(dest, "link"));
    // What a build does to the tree after mirroring: rewrite a file as a new inode, add files.
    fs.rmSync(path.join(dest, "etc", "a"));
    fs.writeFileSync(path.join(dest, "etc", "a"), "patched\n");
    fs.writeFileSync(path.join(dest, "etc", "added"), "x\n");
    fs.mkdirSync(path.join(dest, "lib", "modules", "6.1"), { recursive: true });
    fs.writeFileSync(path.join(dest, "lib", "modules", "6.1", "m.ko"), "m\n");
    fs.writeFileSync(path.join(dest, "lib", "stray"), "s\n");

    mirrorTree(src, dest, { owned: ["lib/modules/6.1"] });
    expect(fs.readFileSync(path.join(dest, "etc", "a"), "utf8")).toBe("a\n");
    expect(ino(path.join(dest, "etc", "a"))).toBe(ino(path.join(src, "etc", "a")));
    expect(ino(path.join(dest, "link"))).toBe(linkIno);
    expect(fs.existsSync(path.join(dest, "etc", "added"))).toBe(false);
    expect(fs.existsSync(path.join(dest, "lib", "stray"))).toBe(false);
    expect(fs.readFileSync(path.join(dest, "lib", "modules", "6.1", "m.ko"), "utf8")).toBe("m\n");
    fs.rmSync(dir, { recursive: true });
  });

  it("without a source empties dest down to the owned paths", () => {
    const { dir, src, dest } = scratch();
    mirrorTree(src, dest);
    fs.mkdirSync(path.join(dest, "lib", "modules", "6.1"), { recursive: true });
    mirrorTree(undefined, dest, { owned: ["lib/modules/6.1"] });
    expect(fs.readdirSync(dest)).toEqual(["lib"]);
    expect(fs.readdirSync(path.join(dest, "lib", "modules"))).toEqual(["6.1"]);
    fs.rmSync(dir, { recursive: true });
  });
});
