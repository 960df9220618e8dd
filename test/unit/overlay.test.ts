import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { overlayTree } from "../../src/overlay.ts";
import { tempDir } from "../helpers/temp.ts";

function dirs() {
  const base = tempDir("overlay");
  const [src, root, outside] = ["src", "root", "outside"].map((d) => path.join(base, d));
  for (const d of [src, root, outside]) fs.mkdirSync(d);
  return { src, root, outside };
}

describe("overlayTree", () => {
  it("copies files, directories, symlinks and modes", () => {
    const { src, root } = dirs();
    fs.mkdirSync(path.join(src, "etc/init.d"), { recursive: true });
    fs.writeFileSync(path.join(src, "etc/init.d/S10demo"), "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(path.join(src, "etc/secret"), "x", { mode: 0o600 });
    fs.symlinkSync("/proc/mounts", path.join(src, "etc/mtab"));
    expect(overlayTree(src, root)).toBe(3);
    expect(fs.statSync(path.join(root, "etc/init.d/S10demo")).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(root, "etc/secret")).mode & 0o777).toBe(0o600);
    expect(fs.readlinkSync(path.join(root, "etc/mtab"))).toBe("/proc/mounts");
  });

  it("renders .ejs files through the given function", () => {
    const { src, root } = dirs();
    fs.writeFileSync(path.join(src, "motd.ejs"), "hello");
    overlayTree(src, root, { render: (rel, text) => `${rel}: ${text.toUpperCase()}` });
    expect(fs.readFileSync(path.join(root, "motd"), "utf8")).toBe("motd: HELLO");
  });

  it("refuses to write through a symlinked directory in the root, and changes nothing outside", () => {
    const { src, root, outside } = dirs();
    fs.mkdirSync(path.join(src, "etc"));
    fs.writeFileSync(path.join(src, "etc/passwd"), "evil");
    fs.symlinkSync(outside, path.join(root, "etc"));
    expect(() => overlayTree(src, root, { label: "rootpatch" })).toThrow(/rootpatch\/etc: the root's etc is a symlink .*refusing to write through it/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it("refuses a symlinked parent deeper down too", () => {
    const { src, root, outside } = dirs();
    fs.mkdirSync(path.join(src, "var/lib"), { recursive: true });
    fs.writeFileSync(path.join(src, "var/lib/x"), "x");
    fs.mkdirSync(path.join(root, "var"));
    fs.symlinkSync(outside, path.join(root, "var/lib"));
    expect(() => overlayTree(src, root, { label: "rootpatch" })).toThrow(/symlink/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it("replaces a file symlink in the root instead of following it", () => {
    const { src, root, outside } = dirs();
    fs.writeFileSync(path.join(outside, "target"), "original");
    fs.writeFileSync(path.join(src, "f"), "new");
    fs.symlinkSync(path.join(outside, "target"), path.join(root, "f"));
    overlayTree(src, root);
    expect(fs.lstatSync(path.join(root, "f")).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(outside, "target"), "utf8")).toBe("original");
  });
});
