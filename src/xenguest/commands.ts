import fs from "node:fs";
import path from "node:path";
import { DemocdError } from "../errors.ts";
import { checkMembers, mergedXlConfig } from "./check.ts";
import { INIT_DIRS, filesUnder, loadImage, packMembers, textOf, writeFileAtomic, writeImageDir, type ImageMembers } from "./image.ts";
import { applyOptions, newImageMembers, type XenguestOptions } from "./ops.ts";

/**
 * `democd xenguest OP`: each operation reads the whole image, works in memory and writes
 * only a complete, checked result (a file through a temporary name beside it, a directory
 * through a temporary sibling). check and the dumps never write.
 */
function problemsError(image: string, what: string, problems: string[]): DemocdError {
  return new DemocdError(`${image}: ${what} (nothing was changed):\n  ${problems.join("\n  ")}`);
}

function isEmptyDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory() && fs.readdirSync(p).length === 0;
  } catch {
    return false;
  }
}

function writeImage(members: ImageMembers, target: string, kind: "dir" | "file", replace: boolean): void {
  if (kind === "file") writeFileAtomic(target, packMembers(members));
  else writeImageDir(members, target, { replace });
}

/** A new image: a file, or a directory if target is an existing empty directory. */
export function createImage(target: string, opts: XenguestOptions): void {
  const asDir = isEmptyDir(target);
  if (!asDir && fs.existsSync(target)) throw new DemocdError(`${target}: already exists`, { hint: "use update to change it, or give a new name (or an empty directory)" });
  if (!asDir && !isDir(path.dirname(path.resolve(target)))) throw new DemocdError(`${target}: directory ${path.dirname(path.resolve(target))} does not exist`);
  const r = applyOptions(newImageMembers(), opts);
  if (r.problems.length) throw problemsError(target, "not created", r.problems);
  writeImage(r.members, target, asDir ? "dir" : "file", asDir);
}

export function updateImage(target: string, opts: XenguestOptions): void {
  const img = loadImage(target);
  const before = checkMembers(img.members).filter((p) => /missing/.test(p) && /^(params|guest|disk)\.cfg:/.test(p));
  if (before.length) throw problemsError(target, "not a xenguest image", before);
  const r = applyOptions(img.members, opts);
  if (r.problems.length) throw problemsError(target, "not updated", r.problems);
  writeImage(r.members, target, img.kind, true);
}

function loadValid(target: string): ImageMembers {
  const img = loadImage(target);
  const missing = checkMembers(img.members).filter((p) => /^(params|guest|disk)\.cfg: (missing|is a directory)/.test(p));
  if (missing.length) throw problemsError(target, "not a xenguest image", missing);
  return img.members;
}

export function dumpXenConfig(target: string): string {
  return mergedXlConfig(loadValid(target));
}

export function dumpDiskConfig(target: string): string {
  return textOf(loadValid(target), "disk.cfg")!;
}

export function dumpParamsConfig(target: string): string {
  return textOf(loadValid(target), "params.cfg")!;
}

/** The hooks in the order the manager runs them, each under a `=== dir/name ===` line. */
export function dumpInit(target: string): string {
  const m = loadValid(target);
  let out = "";
  for (const d of INIT_DIRS) {
    const files = filesUnder(m, d);
    if (!files.length) out += `=== ${d}: no scripts ===\n`;
    for (const f of files) {
      const t = textOf(m, f)!;
      out += `=== ${f} ===\n${t}${t.endsWith("\n") || t === "" ? "" : "\n"}`;
    }
  }
  return out;
}

/** An image file unpacked into a new (or empty) directory, through SafeTree. */
export function extractImage(file: string, dir: string): void {
  if (fs.existsSync(dir) && !isEmptyDir(dir)) throw new DemocdError(`${dir}: exists and is not empty`, { hint: "give a new or empty directory" });
  if (isDir(file)) throw new DemocdError(`${file}: is a directory image already`, { hint: "pack makes a file of it" });
  const m = loadValid(file);
  writeImageDir(m, dir, { replace: fs.existsSync(dir) });
}

/** A directory image packed into a new file (reproducible tar). */
export function packImage(dir: string, file: string, options: { force?: boolean } = {}): void {
  if (!isDir(dir)) throw new DemocdError(`${dir}: not a directory`, { hint: "pack takes an image directory (made by extract or create into an empty directory)" });
  if (fs.existsSync(file) && !options.force) throw new DemocdError(`${file}: already exists`, { hint: "use --force to replace it" });
  if (isDir(file)) throw new DemocdError(`${file}: is a directory`);
  writeFileAtomic(file, packMembers(loadValid(dir)));
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
