// npm run bench [-- --no-boot]: democd measured against what a user would otherwise use, side by
// side in one run on the same content. Prints a table and writes build/bench.json. Not a test.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { QemuSession } from "../src/boot/qemu.ts";
import { build, createContext } from "../src/build.ts";
import { loadConfig } from "../src/config/load.ts";
import type { EntryId } from "../src/config/schema.ts";
import { GRUB_LIB } from "../src/iso/grub-images.ts";
import { BOOT_GOALS, debianBoots } from "./boots.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const OUT = path.join(REPO, "build", "bench");
const RUNS = 3;
const PASSWORD = "bench";
const noBoot = process.argv.includes("--no-boot");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = async (fn: () => Promise<unknown>) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
};

/** A build in its own directory; returns total and master seconds. */
async function democdBuild(buildDir: string, profileDir: string, out: string, format = "iso") {
  const config = loadConfig({ cli: { profile: "minimal", version: "bench", builder: "bench", rootPassword: PASSWORD, buildDir, profileDir, out, format } });
  const ctx = createContext(config, { quiet: true });
  const total = await seconds(() => build(ctx));
  ctx.log.close();
  const stage = (name: string) => ctx.log.timings.find((t) => t.stage === name)?.seconds ?? 0;
  return { total, master: stage("master"), disk: stage("stage-disk") + stage("raw") + stage("qcow2") };
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

async function bootLogin(iso: string, entry: EntryId): Promise<number> {
  const s = await QemuSession.start({ iso, firmware: "bios", memoryMb: 1536, accel: "tcg" });
  try {
    await s.selectEntry(entry);
    await s.waitFor(/login: /, 600);
    return s.elapsed();
  } finally {
    await s.stop();
  }
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const profile = profileCopy();

  // Cold: an empty cache, so downloads, unpacking, depmod and GRUB images all count.
  const cold = path.join(OUT, "cold");
  fs.rmSync(cold, { recursive: true, force: true });
  const coldRun = await democdBuild(cold, profile, path.join(OUT, "cold.iso"));

  // Warm: the same cache, one rootpatch file edited before each build.
  const warm: { total: number; master: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    fs.writeFileSync(path.join(profile, "rootpatch/etc/issue"), `democd bench edit ${i} \\n \\l\n\n`);
    warm.push(await democdBuild(cold, profile, path.join(OUT, "warm.iso")));
  }
  const iso = path.join(OUT, "warm.iso");
  const trees = [path.join(cold, "usr"), path.join(cold, "work")];

  // grub-mkrescue: the one-command alternative, mastering the same trees (it adds its own GRUB).
  const mkrescue: number[] = [];
  for (let i = 0; i < RUNS; i++) mkrescue.push(await seconds(() => execa("grub-mkrescue", ["-o", path.join(OUT, "mkrescue.iso"), ...trees])));

  // The disk's limit: the same input bytes copied into one file.
  const inputs = [...filesUnder(...trees), ...filesUnder(path.join(GRUB_LIB, "i386-pc"), path.join(GRUB_LIB, "x86_64-efi"))];
  const copy: number[] = [];
  for (let i = 0; i < RUNS; i++) copy.push(await seconds(() => copyInto(inputs, path.join(OUT, "copy.bin"))));

  // The same trees written as an installed-system qcow2 (staging, the raw disk, the conversion).
  const disk: number[] = [];
  for (let i = 0; i < RUNS; i++) disk.push((await democdBuild(cold, profile, path.join(OUT, "disk"), "qcow2")).disk);

  const master = median(warm.map((w) => w.master));
  const result: Record<string, number | string> = {
    machine: `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${(await execa("df", ["--output=source,fstype", OUT])).stdout.split("\n")[1]?.trim()}`,
    master_s: +master.toFixed(2),
    grub_mkrescue_s: +median(mkrescue).toFixed(2),
    copy_s: +median(copy).toFixed(2),
    master_vs_grub_mkrescue: +(master / median(mkrescue)).toFixed(2),
    master_vs_copy: +(master / median(copy)).toFixed(2),
    warm_vs_master: +(median(warm.map((w) => w.total)) / master).toFixed(2),
    cold_build_s: +coldRun.total.toFixed(1),
    warm_build_s: +median(warm.map((w) => w.total)).toFixed(2),
    disk_build_s: +median(disk).toFixed(2),
    disk_vs_iso: +(median(disk) / master).toFixed(2),
    qcow2_mb: +(fs.statSync(path.join(OUT, "disk.qcow2")).size / 1e6).toFixed(1),
    iso_mb: +(fs.statSync(iso).size / 1e6).toFixed(1),
    initrd_mb: +(fs.statSync(path.join(cold, "work/boot/initrd.img")).size / 1e6).toFixed(2),
    input_files: inputs.length,
    input_mb: +(inputs.reduce((s, f) => s + fs.statSync(f).size, 0) / 1e6).toFixed(1),
  };
  if (!noBoot) {
    result.boot_login_s_xen = +(await bootLogin(iso, "xen")).toFixed(1);
    result.boot_login_s_bare = +(await bootLogin(iso, "linux")).toFixed(1);
    Object.assign(result, await debianBoots(OUT, PASSWORD, RUNS));
  }
  const goals: Record<string, number> = { master_vs_grub_mkrescue: 0.8, master_vs_copy: 1.5, warm_vs_master: 1.3, ...BOOT_GOALS };
  for (const [k, v] of Object.entries(result)) {
    const goal = goals[k] !== undefined ? `  (goal <= ${goals[k]}: ${Number(v) <= goals[k] ? "met" : "NOT met"})` : "";
    console.log(`${k.padEnd(26)} ${v}${goal}`);
  }
  fs.writeFileSync(path.join(REPO, "build", "bench.json"), JSON.stringify(result, null, 2) + "\n");
  for (const f of ["mkrescue.iso", "copy.bin", "cold.iso", "disk.qcow2"]) fs.rmSync(path.join(OUT, f), { force: true });
}

await main();
