/**
 * What the initrd needs to grow an installed system's root on first boot after its disk was
 * enlarged: Debian's sfdisk (GPT) and resize2fs (ext4), with exactly the shared libraries they
 * need, copied into the irtree in Debian's own layout (/lib/x86_64-linux-gnu, the loader at its
 * PT_INTERP path) so they run as they would on Debian. busybox has neither tool.
 */
import fs from "node:fs";
import path from "node:path";
import type { Component } from "./debian/apt.ts";
import { DemocdError } from "./errors.ts";
import { libraryClosure } from "./elf.ts";

/**
 * The packages fetched for it: the two tools' packages and those shipping the libraries they
 * need (read from their DT_NEEDED; a library missing from this list fails the build naming it).
 */
export const GROW_PACKAGES = [
  "fdisk", "e2fsprogs",
  "libc6", "libfdisk1", "libsmartcols1", "libblkid1", "libuuid1", "libreadline8", "libtinfo6",
  "libext2fs2", "libcom-err2",
] as const;

/** The programs, by their path in their package, and where they go in the initrd. */
export const GROW_PROGRAMS = [
  { pkg: "fdisk", file: "sbin/sfdisk", dest: "sbin/sfdisk" },
  { pkg: "e2fsprogs", file: "sbin/resize2fs", dest: "sbin/resize2fs" },
] as const;

/** Where Debian keeps the libraries in a package (merged /usr or not). */
export const LIB_SUBDIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib64"];

/** The initrd's library directory (the loader's default search path on Debian). */
export const IR_LIBDIR = "lib/x86_64-linux-gnu";

export interface GrowComponent {
  packages: Component[];
  /** The programs' files in the cache, by their destination in the initrd. */
  programs: { file: string; dest: string }[];
}

/** Find the programs in the fetched packages (usr/sbin too: merged /usr). */
export function growProgramFiles(packages: readonly Component[]): { file: string; dest: string }[] {
  return GROW_PROGRAMS.map((p) => {
    const c = packages.find((x) => x.pkg.name === p.pkg);
    if (!c) throw new Error(`internal: package ${p.pkg} was not fetched`);
    const file = [p.file, `usr/${p.file}`].map((f) => path.join(c.dir, f)).find((f) => fs.existsSync(f));
    if (!file) throw new DemocdError(`${c.pkg.name} ${c.pkg.version} has no ${p.file}`);
    return { file, dest: p.dest };
  });
}

/** Copy the programs, their libraries and the loader into the initrd tree. Returns the bytes added. */
export function installGrowTools(grow: GrowComponent, irtree: string): { files: number; bytes: number } {
  const libDirs = grow.packages.flatMap((c) => LIB_SUBDIRS.map((d) => path.join(c.dir, d))).filter((d) => fs.existsSync(d));
  const closure = libraryClosure(grow.programs.map((p) => p.file), libDirs);
  let files = 0;
  let bytes = 0;
  const copy = (from: string, to: string, mode: number) => {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.rmSync(to, { force: true });
    fs.copyFileSync(from, to);
    fs.chmodSync(to, mode);
    files++;
    bytes += fs.statSync(to).size;
  };
  for (const p of grow.programs) copy(p.file, path.join(irtree, p.dest), 0o755);
  for (const [soname, file] of [...closure.libs].sort(([a], [b]) => (a < b ? -1 : 1))) copy(file, path.join(irtree, IR_LIBDIR, soname), 0o755);
  if (closure.interp) {
    const name = path.basename(closure.interp.path);
    const inLibdir = path.join(irtree, IR_LIBDIR, name);
    if (!fs.existsSync(inLibdir)) copy(closure.interp.file, inLibdir, 0o755);
    const at = path.join(irtree, closure.interp.path.replace(/^\/+/, ""));
    if (path.resolve(at) !== path.resolve(inLibdir)) {
      fs.mkdirSync(path.dirname(at), { recursive: true });
      fs.rmSync(at, { force: true });
      fs.symlinkSync(path.relative(path.dirname(at), inLibdir), at);
    }
  }
  return { files, bytes };
}
