import { treeEntries, type CpioEntry } from "./cpio.ts";
import type { TreeRecord } from "./safe-tree.ts";

export interface MemberOptions {
  /** Clamp mtimes to this (SOURCE_DATE_EPOCH). */
  mtime: number;
  /** Owners on disk mean something (a tree made or unpacked by root); otherwise 0:0. */
  ownersFromDisk: boolean;
  /** Owners and device nodes recorded when the tree was unpacked by an ordinary user. */
  record?: TreeRecord;
}

const byName = (a: CpioEntry, b: CpioEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * An archive's members for a tree (root.tar.gz, an initrd): sorted, mtimes clamped, owners and
 * device nodes as recorded (an unprivileged unpack could not set them on disk), then `extra`
 * entries the tree lacks.
 */
export function treeMembers(dir: string, o: MemberOptions, extra: readonly CpioEntry[] = []): CpioEntry[] {
  const entries = treeEntries(dir, { mtimeClamp: o.mtime, ownersFromDisk: o.ownersFromDisk, owners: new Map(Object.entries(o.record?.owners ?? {})) });
  const names = new Set(entries.map((e) => e.name));
  for (const d of o.record?.devices ?? []) {
    if (!names.has(d.name)) {
      entries.push({ ...d, mtime: Math.min(d.mtime, o.mtime), data: Buffer.alloc(0) });
      names.add(d.name);
    }
  }
  for (const d of extra) if (!names.has(d.name)) entries.push({ ...d, mtime: Math.min(d.mtime, o.mtime) });
  return entries.sort(byName);
}

/** Entries the kernel needs before devtmpfs is up, written without mknod (so no root needed). */
export const INITRD_DEVICES: CpioEntry[] = [
  { name: "dev/console", type: "char", perm: 0o600, uid: 0, gid: 0, mtime: 2 ** 31, data: Buffer.alloc(0), rdevMajor: 5, rdevMinor: 1 },
  { name: "dev/null", type: "char", perm: 0o666, uid: 0, gid: 0, mtime: 2 ** 31, data: Buffer.alloc(0), rdevMajor: 1, rdevMinor: 3 },
];

/** An initrd's members: the tree's, plus the console the kernel needs before devtmpfs. */
export function initrdMembers(irtree: string, o: MemberOptions): CpioEntry[] {
  return treeMembers(irtree, o, INITRD_DEVICES);
}
