import fs from "node:fs";
import path from "node:path";
import { sha256 } from "../hash.ts";
import { run } from "../exec.ts";
import { cachedTree } from "../cache-tree.ts";
import { linkTree } from "../fsutil.ts";
import type { Logger } from "../log.ts";

/**
 * xz -2 with CRC32 (the kernel's own choice for .ko.xz): measured on this kernel's modules,
 * 4.5x smaller at ~7 MB/s per core; -6 gains 7 % more at a quarter of the speed. kmod and
 * busybox modprobe both load .ko.xz. --force: the files to compress are hard links (see
 * compressedModules), which xz skips otherwise.
 */
export const XZ_MODULE_ARGS = ["-2", "--check=crc32", "-T1", "--force", "--"];

/** Files per xz call: short command lines, and work to spread over the cores. */
const BATCH = 400;

export function moduleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(".ko")) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Split a list into batches dealt round-robin to `lanes` workers. */
export function lanesOf<T>(items: readonly T[], batch: number, lanes: number): T[][][] {
  const out: T[][][] = Array.from({ length: lanes }, () => []);
  for (let i = 0, b = 0; i < items.length; i += batch, b++) out[b % lanes].push(items.slice(i, i + batch));
  return out;
}

/**
 * The kernel's modules as the medium carries them: those not excluded, each xz-compressed, and
 * modules.dep made for the new names, kept in the cache beside the package (made once per kernel
 * package version and exclusion list, under a temporary name until complete). Only what the
 * medium keeps is compressed, and depmod reads the compressed tree once. The initrd keeps plain
 * modules for busybox insmod.
 */
export async function compressedModules(pkgDir: string, release: string, exclude: readonly string[], lanes: number, log: Logger): Promise<string> {
  return cachedModuleTree(prunedBase(`${pkgDir}.modules-xz`, exclude), release, log, async (tmpDir) => {
    // Hard links, not copies: xz writes each .ko.xz as a new file and removes the link, so the package's files never change.
    linkTree(path.join(pkgDir, "lib", "modules", release), tmpDir, keptModule(exclude));
    const files = moduleFiles(tmpDir);
    let done = 0;
    await Promise.all(
      lanesOf(files, BATCH, Math.max(1, lanes)).map(async (batches) => {
        for (const b of batches) {
          await run("xz", [...XZ_MODULE_ARGS, ...b], { background: true });
          done += b.length;
          log.progress(`compressing kernel modules: ${done}/${files.length}`);
        }
      }),
    );
  });
}

/**
 * A module tree in the cache at BASE/lib/modules/RELEASE: made by `fill` under a temporary
 * name, given its own modules.dep, sealed and renamed only when complete (cachedTree).
 */
async function cachedModuleTree(base: string, release: string, log: Logger, fill: (tmpDir: string) => Promise<void>): Promise<string> {
  await cachedTree(
    base,
    async (tmp) => {
      await fill(path.join(tmp, "lib", "modules", release));
      await run("depmod", ["-b", tmp, release], { log, background: true });
    },
    log,
  );
  return path.join(base, "lib", "modules", release);
}

/** Is a module path (relative to kernel/) under one of the excluded directories? */
export function excludedModule(rel: string, exclude: readonly string[]): boolean {
  return exclude.some((d) => rel === d || rel.startsWith(`${d.replace(/\/+$/, "")}/`));
}

/** Keeps a module tree's path (relative to lib/modules/RELEASE) unless it is under an excluded kernel/ subdirectory. */
function keptModule(exclude: readonly string[]): (rel: string) => boolean {
  return (rel) => !(rel.startsWith("kernel/") && excludedModule(rel.slice("kernel/".length), exclude));
}

/** A module tree's cache entry for an exclusion list: BASE itself when nothing is excluded. */
function prunedBase(base: string, exclude: readonly string[]): string {
  return exclude.length === 0 ? base : `${base}.pruned-${sha256(JSON.stringify([...exclude].sort())).slice(0, 12)}`;
}

/**
 * A module tree without the excluded kernel/ subdirectories, modules.dep remade so
 * modprobe never looks for what was left out. Cached per exclusion list (hard links into
 * the source tree, so it costs a depmod, not a copy).
 */
export async function prunedModules(modulesDir: string, release: string, exclude: readonly string[], log: Logger): Promise<string> {
  if (exclude.length === 0) return modulesDir;
  const base = prunedBase(modulesDir.slice(0, -path.join("lib", "modules", release).length - 1), exclude);
  return cachedModuleTree(base, release, log, async (tmpDir) => {
    linkTree(modulesDir, tmpDir, keptModule(exclude));
  });
}
