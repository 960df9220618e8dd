import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { democd, expectOneCleanError, scratch } from "../helpers/cli.ts";
import { REPO } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";

const leftovers = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith(".iso") || f.includes(".tmp-"));

describe("bad input gives one clear line, exit 1 and no partial ISO", () => {
  it("a missing host tool names the apt package", async () => {
    const { dir, buildDir } = scratch();
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, "node"));
    fs.symlinkSync("/bin/sh", path.join(bin, "sh"));
    const r = await democd(["build", "--build-dir", buildDir, "--out", path.join(dir, "x.iso")], { PATH: bin, HOME: dir });
    // The writers are checked before any work: xorriso is the first tool missing.
    expectOneCleanError(r, /^democd: error: xorriso is not installed \(apt-get install xorriso\)$/m);
    expect(leftovers(dir)).toEqual([]);
  });

  it("an unknown package version names the package and how to list versions", async () => {
    const { dir, buildDir } = scratch();
    const r = await democd(["build", "--build-dir", buildDir, "--kernel-version", "0.0.0-nope", "--out", path.join(dir, "x.iso")]);
    expectOneCleanError(r, /^democd: error: package linux-image-amd64 version 0\.0\.0-nope is not known to apt \(.*apt-cache policy linux-image-amd64/m);
    expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("democd:"))).toHaveLength(1);
    expect(leftovers(dir)).toEqual([]);
  });

  describe("the debian profile's bootstrap", () => {
    const bootstrapLeftovers = () => {
      const d = path.join(REPO, "build/cache/bootstrap");
      return fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.includes(".tmp-")) : [];
    };

    it("an unreachable mirror is named", async () => {
      const { dir, buildDir } = scratch();
      const r = await democd(["build", "--build-dir", buildDir, "--mirror", "http://mirror.invalid/debian", "--out", path.join(dir, "x.iso")]);
      expectOneCleanError(r, /^democd: error: mirror http:\/\/mirror\.invalid\/debian is unreachable \([^)]+\) \(check --mirror/m);
      expect(leftovers(dir)).toEqual([]);
    });

    it("a mirror without the suite is named with the suite", async () => {
      const { dir, buildDir } = scratch();
      const r = await democd(["build", "--build-dir", buildDir, "--suite", "nosuchsuite", "--out", path.join(dir, "x.iso")]);
      expectOneCleanError(r, /^democd: error: mirror \S+ has no suite nosuchsuite \(no \S+\/dists\/nosuchsuite\/InRelease\)/m);
      expect(leftovers(dir)).toEqual([]);
    });

    it("an unknown package is named, and no half-made bootstrap is left in the cache", async () => {
      const { dir, buildDir } = scratch();
      const r = await democd(["build", "--build-dir", buildDir, "--packages", "no-such-package-democd", "--out", path.join(dir, "x.iso")]);
      expectOneCleanError(r, /^democd: error: package no-such-package-democd is not in \S+ bookworm/m);
      expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("democd:"))).toHaveLength(1);
      expect(leftovers(dir)).toEqual([]);
      expect(bootstrapLeftovers()).toEqual([]);
    });
  });

  it("bad config values are all reported at once", async () => {
    const { dir, buildDir } = scratch();
    const r = await democd(["build", "--build-dir", buildDir, "--timeout", "abc", "--initrd-compression", "lzma", "--dom0-mem", "lots", "--out", path.join(dir, "x.iso")]);
    expectOneCleanError(r, /invalid configuration/);
    expect(r.stderr).toMatch(/--timeout: must be a whole number, got "abc"/);
    expect(r.stderr).toMatch(/initrd\.compression: /);
    expect(r.stderr).toMatch(/boot\.dom0Mem: /);
  });

  it("an output path in a missing directory", async () => {
    const { dir, buildDir } = scratch();
    const r = await democd(["build", "--build-dir", buildDir, "--out", path.join(dir, "no/such/dir/x.iso")]);
    expectOneCleanError(r, /out: directory .*no\/such\/dir does not exist/);
    // The log says it too, after the run's first line.
    expect(fs.readFileSync(path.join(buildDir, "log/build.log"), "utf8")).toMatch(/^===== democd build .*: profile debian =====\n===== failed: invalid configuration:\n\s+out: directory .*no\/such\/dir does not exist/);
  });

  it("./make.ts runs from any directory, as the user's shell starts it", async () => {
    const r = await execa(path.join(REPO, "make.ts"), ["build", "--help"], { cwd: tempDir("elsewhere"), reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("--from <dir>");
  });

  it("a rootpatch that is not a directory", async () => {
    const { dir, buildDir } = scratch();
    const profile = path.join(dir, "profile");
    fs.cpSync(path.join(REPO, "templates"), path.join(profile, "templates"), { recursive: true });
    fs.writeFileSync(path.join(profile, "rootpatch"), "not a directory");
    const r = await democd(["build", "--build-dir", buildDir, "--profile-dir", profile, "--out", path.join(dir, "x.iso")]);
    expectOneCleanError(r, /rootpatch: .*rootpatch is not a directory/);
    expect(leftovers(dir)).toEqual([]);
  });

  it("a mastering failure leaves the previous ISO untouched and no temporary file", async () => {
    const { dir, buildDir } = scratch();
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    // A xorriso that writes half an image and fails, the way a full disk would.
    fs.writeFileSync(path.join(bin, "xorriso"), '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = -o ] && echo partial > "$2"; shift; done\necho "xorriso : FAILURE : No space left on device" >&2\nexit 5\n', { mode: 0o755 });
    const out = path.join(dir, "x.iso");
    fs.writeFileSync(out, "the user's previous ISO");
    const r = await democd(["build", "--build-dir", buildDir, "--out", out], { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    expectOneCleanError(r, /^democd: error: xorriso failed \(exit 5\): the disk is full: xorriso : FAILURE : No space left on device \(free some space/m);
    expect(fs.readFileSync(out, "utf8")).toBe("the user's previous ISO");
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});
