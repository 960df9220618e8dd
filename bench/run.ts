// npm run bench [-- --no-boot]: democd measured against what a user would otherwise use, side by
// side in one run on the same content. Prints a table and writes build/bench.json. Not a test.
// Keys: the minimal profile's under their historical names, the debian profile's (the ISO users
// boot) under the same names prefixed "debian_".
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { QemuSession, type Firmware } from "../src/boot/qemu.ts";
import { build, createContext } from "../src/build.ts";
import { loadConfig } from "../src/config/load.ts";
import type { EntryId } from "../src/config/schema.ts";
import { GRUB_LIB } from "../src/iso/grub-images.ts";
import { xorrisoArgs } from "../src/iso/xorriso.ts";
import { BOOT_GOALS, debianBoots } from "./boots.ts";
import { liveBuild } from "./livebuild.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const OUT = path.join(REPO, "build", "bench");
const RUNS = 3;
/** Mastering runs per profile: five, as other builds on a shared machine make single runs noisy. */
const MASTER_RUNS = 5;
const PASSWORD = "bench";
const noBoot = process.argv.includes("--no-boot");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = async (fn: () => Promise<unknown>) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
};

type Profile = "minimal" | "debian";

/** A build in its own directory; returns total and master seconds. */
async function democdBuild(buildDir: string, profileDir: string, out: string, format = "iso", profile: Profile = "minimal") {
  const config = loadConfig({ cli: { profile, version: "bench", builder: "bench", rootPassword: PASSWORD, buildDir, profileDir, out, format } });
  const ctx = createContext(config, { quiet: true });
  const total = await seconds(() => build(ctx));
  ctx.log.close();
  const stage = (name: string) => ctx.log.timings.find((t) => t.stage === name)?.seconds ?? 0;
  return { total, master: stage("master"), disk: stage("stage-disk") + stage("raw") + stage("qcow2"), ctx };
}

function profileCopy(): string {
  const dir = path.join(OUT, "profile");
  fs.rmSync(dir, { recursive: true, force: true });
  for (const d of ["rootpatch", "irtree", "templates"]) fs.cpSync(path.join(REPO, d), path.join(dir, d), { recursive: true });
  return dir;
}

/** Every regular file under the trees, for the copy reference. */
function filesUnder(...dirs: string[]): string[] {
  return dirs.flatMap((d) => (fs.readdirSync(d, { recursive: true, withFileTypes: true }) as fs.Dirent[]).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)));
}

async function copyInto(files: string[], out: string): Promise<void> {
  const fd = fs.openSync(out, "w");
  const buf = Buffer.alloc(1 << 20);
  for (const f of files) {
    const src = fs.openSync(f, "r");
    let n: number;
    while ((n = fs.readSync(src, buf, 0, buf.length, null)) > 0) fs.writeSync(fd, buf, 0, n);
    fs.closeSync(src);
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

async function bootLogin(iso: string, entry: EntryId, firmware: Firmware = "bios"): Promise<number> {
  const s = await QemuSession.start({ iso, firmware, memoryMb: 1536, accel: "tcg" });
  try {
    await s.selectEntry(entry);
    await s.waitFor(/login: /, 600);
    return s.elapsed();
  } finally {
    await s.stop();
  }
}

/**
 * One profile's mastering figures, each run side by side (edit + warm build, grub-mkrescue
 * on the same trees, a copy of the same bytes) so a busy machine slows all three alike.
 */
async function mastering(profile: Profile, buildDir: string, profileDir: string) {
  const warm: { total: number; master: number }[] = [];
  const mkrescue: number[] = [];
  const copy: number[] = [];
  const floor: number[] = [];
  const iso = path.join(OUT, `${profile}-warm.iso`);
  const trees = [path.join(buildDir, "usr"), path.join(buildDir, "work")];
  // One build first if the trees do not exist yet (the cache then holds this profile's pieces).
  if (!fs.existsSync(trees[0])) await democdBuild(buildDir, profileDir, iso, "iso", profile);
  // The same input bytes the ISO holds (the trees and GRUB's platform files), copied into one file.
  const inputs = [...filesUnder(...trees), ...filesUnder(path.join(GRUB_LIB, "i386-pc"), path.join(GRUB_LIB, "x86_64-efi"))];
  for (let i = 0; i < MASTER_RUNS; i++) {
    // Warm: the same cache, one rootpatch file edited before each build.
    fs.writeFileSync(path.join(profileDir, "rootpatch/etc/issue"), `democd bench edit ${i} \\n \\l\n\n`);
    const w = await democdBuild(buildDir, profileDir, iso, "iso", profile);
    warm.push(w);
    // xorriso alone with the build's own arguments, writing nowhere: the floor of mastering with xorriso.
    const args = xorrisoArgs({ ...(await w.ctx.source.isoLayout(w.ctx)), out: "stdio:/dev/null", epoch: w.ctx.sourceDateEpoch });
    floor.push(await seconds(() => execa("xorriso", args, { env: { SOURCE_DATE_EPOCH: String(w.ctx.sourceDateEpoch), TZ: "UTC", LC_ALL: "C" } })));
    // grub-mkrescue: the one-command alternative, mastering the same trees (it adds its own GRUB).
    mkrescue.push(await seconds(() => execa("grub-mkrescue", ["-o", path.join(OUT, "mkrescue.iso"), ...trees])));
    copy.push(await seconds(() => copyInto(inputs, path.join(OUT, "copy.bin"))));
  }
  const master = median(warm.map((w) => w.master));
  return {
    master_s: +master.toFixed(2),
    grub_mkrescue_s: +median(mkrescue).toFixed(2),
    copy_s: +median(copy).toFixed(2),
    master_vs_grub_mkrescue: +(master / median(mkrescue)).toFixed(2),
    master_vs_copy: +(master / median(copy)).toFixed(2),
    warm_vs_master: +(median(warm.map((w) => w.total)) / master).toFixed(2),
    xorriso_to_null_s: +median(floor).toFixed(2),
    xorriso_to_null_vs_grub_mkrescue: +(median(floor) / median(mkrescue)).toFixed(2),
    xorriso_to_null_vs_copy: +(median(floor) / median(copy)).toFixed(2),
    warm_build_s: +median(warm.map((w) => w.total)).toFixed(2),
    iso_mb: +(fs.statSync(iso).size / 1e6).toFixed(1),
    input_files: inputs.length,
    input_mb: +(inputs.reduce((s, f) => s + fs.statSync(f).size, 0) / 1e6).toFixed(1),
    iso,
  };
}

/** The debian profile's build directory: its own trees, the repository's cache (the bootstrap is made once, as root). */
function debianBuildDir(): string {
  const dir = path.join(OUT, "debian");
  fs.mkdirSync(dir, { recursive: true });
  const cache = path.join(REPO, "build", "cache");
  fs.mkdirSync(cache, { recursive: true });
  if (!fs.existsSync(path.join(dir, "cache"))) fs.symlinkSync(cache, path.join(dir, "cache"));
  return dir;
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const profile = profileCopy();

  // Cold: an empty cache, so downloads, unpacking, depmod and GRUB images all count.
  const cold = path.join(OUT, "cold");
  fs.rmSync(cold, { recursive: true, force: true });
  const coldRun = await democdBuild(cold, profile, path.join(OUT, "cold.iso"));

  // The default medium, cold too (its own empty cache), and live-build on the same content, in the same run.
  const debianCold = path.join(OUT, "debian-cold");
  fs.rmSync(debianCold, { recursive: true, force: true });
  const debianColdIso = path.join(OUT, "debian-cold.iso");
  const debianColdRun = await democdBuild(debianCold, profile, debianColdIso, "iso", "debian");
  const debianIsoMb = fs.statSync(debianColdIso).size / 1e6;
  fs.rmSync(debianCold, { recursive: true, force: true });
  const lb = await liveBuild(path.join(OUT, "livebuild"));

  const { iso, ...minimal } = await mastering("minimal", cold, profile);
  // The default profile, the ISO users boot: needs root (mmdebstrap); its bootstrap is cached.
  const { iso: debianIso, ...debian } = await mastering("debian", debianBuildDir(), profile);

  // The same trees written as an installed-system qcow2 (staging, the raw disk, the conversion).
  const disk: number[] = [];
  for (let i = 0; i < RUNS; i++) disk.push((await democdBuild(cold, profile, path.join(OUT, "disk"), "qcow2")).disk);

  // Minimal's figures keep their historical keys; the debian profile's are the same names with "debian_" in front.
  const result: Record<string, number | string> = {
    machine: `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${(await execa("df", ["--output=source,fstype", OUT])).stdout.split("\n")[1]?.trim()}`,
    ...minimal,
    cold_build_s: +coldRun.total.toFixed(1),
    disk_build_s: +median(disk).toFixed(2),
    disk_vs_iso: +(median(disk) / minimal.master_s).toFixed(2),
    qcow2_mb: +(fs.statSync(path.join(OUT, "disk.qcow2")).size / 1e6).toFixed(1),
    initrd_mb: +(fs.statSync(path.join(cold, "work/boot/initrd.img")).size / 1e6).toFixed(2),
    ...Object.fromEntries(Object.entries(debian).map(([k, v]) => [`debian_${k}`, v])),
    debian_cold_build_s: +debianColdRun.total.toFixed(1),
    debian_iso_mb: +debianIsoMb.toFixed(1),
    ...(typeof lb === "string"
      ? { livebuild: lb }
      : {
          livebuild_cold_build_s: +lb.seconds.toFixed(1),
          livebuild_iso_mb: +lb.isoMb.toFixed(1),
          debian_cold_build_vs_livebuild: +(debianColdRun.total / lb.seconds).toFixed(2),
          debian_iso_vs_livebuild: +(debianIsoMb / lb.isoMb).toFixed(2),
        }),
  };
  if (!noBoot) {
    result.boot_login_s_xen = +(await bootLogin(iso, "xen")).toFixed(1);
    result.boot_login_s_bare = +(await bootLogin(iso, "linux")).toFixed(1);
    // The same entry through shim and Debian's signed GRUB, OVMF enforcing Secure Boot.
    result.boot_login_s_secure = +(await bootLogin(iso, "linux", "uefi-secure")).toFixed(1);
    Object.assign(result, await debianBoots(OUT, PASSWORD, RUNS));
  }
  const goals: Record<string, number> = { cold_build_vs_livebuild: 0.15, iso_vs_livebuild: 0.7, master_vs_grub_mkrescue: 0.8, master_vs_copy: 1.5, warm_vs_master: 1.3, ...BOOT_GOALS };
  for (const [k, v] of Object.entries(result)) {
    const g = goals[k.replace(/^debian_/, "")];
    const goal = g !== undefined ? `  (goal <= ${g}: ${Number(v) <= g ? "met" : "NOT met"})` : "";
    console.log(`${k.padEnd(33)} ${v}${goal}`);
  }
  fs.writeFileSync(path.join(REPO, "build", "bench.json"), JSON.stringify(result, null, 2) + "\n");
  for (const f of ["mkrescue.iso", "copy.bin", "cold.iso", "debian-cold.iso", "disk.qcow2", path.basename(debianIso)]) {
    for (const g of [f, `${f}.sha256`]) fs.rmSync(path.join(OUT, g), { force: true });
  }
}

await main();
