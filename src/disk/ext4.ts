import fs from "node:fs";
import path from "node:path";
import type { TreeRecord } from "../archive/safe-tree.ts";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import type { Logger } from "../log.ts";

/**
 * The root file system, made from a directory by mkfs.ext4 -d straight into the disk image
 * at the partition's offset: no loop device, no mount, no root. mkfs copies what it sees on
 * the host (owners, ctime, atime), so a debugfs script then sets what the image must hold:
 * owners as democd records them, every date SOURCE_DATE_EPOCH, recorded devices.
 */
export interface Ext4Spec {
  image: string;
  offset: number;
  size: number;
  tree: string;
  uuid: string;
  hashSeed: string;
  label: string;
  epoch: number;
  /** Owners on disk are the real ones (a root build); else 0:0 unless recorded. */
  ownersFromDisk: boolean;
  record?: TreeRecord;
}

/** mkfs.ext4's arguments: every id given, 4 KiB blocks, nothing discarded in the image file. */
export function mkfsArgs(s: Ext4Spec): string[] {
  return [
    "-q", "-F", "-b", "4096", "-I", "256", "-L", s.label, "-U", s.uuid,
    "-E", `offset=${s.offset},hash_seed=${s.hashSeed},root_owner=0:0,nodiscard`,
    "-d", s.tree, s.image, `${Math.floor(s.size / 1024)}k`,
  ];
}

/** A path as debugfs's parser reads it: double-quoted, quotes doubled. */
export function debugfsPath(rel: string): string {
  if (/[\n\r]/.test(rel)) throw new DemocdError(`cannot put ${JSON.stringify(rel)} on a disk image: a newline in a file name`, { hint: "rename the file" });
  return `"/${rel.replace(/"/g, '""')}"`;
}

export interface TreeInode {
  rel: string;
  uid: number;
  gid: number;
  mtime: number;
}

/** Every entry under dir ("" for the top), with the owner and date it must have in the image. */
export function treeInodes(dir: string, epoch: number, ownersFromDisk: boolean, record?: TreeRecord): TreeInode[] {
  const out: TreeInode[] = [];
  const owners = record?.owners ?? {};
  const walk = (rel: string) => {
    const st = fs.lstatSync(rel ? path.join(dir, rel) : dir);
    const recorded = owners[rel];
    out.push({
      rel,
      uid: recorded?.uid ?? (ownersFromDisk ? st.uid : 0),
      gid: recorded?.gid ?? (ownersFromDisk ? st.gid : 0),
      // Every date is the epoch, as on the ISO (xorriso --set_all_file_dates): the trees'
      // own dates depend on when a cache was filled, so clamping alone would not reproduce.
      mtime: epoch,
    });
    if (st.isDirectory()) for (const n of fs.readdirSync(path.join(dir, rel)).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk("");
  return out;
}

/** The debugfs commands that give every inode its owner and dates, and make the recorded devices. */
export function fixupScript(inodes: readonly TreeInode[], epoch: number, record?: TreeRecord): string {
  const lines: string[] = [];
  const set = (p: string, uid: number, gid: number, t: number) => {
    lines.push(`sif ${p} uid ${uid}`, `sif ${p} gid ${gid}`);
    // "@": debugfs would read a bare number as YYYYMMDDHHMM... first.
    for (const f of ["atime", "ctime", "mtime", "crtime"]) lines.push(`sif ${p} ${f} @${t}`);
  };
  for (const i of inodes) set(debugfsPath(i.rel), i.uid, i.gid, i.mtime);
  // lost+found is made by mkfs itself.
  set(debugfsPath("lost+found"), 0, 0, epoch);
  // By name: the inode numbers they get must not depend on how the list was gathered.
  for (const d of [...(record?.devices ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = debugfsPath(d.name);
    // debugfs's mknod takes a name in the current directory, not a path.
    const base = `"${path.posix.basename(d.name).replace(/"/g, '""')}"`;
    lines.push(`cd ${debugfsPath(path.posix.dirname(d.name).replace(/^\.$/, ""))}`);
    lines.push(d.type === "fifo" ? `mknod ${base} p` : `mknod ${base} ${d.type === "char" ? "c" : "b"} ${d.rdevMajor} ${d.rdevMinor}`, `cd "/"`);
    const typeBits = d.type === "fifo" ? 0o010000 : d.type === "char" ? 0o020000 : 0o060000;
    lines.push(`sif ${p} mode 0${(typeBits | (d.perm & 0o7777)).toString(8)}`);
    set(p, d.uid, d.gid, epoch);
  }
  return lines.join("\n") + "\n";
}

/** mkfs and debugfs fix every date they write themselves (superblock, root, lost+found) to this. */
const fakeTime = (epoch: number) => ({ E2FSPROGS_FAKE_TIME: String(epoch) });

export async function makeExt4(s: Ext4Spec, log?: Logger): Promise<void> {
  await run("mkfs.ext4", mkfsArgs(s), { log, env: fakeTime(s.epoch) });
  const script = fixupScript(treeInodes(s.tree, s.epoch, s.ownersFromDisk, s.record), s.epoch, s.record);
  const file = path.join(path.dirname(s.image), `.debugfs-${process.pid}`);
  fs.writeFileSync(file, script);
  try {
    const r = await run("debugfs", ["-w", "-f", file, `${s.image}?offset=${s.offset}`], { log, env: fakeTime(s.epoch) });
    // debugfs echoes its commands on stdout, reports a failed one on stderr, and still exits 0.
    const failed = r.stderr.split("\n").find((l) => l.trim() && !/^debugfs \d/.test(l));
    if (failed) throw new DemocdError(`debugfs could not set the image's owners and dates: ${failed.trim()}`, { debug: r.stderr });
  } finally {
    fs.rmSync(file, { force: true });
  }
}
