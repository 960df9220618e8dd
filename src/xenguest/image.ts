import fs from "node:fs";
import path from "node:path";
import type { CpioEntry } from "../archive/cpio.ts";
import { SafeTree } from "../archive/safe-tree.ts";
import { writeTar } from "../archive/tar-writer.ts";
import { envSourceDateEpoch } from "../epoch.ts";
import { DemocdError } from "../errors.ts";
import { removeTree } from "../fsutil.ts";

/**
 * A xenguest image in memory: its members by relative path ("guest.cfg", "files/kernel").
 * Read from a directory or from a plain tar of one (`./` member names, as
 * `tar -C DIR -cf FILE .` makes), edited here, and written back only when whole, through a
 * temporary file beside the target that is renamed into place.
 */
export interface ImageEntry {
  type: "file" | "dir";
  mode: number;
  data?: Buffer;
}

export type ImageMembers = Map<string, ImageEntry>;

export const REQUIRED_MEMBERS = ["params.cfg", "guest.cfg", "disk.cfg"] as const;
export const INIT_DIRS = ["init.pre", "init.d", "init.post"] as const;

export interface LoadedImage {
  members: ImageMembers;
  kind: "dir" | "file";
}

const BLOCK = 512;

function cstr(buf: Buffer, off: number, len: number): string {
  const b = buf.subarray(off, off + len);
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString("utf8");
}

function num(buf: Buffer, off: number, len: number): number {
  if (buf[off] & 0x80) {
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + buf[i];
    return n;
  }
  const s = cstr(buf, off, len).trim();
  return s === "" ? 0 : parseInt(s, 8);
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(data.subarray(i, sp).toString());
    if (!Number.isInteger(len) || len <= 0) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

export interface TarMember {
  name: string;
  type: "file" | "dir" | "symlink" | "hardlink" | "other";
  typeflag: string;
  mode: number;
  mtime: number;
  data: Buffer;
  link: string;
}

/** The members of an uncompressed tar (ustar, pax and GNU long names), read synchronously. */
export function readTarMembers(buf: Buffer, what: string): TarMember[] {
  const out: TarMember[] = [];
  let off = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) throw new DemocdError(`${what}: is gzip-compressed; a xenguest image is a plain tar`, { hint: "gunzip it first" });
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    if (sum !== num(h, 148, 8)) throw new DemocdError(`${what}: not a tar file (bad header checksum at byte ${off})`);
    const size = num(h, 124, 12);
    const typeflag = String.fromCharCode(h[156] || 0x30);
    const dataStart = off + BLOCK;
    if (dataStart + size > buf.length) throw new DemocdError(`${what}: truncated tar (member at byte ${off} runs past the end)`);
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === "x") {
      pax = paxRecords(data);
      continue;
    }
    if (typeflag === "g") continue;
    if (typeflag === "L") {
      longName = cstr(data, 0, data.length);
      continue;
    }
    if (typeflag === "K") {
      longLink = cstr(data, 0, data.length);
      continue;
    }
    const prefix = cstr(h, 257, 6).startsWith("ustar") ? cstr(h, 345, 155) : "";
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    const link = pax.linkpath ?? longLink ?? cstr(h, 157, 100);
    const type = typeflag === "0" || typeflag === "7" ? "file" : typeflag === "5" ? "dir" : typeflag === "2" ? "symlink" : typeflag === "1" ? "hardlink" : "other";
    out.push({ name, type, typeflag, mode: num(h, 100, 8) & 0o7777, mtime: Number(pax.mtime ?? num(h, 136, 12)) | 0, data: Buffer.from(data), link });
    pax = {};
    longName = longLink = undefined;
  }
  return out;
}

/** Members as an image: only files and directories, named inside the image; anything else is refused by name. */
export function membersFromTar(tar: TarMember[]): { members: ImageMembers; refused: string[] } {
  const members: ImageMembers = new Map();
  const refused: string[] = [];
  for (const m of tar) {
    const n = SafeTree.normalize(m.name);
    if ("why" in n) {
      refused.push(`${JSON.stringify(m.name)}: ${n.why}`);
      continue;
    }
    if (m.type === "symlink") refused.push(`${JSON.stringify(m.name)}: a symlink (to ${JSON.stringify(m.link)}); a xenguest image holds only files and directories`);
    else if (m.type === "hardlink") refused.push(`${JSON.stringify(m.name)}: a hard link (to ${JSON.stringify(m.link)}); a xenguest image holds only files and directories`);
    else if (m.type === "other") refused.push(`${JSON.stringify(m.name)}: tar entry type ${JSON.stringify(m.typeflag)}; a xenguest image holds only files and directories`);
    if (m.type !== "file" && m.type !== "dir") continue;
    if (n.rel === "") continue;
    const parts = n.rel.split("/");
    const clash = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/")).find((p) => members.get(p)?.type === "file");
    if (clash) {
      refused.push(`${JSON.stringify(m.name)}: its parent ${clash} is a file`);
      continue;
    }
    const prev = members.get(n.rel);
    if (prev && prev.type !== m.type) {
      refused.push(`${JSON.stringify(m.name)}: both a file and a directory`);
      continue;
    }
    members.set(n.rel, m.type === "file" ? { type: "file", mode: m.mode, data: m.data } : { type: "dir", mode: m.mode });
  }
  return { members, refused };
}

function membersFromDir(dir: string): { members: ImageMembers; refused: string[] } {
  const members: ImageMembers = new Map();
  const refused: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      if (st.isDirectory()) {
        members.set(r, { type: "dir", mode: st.mode & 0o7777 });
        walk(p, r);
      } else if (st.isFile()) members.set(r, { type: "file", mode: st.mode & 0o7777, data: fs.readFileSync(p) });
      else refused.push(`${JSON.stringify(r)}: ${st.isSymbolicLink() ? "a symlink" : "not a regular file"}; a xenguest image holds only files and directories`);
    }
  };
  walk(dir, "");
  return { members, refused };
}

/** Read an image, file or directory. Hostile or foreign members fail in one line naming them all. */
export function loadImage(p: string): LoadedImage {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    throw new DemocdError(`${p}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let r: { members: ImageMembers; refused: string[] };
  let kind: "dir" | "file";
  try {
    if (st.isDirectory()) {
      r = membersFromDir(p);
      kind = "dir";
    } else {
      r = membersFromTar(readTarMembers(fs.readFileSync(p), p));
      kind = "file";
    }
  } catch (e) {
    if (e instanceof DemocdError) throw e;
    throw new DemocdError(`${p}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  if (r.refused.length) throw new DemocdError(`${p}: refused: ${r.refused.join("; ")}`, { hint: "nothing was written" });
  return { members: r.members, kind };
}

export function cloneMembers(m: ImageMembers): ImageMembers {
  return new Map([...m].map(([k, v]) => [k, { ...v }]));
}

/** Every parent directory of every member, as entries (0755 unless the image has its own). */
function withParents(members: ImageMembers): ImageMembers {
  const out = cloneMembers(members);
  for (const rel of members.keys()) {
    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!out.has(d)) out.set(d, { type: "dir", mode: 0o755 });
    }
  }
  return out;
}

/** mtimes of packed images: SOURCE_DATE_EPOCH, or 0 when unset (as democd's other archives). */
export function imageEpoch(): number {
  return envSourceDateEpoch() ?? 0;
}

/** The image as a reproducible tar: sorted, `./` names, owner 0:0, modes kept, one mtime. */
export function packMembers(members: ImageMembers, mtime = imageEpoch()): Buffer {
  const entries: CpioEntry[] = [...withParents(members)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, e]) => ({ name, type: e.type, perm: e.mode, uid: 0, gid: 0, mtime, data: e.data ?? Buffer.alloc(0) }));
  return writeTar(entries);
}

/** Write a file through a temporary name beside it: the old file stays until the new one is whole. */
export function writeFileAtomic(file: string, data: Buffer): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    fs.writeFileSync(tmp, data, { flag: "wx", mode: 0o644 });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Write members as a directory, through SafeTree (nothing outside it, never through a
 * symlink), into a temporary sibling renamed into place when complete.
 */
export function writeImageDir(members: ImageMembers, dir: string, options: { replace?: boolean } = {}): void {
  const tmp = path.join(path.dirname(path.resolve(dir)), `.${path.basename(dir)}.tmp-${process.pid}`);
  removeTree(tmp);
  try {
    const tree = new SafeTree(tmp, { privileged: false });
    const mtime = imageEpoch();
    for (const [name, e] of [...withParents(members)].sort(([a], [b]) => (a < b ? -1 : 1))) {
      tree.add({ name, type: e.type, perm: e.mode, uid: 0, gid: 0, mtime, data: e.data });
    }
    tree.finish();
    if (tree.refused.length) throw new DemocdError(`${dir}: refused: ${tree.refused.join("; ")}`);
    if (options.replace) {
      const old = `${tmp}.old`;
      fs.renameSync(dir, old);
      fs.renameSync(tmp, dir);
      removeTree(old);
    } else {
      fs.renameSync(tmp, dir);
    }
  } finally {
    removeTree(tmp);
  }
}

export function textOf(members: ImageMembers, rel: string): string | undefined {
  const e = members.get(rel);
  return e?.type === "file" ? (e.data ?? Buffer.alloc(0)).toString("utf8") : undefined;
}

export function setText(members: ImageMembers, rel: string, text: string, mode = 0o644): void {
  const prev = members.get(rel);
  members.set(rel, { type: "file", mode: prev?.type === "file" ? prev.mode : mode, data: Buffer.from(text, "utf8") });
}

/** Files under a directory of the image, sorted by path (the merge and hook order). */
export function filesUnder(members: ImageMembers, dir: string): string[] {
  return [...members.keys()].filter((k) => k.startsWith(`${dir}/`) && members.get(k)!.type === "file").sort();
}
