import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cachedTree } from "../../src/cache-tree.ts";
import { Logger } from "../../src/log.ts";
import { tempDir } from "../helpers/temp.ts";

function setup() {
  const dir = tempDir("cachetree");
  const file = path.join(dir, "log");
  const log = new Logger({ file, quiet: true });
  const entry = path.join(dir, "pkgs", "demo_1.0_amd64");
  let made = 0;
  const make = async (tmp: string) => {
    made++;
    fs.mkdirSync(path.join(tmp, "usr", "bin"), { recursive: true });
    fs.writeFileSync(path.join(tmp, "usr", "bin", "tool"), "a program's bytes, long enough to flip one", { mode: 0o755 });
    fs.writeFileSync(path.join(tmp, "usr", "data"), "data");
    fs.symlinkSync("bin/tool", path.join(tmp, "usr", "link"));
  };
  const use = () => cachedTree(entry, make, log);
  return { dir, entry, use, made: () => made, text: () => fs.readFileSync(file, "utf8"), log };
}

describe("a cache tree is used only while it is what was sealed", () => {
  it("made once, then reused without being made again", async () => {
    const t = setup();
    expect(await t.use()).toEqual({ dir: t.entry, reused: false });
    expect(await t.use()).toEqual({ dir: t.entry, reused: true });
    expect(t.made()).toBe(1);
    expect(fs.existsSync(`${t.entry}.seal.json`)).toBe(true);
    expect(fs.readdirSync(path.dirname(t.entry)).sort()).toEqual(["demo_1.0_amd64", "demo_1.0_amd64.seal.json"]);
    t.log.close();
  });

  const damage: [string, (entry: string) => void, string][] = [
    [
      "a byte flipped in a file",
      (e) => {
        const f = path.join(e, "usr", "bin", "tool");
        const b = fs.readFileSync(f);
        b[10] ^= 1;
        fs.writeFileSync(f, b);
      },
      "usr/bin/tool changed",
    ],
    ["a file cut short", (e) => fs.truncateSync(path.join(e, "usr", "bin", "tool"), 3), "usr/bin/tool changed"],
    ["a file removed", (e) => fs.rmSync(path.join(e, "usr", "data")), "usr/data is missing"],
    ["a file added", (e) => fs.writeFileSync(path.join(e, "usr", "extra"), "x"), "usr/extra was not in it"],
    ["a mode changed", (e) => fs.chmodSync(path.join(e, "usr", "data"), 0o777), "usr/data changed"],
    [
      "a symlink pointed elsewhere",
      (e) => {
        fs.rmSync(path.join(e, "usr", "link"));
        fs.symlinkSync("/etc/shadow", path.join(e, "usr", "link"));
      },
      "usr/link changed",
    ],
  ];
  for (const [what, hurt, said] of damage) {
    it(`${what}: said in one line, and the tree made again`, async () => {
      const t = setup();
      await t.use();
      hurt(t.entry);
      expect(await t.use()).toEqual({ dir: t.entry, reused: false });
      expect(t.made()).toBe(2);
      expect(t.text()).toContain(`warning: cache: ${t.entry} is damaged (${said}): making it again`);
      expect(fs.readFileSync(path.join(t.entry, "usr", "bin", "tool"), "utf8")).toBe("a program's bytes, long enough to flip one");
      expect(fs.readlinkSync(path.join(t.entry, "usr", "link"))).toBe("bin/tool");
      expect(await t.use()).toEqual({ dir: t.entry, reused: true });
      t.log.close();
    });
  }

  it("a file written with the same bytes is hashed again, found unchanged, and its new fingerprint recorded", async () => {
    const t = setup();
    await t.use();
    const f = path.join(t.entry, "usr", "data");
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(f, later, later);
    expect(await t.use()).toEqual({ dir: t.entry, reused: true });
    expect(t.made()).toBe(1);
    const seal = JSON.parse(fs.readFileSync(`${t.entry}.seal.json`, "utf8")) as { entries: Record<string, unknown[]> };
    expect(seal.entries["usr/data"][6]).toBe(`${fs.statSync(f).ino}:4:${fs.statSync(f).mtimeMs}`);
    t.log.close();
  });

  it("a tree with no seal (an older democd's) is made again, noted in the log only", async () => {
    const t = setup();
    await t.use();
    fs.rmSync(`${t.entry}.seal.json`);
    expect(await t.use()).toEqual({ dir: t.entry, reused: false });
    expect(t.text()).toContain(`cache: ${t.entry} has no seal (made by an older democd): making it again`);
    expect(t.text()).not.toContain("warning:");
    t.log.close();
  });

  it("a failed make leaves no tree, no seal and no temporary", async () => {
    const t = setup();
    const failing = cachedTree(
      t.entry,
      async (tmp) => {
        fs.mkdirSync(tmp);
        fs.writeFileSync(path.join(tmp, "half"), "x");
        throw new Error("killed half-way");
      },
      t.log,
    );
    await expect(failing).rejects.toThrow("killed half-way");
    expect(fs.readdirSync(path.dirname(t.entry))).toEqual([]);
    t.log.close();
  });
});
