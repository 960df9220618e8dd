import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import { expectOneCleanError, scratch } from "../helpers/cli.ts";
import { REPO } from "../helpers/paths.ts";
import { needTools } from "../helpers/tools.ts";

const iso = inject("isoPath");
const LEFT = "left on the small disk:";

/**
 * Run ./make.ts with a small, real disk (a 40 MB tmpfs) mounted on `mountpoint`, in a
 * mount namespace of its own so nothing stays mounted (and no root is needed where user
 * namespaces are allowed); stdout ends with what the command left on that disk.
 */
async function democdWithSmallDisk(mountpoint: string, args: string[]) {
  await needTools("unshare", "xorriso");
  fs.mkdirSync(mountpoint, { recursive: true });
  const script = `mount -t tmpfs -o size=40m democd-small "$0" || exit 99; "$@"; rc=$?; echo "${LEFT} $(ls -A "$0")"; exit $rc`;
  const userns = process.getuid?.() === 0 ? [] : ["--map-root-user"];
  const node = [process.execPath, "--import", "tsx", path.join(REPO, "make.ts")];
  return execa("unshare", [...userns, "--mount", "--propagation", "private", "sh", "-c", script, mountpoint, ...node, ...args], { cwd: REPO, reject: false });
}

describe("a disk too small for the output", () => {
  it("build names the ISO's directory with what it needs and what is free, and writes nothing there", async () => {
    const { dir, buildDir } = scratch();
    const small = path.join(dir, "small");
    const r = await democdWithSmallDisk(small, ["build", "--profile", "minimal", "--build-dir", buildDir, "--out", path.join(small, "x.iso")]);
    expectOneCleanError(r, /^democd: error: not enough free space in \S+\/small for the ISO x\.iso: needs about \d{3} MB, 4\d MB free \(free some space/m);
    expect(r.stdout.trim().split("\n").at(-1)).toBe(LEFT);
  });

  it("a disk-image build names the images' directory before writing anything, the ISO included", async () => {
    const { dir, buildDir } = scratch();
    const small = path.join(dir, "small");
    const r = await democdWithSmallDisk(small, ["build", "--profile", "minimal", "--format", "iso,qcow2", "--build-dir", buildDir, "--out", path.join(small, "x")]);
    expectOneCleanError(r, /^democd: error: not enough free space in \S+\/small for the disk images \(qcow2\): needs about \d+ MB, 4\d MB free/m);
    expect(r.stdout.trim().split("\n").at(-1)).toBe(LEFT);
  });

  it("unpack-iso names the target's directory and leaves no half-made tree", async () => {
    const { dir } = scratch();
    const small = path.join(dir, "small");
    const r = await democdWithSmallDisk(small, ["unpack-iso", iso, path.join(small, "mydemo")]);
    expectOneCleanError(r, /^democd: error: not enough free space in \S+\/small for unpacking democd-test\.iso: needs about \d{3} MB, 4\d MB free/m);
    expect(r.stdout.trim().split("\n").at(-1)).toBe(LEFT);
  });
});
