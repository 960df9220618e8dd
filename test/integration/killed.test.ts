import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import { fileSha256 } from "../../src/hash.ts";
import { FORMAT_NAMES, outputPath } from "../../src/outputs/formats.ts";
import { democd, scratch } from "../helpers/cli.ts";
import { REPO, TEST_PASSWORD, TEST_SSH_KEY } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";
import { needTools } from "../helpers/tools.ts";

const diskBase = inject("diskBase");
const debianIso = inject("debianIsoPath");

/** The suite's minimal build (test/setup/build-iso.ts) again: the same bytes are the reference. */
const MINIMAL = ["build", "--profile", "minimal", "--version", "9.9-test", "--root-password", TEST_PASSWORD, "--timeout", "3", "--builder", "democd-tests"];
/** Every writer. */
const FORMATS = FORMAT_NAMES;
/** Every stage and writer of that build, in order: a kill lands in each (the installer stage is the debian profile's). */
const STAGES = ["fetch", "root", "assemble", "render", "pack", "stage-disk", "master", "raw", "qcow2", "vhd", "vhd-fixed", "vmdk", "ova"];
/** The suite's default debian build (test/setup/build-iso.ts), and its stages. */
const DEBIAN = (key: string) => ["build", "--version", "9.9-test", "--timeout", "3", "--builder", "democd-tests", "--ssh-key", key];
const DEBIAN_STAGES = ["fetch", "root", "assemble", "render", "pack", "installer", "master"];

/** The caller's environment without SOURCE_DATE_EPOCH: the reference derived its epoch too. */
function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.SOURCE_DATE_EPOCH;
  return e;
}

/** Start ./make.ts in its own process group, so that a kill reaches the tools it runs too. */
function startBuild(args: string[]): { pid: number; done: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO, "make.ts"), ...args], { cwd: REPO, detached: true, stdio: "ignore", env: env() });
  return { pid: child.pid!, done: new Promise((r) => child.on("exit", (code) => r(code))) };
}

/** The stage the build's log last began, once it begins `stage`, or after it (a stage too short to catch). */
async function waitForStage(log: string, stage: string, done: () => boolean, order = STAGES): Promise<string | undefined> {
  const begun = () => (fs.existsSync(log) ? [...fs.readFileSync(log, "utf8").matchAll(/^== stage (\S+)$/gm)].map((m) => m[1]) : []);
  for (let i = 0; i < 1200 && !done(); i++) {
    const stages = begun();
    if (stages.includes(stage) || order.indexOf(stages.at(-1) ?? "") > order.indexOf(stage)) return stages.at(-1);
    await new Promise((r) => setTimeout(r, 25));
  }
  return undefined;
}

/** What must not be there after any build, finished or killed and followed by a clean one. */
function temporaries(...dirs: string[]): string[] {
  return dirs.flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d, { recursive: true }) as string[] : []).filter((n) => /\.tmp-|\.unpack-|\.stale-/.test(n)).map((n) => path.join(d, n)));
}

describe("a build killed at any moment leaves nothing that poisons the next", () => {
  it("SIGKILL inside every stage and writer: the next build gives the reference's bytes, and no temporaries are left", async () => {
    await needTools("xorriso", "qemu-img");
    const reference = Object.fromEntries(await Promise.all(FORMATS.map(async (f) => [f, await fileSha256(outputPath(diskBase, f))] as const)));
    const { dir, buildDir } = scratch();
    const hit: string[] = [];
    for (const [round, stage] of STAGES.entries()) {
      // The reference's own name: a VMDK's descriptor (and so the OVA) names its file.
      const out = path.join(dir, `round-${round}`, path.basename(diskBase));
      fs.mkdirSync(path.dirname(out));
      const args = [...MINIMAL, "--format", FORMATS.join(","), "--build-dir", buildDir, "--out", out];
      // This build's log only: the last one's stage lines must not be taken for its own.
      fs.rmSync(path.join(buildDir, "log"), { recursive: true, force: true });
      const b = startBuild(args);
      let finished = false;
      b.done.then(() => (finished = true));
      const at = await waitForStage(path.join(buildDir, "log/build.log"), stage, () => finished);
      // Into the stage: long ones get a moment, short ones are killed as soon as seen.
      await new Promise((r) => setTimeout(r, ["raw", "vhd", "master"].includes(stage) ? 400 : 0));
      try {
        process.kill(-b.pid, "SIGKILL");
      } catch {
        // it finished first
      }
      await b.done;
      const log = fs.readFileSync(path.join(buildDir, "log/build.log"), "utf8");
      expect(log, `round ${round}: the build finished before the kill`).not.toMatch(/^stage times:/m);
      expect(at, `round ${round}: killed before any stage began`).toBeDefined();
      hit.push(`${stage}->${at}`);
      // Nothing half-written under an output's name: each is absent, or complete with its .sha256.
      for (const f of FORMATS) {
        const file = outputPath(out, f);
        if (fs.existsSync(file)) expect(await fileSha256(file), `round ${round}: ${file}`).toBe(reference[f]);
      }
      const r = await democd(args, env());
      expect(r.exitCode, r.stderr).toBe(0);
      for (const f of FORMATS) expect(await fileSha256(outputPath(out, f)), `round ${round} (${stage}): ${f}`).toBe(reference[f]);
      expect(temporaries(path.dirname(out), buildDir, path.join(REPO, "build/cache")), `round ${round}`).toEqual([]);
      for (const f of FORMATS) fs.rmSync(outputPath(out, f));
    }
    process.stderr.write(`  kill points (stage asked -> stage the log showed): ${hit.join(", ")}\n`);
    expect(hit).toHaveLength(STAGES.length);
  });

  it("a damaged cache entry is said in one line and made again, never used: a .deb cut short, an initrd changed, a package's tree changed, a modules tree half-written", async () => {
    await needTools("xorriso", "apt-get");
    const base = tempDir("damaged");
    const buildDir = path.join(base, "build");
    const cache = path.join(buildDir, "cache");
    fs.mkdirSync(buildDir);
    // A private cache of links to the shared one; what is damaged is first made a copy of its own.
    await execa("cp", ["-al", path.join(REPO, "build/cache"), cache]);
    const own = (f: string) => {
      const data = fs.readFileSync(f);
      fs.rmSync(f);
      fs.writeFileSync(f, data);
    };
    const pkgs = path.join(cache, "pkgs");
    const busybox = fs.readdirSync(pkgs).find((d) => /^busybox-static_[^_]+_amd64$/.test(d))!;
    fs.rmSync(path.join(pkgs, busybox), { recursive: true });
    const deb = path.join(cache, "debs", `${busybox}.deb`);
    own(deb);
    fs.truncateSync(deb, 4096);
    const initrd = fs.readdirSync(path.join(cache, "initrd")).filter((f) => f.endsWith(".gzip")).map((f) => path.join(cache, "initrd", f));
    for (const f of initrd) {
      own(f);
      const fd = fs.openSync(f, "r+");
      fs.writeSync(fd, Buffer.from([0x42]), 0, 1, 1000);
      fs.closeSync(fd);
    }
    // One byte of the kernel package's unpacked tree (its own copy, with the shared one's bytes).
    const kernel = path.join(pkgs, fs.readdirSync(pkgs).find((d) => /^linux-image-[^_]+_[^_]+_amd64$/.test(d))!);
    const config = path.join("boot", fs.readdirSync(path.join(kernel, "boot")).find((f) => f.startsWith("config-"))!);
    own(path.join(kernel, config));
    const fd = fs.openSync(path.join(kernel, config), "r+");
    fs.writeSync(fd, Buffer.from("X"), 0, 1, 0);
    fs.closeSync(fd);
    const pruned = fs.readdirSync(pkgs).filter((d) => /\.pruned-[0-9a-f]+$/.test(d) && !d.includes("modules-xz"));
    expect(pruned.length).toBeGreaterThan(0);
    for (const d of pruned) {
      fs.rmSync(path.join(pkgs, d), { recursive: true });
      fs.mkdirSync(path.join(pkgs, `${d}.tmp-999999`, "lib", "modules"), { recursive: true });
    }

    const out = path.join(base, "demo.iso");
    const r = await democd([...MINIMAL, "--build-dir", buildDir, "--out", out], env());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: cache: ${deb} is damaged (its sha256 is not the archive's): downloading it again`);
    expect(r.stderr).toMatch(/warning: cache: .*\/initrd\/[0-9a-f]+\.gzip is damaged \(its sha256 is not the one recorded when it was made\): making it again/);
    expect(r.stderr).toContain(`warning: cache: ${kernel} is damaged (${config} changed): making it again`);
    expect(r.stderr).toMatch(/warning: removed .*\.pruned-[0-9a-f]+\.tmp-999999, left by a build that was stopped half-way/);
    expect(await fileSha256(out)).toBe(await fileSha256(`${diskBase}.iso`));
    expect(temporaries(cache, base)).toEqual([]);
  });

  it("a debian build killed inside its installer stage (the debian profile's own): the next gives the reference's bytes", async () => {
    await needTools("xorriso", "mmdebstrap");
    const { dir, buildDir } = scratch();
    const key = path.join(dir, "id_ed25519.pub");
    fs.copyFileSync(`${TEST_SSH_KEY}.pub`, key);
    const out = path.join(dir, "demo.iso");
    const args = [...DEBIAN(key), "--build-dir", buildDir, "--out", out];
    const b = startBuild(args);
    let finished = false;
    b.done.then(() => (finished = true));
    const at = await waitForStage(path.join(buildDir, "log/build.log"), "installer", () => finished, DEBIAN_STAGES);
    try {
      process.kill(-b.pid, "SIGKILL");
    } catch {
      // it finished first
    }
    await b.done;
    expect(fs.readFileSync(path.join(buildDir, "log/build.log"), "utf8"), "the build finished before the kill").not.toMatch(/^stage times:/m);
    expect(at).toBeDefined();
    process.stderr.write(`  debian kill point (stage asked -> stage the log showed): installer->${at}\n`);
    expect(fs.existsSync(out)).toBe(false);
    const r = await democd(args, env());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await fileSha256(out)).toBe(await fileSha256(debianIso));
    expect(temporaries(dir, path.join(REPO, "build/cache"))).toEqual([]);
  });

  it("two builds started together in one build directory: one waits, saying for which, and both give their references", async () => {
    await needTools("xorriso", "mmdebstrap");
    const { dir, buildDir } = scratch();
    const key = path.join(dir, "id_ed25519.pub");
    fs.copyFileSync(`${TEST_SSH_KEY}.pub`, key);
    const a = path.join(dir, "a.iso");
    const b = path.join(dir, "b.iso");
    const [ra, rb] = await Promise.all([
      democd([...MINIMAL, "--build-dir", buildDir, "--out", a], env()),
      democd([...DEBIAN(key), "--build-dir", buildDir, "--out", b], env()),
    ]);
    expect(ra.exitCode, ra.stderr).toBe(0);
    expect(rb.exitCode, rb.stderr).toBe(0);
    const waited = [ra.stderr, rb.stderr].filter((s) => /waiting for the build of .*\.iso \(pid \d+\) to finish: it holds .*\.lock/.test(s));
    expect(waited).toHaveLength(1);
    expect(await fileSha256(a)).toBe(await fileSha256(`${diskBase}.iso`));
    expect(await fileSha256(b)).toBe(await fileSha256(debianIso));
  });
});
