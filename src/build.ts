import fs from "node:fs";
import path from "node:path";
import type { Config } from "./config/schema.ts";
import { buildPaths, type BuildContext, type Source } from "./context.ts";
import { envSourceDateEpoch } from "./epoch.ts";
import { requireTools } from "./exec.ts";
import { acquireLock } from "./lock.ts";
import { Logger } from "./log.ts";
import { stageDisk, writeDiskOutputs } from "./outputs/disk.ts";
import { OUTPUT_FORMATS, outputPath, type FormatName } from "./outputs/formats.ts";
import { writeIso } from "./outputs/iso.ts";
import { preflight } from "./preflight.ts";
import { openSource } from "./sources/index.ts";
import { assemble } from "./stages/assemble.ts";
import { writeInstallKit } from "./stages/installer.ts";
import { packInitrd, packRoot } from "./stages/pack.ts";
import { sweepTemporaries } from "./sweep.ts";

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** How many builds' logs build/log/ keeps (build.log, build.log.1, ...). */
const LOGS_KEPT = 5;

/**
 * One build's context: the config, its source (an unpacked medium with `from`, else the
 * configured profile) and a log of its own under the build directory.
 */
export function createContext(config: Config, options: { verbose?: boolean; quiet?: boolean; from?: string; source?: Source } = {}): BuildContext {
  // Modes of what democd creates must not depend on the caller's umask.
  process.umask(0o022);
  const source = options.source ?? openSource(config, options.from);
  const paths = buildPaths(config.buildDir);
  fs.mkdirSync(paths.build, { recursive: true });
  Logger.rotate(paths.log, LOGS_KEPT);
  const log = new Logger({ verbose: options.verbose, quiet: options.quiet, file: paths.log });
  log.record(`===== democd build ${new Date().toISOString()}: ${source.label} =====`);
  const fromEnv = envSourceDateEpoch();
  return { config, source, log, paths, sourceDateEpoch: fromEnv ?? 0, epochFromEnv: fromEnv !== undefined };
}

export type BuildResult = { outputs: BuildOutput[]; iso?: string; sha256?: string; bytes?: number };

export interface BuildOutput {
  format: FormatName;
  file: string;
  bytes: number;
  sha256: string;
}

/**
 * The build, one script of stages over one context. The source makes the trees and facts
 * (fetch, root, its part of assemble, render); the stages and writers after it are the same
 * whatever it is. Everything that can be checked is checked before any work.
 */
export async function build(ctx: BuildContext): Promise<BuildResult> {
  const { log } = ctx;
  preflight(ctx.config, ctx.source);
  await checkWriters(ctx);
  const outputs = ctx.config.formats.map((f) => outputPath(path.resolve(ctx.config.out), f));
  // One build at a time per cache (and so per build directory): the second waits, saying for which.
  fs.mkdirSync(ctx.paths.cache, { recursive: true });
  const cache = fs.realpathSync(ctx.paths.cache);
  const release = await acquireLock(path.join(cache, ".lock"), `the build of ${outputs.map((o) => path.relative(process.cwd(), o) || o).join(", ")}`, log);
  try {
    for (const p of sweepTemporaries(cache, outputs)) log.warn(`removed ${p}, left by a build that was stopped half-way`);
    return await stages(ctx);
  } finally {
    release();
  }
}

/** The stages and writers, in order, once everything is checked and the cache is this build's. */
async function stages(ctx: BuildContext): Promise<BuildResult> {
  const { log, source } = ctx;
  const same = (s: string) => s;
  await source.check(ctx);
  await log.stage("fetch", () => source.fetch(ctx), same);
  if (source.system) {
    await log.stage("root", () => source.root(ctx), same);
    await log.stage("assemble", () => assemble(ctx), same);
    await log.stage("render", () => source.render(ctx), same);
    await log.stage("pack", async () => {
      const root = packRoot(ctx);
      const initrd = await packInitrd(ctx);
      return `root.tar.gz ${mb(root)}, initrd.img ${mb(initrd.bytes)} (${initrd.compression}${initrd.reused ? ", unchanged: reused" : ""})`;
    }, same);
    // democd-install's kit goes onto the medium once the root and initrd it installs are made.
    if (source.installer) {
      await log.stage("installer", () => writeInstallKit(ctx), (r) => `democd-install kit; it needs a disk of ${Math.ceil(r.minBytes / 2 ** 20)} MiB or more`);
    }
  }
  const outputs = await writeOutputs(ctx);
  log.info(`stage times: ${log.timingSummary()}`);
  const iso = outputs.find((o) => o.format === "iso");
  return { outputs, ...(iso && { iso: iso.file, sha256: iso.sha256, bytes: iso.bytes }) };
}

/** Every writer's tools, before any work. */
async function checkWriters(ctx: BuildContext): Promise<void> {
  const disks = ctx.config.formats.filter((f) => OUTPUT_FORMATS[f].disk);
  if (ctx.config.formats.includes("iso")) await requireTools("xorriso");
  if (disks.length) await requireTools("sfdisk", "grub-mkimage", "mformat", "mmd", "mcopy", "mkfs.ext4", "debugfs", ...(disks.some((f) => f !== "raw") ? ["qemu-img" as const] : []), ...(disks.includes("ova") ? ["tar" as const] : []));
}

/** The writers: the ISO from the trees, disk images from one raw disk staged from the same trees. */
export async function writeOutputs(ctx: BuildContext): Promise<BuildOutput[]> {
  const { log } = ctx;
  const formats = ctx.config.formats;
  const outputs: BuildOutput[] = [];
  const disks = formats.filter((f) => OUTPUT_FORMATS[f].disk);
  // Staged first: a disk size too small or a full output directory fails before anything is written.
  const staged = disks.length ? await log.stage("stage-disk", async () => stageDisk(ctx), (s) => `installed-system tree, disk ${Math.ceil(s.layout.size / 1048576)} MiB`) : undefined;
  if (formats.includes("iso")) {
    const r = await log.stage("master", () => writeIso(ctx), (r) => `${path.relative(process.cwd(), r.file)} ${mb(r.bytes)}`);
    outputs.push({ format: "iso", ...r });
  }
  if (staged) outputs.push(...(await writeDiskOutputs(ctx, disks, staged)));
  return outputs;
}
