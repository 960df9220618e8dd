import { DemocdError } from "../errors.ts";
import { INIT_DIRS, REQUIRED_MEMBERS, filesUnder, loadImage, textOf, type ImageMembers } from "./image.ts";
import { allVars, parseShellVars, type ConfigProblem } from "./shellvars.ts";
import { parseCfgSize } from "./sizes.ts";
import { getXl, parseXlConfig, type XlConfig } from "./xlcfg.ts";

/** Filesystems a partition may have ("" or none: not formatted). */
export const PART_FS = ["ext2", "ext3", "ext4", "vfat", "swap", "none", ""] as const;
/** What a partition's initial content may be, as the original's manager unpacks it. */
export const CONTENT_RE = /\.(tar|tar\.gz|tar\.bz2|tar\.xz|img|img\.gz|img\.bz2)$/;
/** MiB before the first partition (the partition table); the original's manager started at 1 MB too. */
export const TABLE_MIB = 1;
/** A partition number left out below the last one is made as a 2 MiB filler, as the original's manager does. */
export const FILLER_MIB = 2;

export interface Partition {
  num: number;
  sizeMib: number;
  fs: string;
  content: string;
}

export interface DiskConfig {
  sizeMib: number;
  parts: Partition[];
}

const where = (file: string, p: ConfigProblem) => `${file}${p.line ? `:${p.line}` : ""}: ${p.message}`;

/** `SIZE:FS:CONTENT` of a DISK_PARTn value, or why not. */
export function parsePartValue(v: string): { sizeMib: number; fs: string; content: string } | { error: string } {
  const f = v.split(":");
  if (f.length !== 3) return { error: `must be SIZE:FS:CONTENT (two colons), got ${JSON.stringify(v)}` };
  const sizeMib = parseCfgSize(f[0]);
  if (sizeMib === undefined || sizeMib === 0) return { error: `size ${JSON.stringify(f[0])} is not a size (like 512M)` };
  return { sizeMib, fs: f[1], content: f[2] };
}

/** The disk of disk.cfg, with every problem (`disk.cfg:LINE: ...`). */
export function readDiskConfig(text: string, members?: ImageMembers): { disk: DiskConfig; problems: string[] } {
  const f = parseShellVars(text);
  const problems = f.problems.map((p) => where("disk.cfg", p));
  const vars = allVars(f);
  const disk: DiskConfig = { sizeMib: 0, parts: [] };
  const size = vars.get("DISK_SIZE");
  if (!size) problems.push("disk.cfg: DISK_SIZE is not set");
  else {
    const mib = parseCfgSize(size.value);
    if (mib === undefined) problems.push(`disk.cfg:${size.line}: DISK_SIZE ${JSON.stringify(size.value)} is not a size (like 1024M)`);
    else disk.sizeMib = mib;
  }
  for (const [key, { value, line }] of vars) {
    const m = /^DISK_PART(.*)$/.exec(key);
    if (!m) continue;
    if (!/^[1-4]$/.test(m[1])) {
      problems.push(`disk.cfg:${line}: ${key}: partition numbers are 1 to 4`);
      continue;
    }
    if (value === "") continue;
    const p = parsePartValue(value);
    if ("error" in p) {
      problems.push(`disk.cfg:${line}: ${key}: ${p.error}`);
      continue;
    }
    const bad = partProblems(p.fs, p.content, members);
    problems.push(...bad.map((b) => `disk.cfg:${line}: ${key}: ${b}`));
    disk.parts.push({ num: Number(m[1]), ...p });
  }
  disk.parts.sort((a, b) => a.num - b.num);
  const fit = fitProblem(disk);
  if (fit) problems.push(`disk.cfg: ${fit}`);
  return { disk, problems };
}

export function partProblems(fs: string, content: string, members?: ImageMembers): string[] {
  const out: string[] = [];
  if (!(PART_FS as readonly string[]).includes(fs)) out.push(`filesystem ${JSON.stringify(fs)} is not one of ext2, ext3, ext4, vfat, swap, none (or empty)`);
  if (content !== "") {
    if (!CONTENT_RE.test(content)) out.push(`content ${JSON.stringify(content)} must be a .tar[.gz|.bz2|.xz] or .img[.gz|.bz2] file`);
    else if (members && members.get(`disk/${content}`)?.type !== "file") out.push(`content ${content} is not in the image's disk/ (add it with --disk-add-file)`);
    if (/\.tar/.test(content) && (fs === "swap" || fs === "" || fs === "none")) out.push(`content ${content} is a tar, which needs a filesystem to unpack into`);
  }
  return out;
}

/** Whether the partitions (with the table and fillers) fit the disk. */
export function fitProblem(disk: DiskConfig): string | undefined {
  if (!disk.parts.length) return undefined;
  const last = disk.parts.at(-1)!.num;
  let need = TABLE_MIB;
  for (let n = 1; n <= last; n++) need += disk.parts.find((p) => p.num === n)?.sizeMib ?? FILLER_MIB;
  if (disk.sizeMib === 0) return `partitions are defined but DISK_SIZE is 0 (no disk)`;
  if (need > disk.sizeMib) {
    return `the partitions need ${need}M (${TABLE_MIB}M for the partition table${disk.parts.length < last ? `, ${FILLER_MIB}M for each number left out` : ""}) but DISK_SIZE is ${disk.sizeMib}M`;
  }
  return undefined;
}

/** guest.cfg and guest.d/* in merge order, parsed. */
export function xlFiles(members: ImageMembers): { file: string; cfg: XlConfig }[] {
  return ["guest.cfg", ...filesUnder(members, "guest.d")]
    .filter((f) => textOf(members, f) !== undefined)
    .map((file) => ({ file, cfg: parseXlConfig(textOf(members, file)!) }));
}

/** The merged xl config: guest.cfg, then guest.d/* in name order. */
export function mergedXlConfig(members: ImageMembers): string {
  return xlFiles(members)
    .map(({ cfg }) => (cfg.text === "" || cfg.text.endsWith("\n") ? cfg.text : cfg.text + "\n"))
    .join("");
}

/** Keys whose string value names a file the guest needs. */
export const FILE_KEYS = ["kernel", "ramdisk", "device_tree"] as const;

/**
 * Names domain 0's xenguest-manager refuses in params.cfg (its hooks run with the parameters
 * exported): they would change how domain 0 finds its programs. The same list as
 * templates/debian/usr/lib/democd/xenguest-vars.awk.
 */
export const RESERVED_PARAMS = /^(PATH|IFS|ENV|BASH_ENV|CDPATH|HOME|SHELL|PS[1-4]|LANG|LANGUAGE|LC_[A-Z_]*|LD_[A-Z_]*|TMPDIR|guestname|guestdir|guestcfgfile|XENGUEST_[A-Z_]*)$/;

/** Every problem of an image, one `member[:line]: message` each; empty when valid. */
export function checkMembers(members: ImageMembers): string[] {
  const problems: string[] = [];
  for (const req of REQUIRED_MEMBERS) {
    const e = members.get(req);
    if (!e) problems.push(`${req}: missing (a xenguest image needs params.cfg, guest.cfg and disk.cfg)`);
    else if (e.type !== "file") problems.push(`${req}: is a directory, not a file`);
  }
  const params = textOf(members, "params.cfg");
  if (params !== undefined) {
    const f = parseShellVars(params);
    problems.push(...f.problems.map((p) => where("params.cfg", p)));
    for (const [key, { line }] of allVars(f)) {
      if (RESERVED_PARAMS.test(key)) problems.push(`params.cfg:${line}: ${key}: a name the manager and the hooks rely on, not a guest parameter`);
    }
    const auto = allVars(f).get("GUEST_AUTOBOOT");
    if (auto && !["0", "1"].includes(auto.value)) problems.push(`params.cfg:${auto.line}: GUEST_AUTOBOOT must be 0 or 1, got ${JSON.stringify(auto.value)}`);
  }
  const files = xlFiles(members);
  for (const { file, cfg } of files) problems.push(...cfg.problems.map((p) => where(file, p)));
  const merged = parseXlConfig(mergedXlConfig(members));
  if (!merged.problems.length) {
    for (const key of FILE_KEYS) {
      const v = getXl(merged, key);
      if (!v) continue;
      if (v.kind !== "string") problems.push(`${fileOf(files, key)}: ${key} must be a string (a file name)`);
      else if (!v.value.startsWith("/") && members.get(v.value)?.type !== "file") problems.push(`${fileOf(files, key)}: ${key} = "${v.value}", which is not a file in the image`);
    }
    for (const [key, min] of [["memory", 1], ["vcpus", 1]] as const) {
      const v = getXl(merged, key);
      if (v && !(v.kind === "number" && Number(v.raw) >= min && Number.isInteger(Number(v.raw)))) problems.push(`${fileOf(files, key)}: ${key} must be a whole number`);
    }
  }
  const disk = textOf(members, "disk.cfg");
  if (disk !== undefined) problems.push(...readDiskConfig(disk, members).problems);
  for (const d of INIT_DIRS) {
    for (const f of filesUnder(members, d)) {
      if (!(members.get(f)!.mode & 0o100)) problems.push(`${f}: not executable (the manager runs only executable hooks)`);
    }
  }
  return problems;
}

function fileOf(files: { file: string; cfg: XlConfig }[], key: string): string {
  let out = "guest.cfg";
  for (const { file, cfg } of files) {
    const s = cfg.settings.filter((x) => x.key === key).at(-1);
    if (s) out = `${file}:${s.line}`;
  }
  return out;
}

/** Every problem of the image (empty: valid). Reading problems (hostile members) are one. */
export function checkImage(target: string): string[] {
  try {
    return checkMembers(loadImage(target).members);
  } catch (e) {
    if (e instanceof DemocdError) return [e.message.replace(`${target}: `, "")];
    throw e;
  }
}
