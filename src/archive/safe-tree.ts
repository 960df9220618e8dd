import fs from "node:fs";
import path from "node:path";
import type { EntryType } from "./cpio.ts";

/**
 * Writes archive members (tar, cpio) into a directory without ever touching anything
 * outside it: no absolute names, no "..", no writing through a symlink the archive
 * made earlier, no hard links to outside. Every refused member is named. What cannot be
 * applied as an ordinary user (owners, device nodes) is recorded, so a later pack can
 * put it back.
 */
export interface Member {
  name: string;
  type: EntryType | "hardlink";
  perm: number;
  uid: number;
  gid: number;
  mtime: number;
  data?: Buffer;
  /** Symlink target, or the member a hard link points at. */
  link?: string;
  rdevMajor?: number;
  rdevMinor?: number;
}

/** Recorded beside an unpacked tree when not root: re-applied when it is packed again. */
export interface TreeRecord {
  owners: Record<string, { uid: number; gid: number }>;
  devices: { name: string; type: "char" | "block" | "fifo"; perm: number; uid: number; gid: number; mtime: number; rdevMajor: number; rdevMinor: number }[];
}

export interface SafeTreeOptions {
  /** Apply owners (needs root). Device nodes are always recorded; see createDevices. */
  privileged: boolean;
}

export class SafeTree {
  readonly refused: string[] = [];
  readonly record: TreeRecord = { owners: {}, devices: [] };
  private readonly dirTimes: [string, number, number][] = [];

  constructor(readonly root: string, private readonly options: SafeTreeOptions) {
    fs.mkdirSync(root, { recursive: true });
  }

  /** The member's path relative to the root, or a reason to refuse it. */
  static normalize(name: string): { rel: string } | { why: string } {
    if (name.startsWith("/")) return { why: "absolute path" };
    const parts = name.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.includes("..")) return { why: "'..' in the path" };
    if (name.includes("\0")) return { why: "NUL in the path" };
    return { rel: parts.join("/") };
  }

  private refuse(name: string, why: string): void {
    this.refused.push(`${JSON.stringify(name)}: ${why}`);
  }

  /**
   * Check (and with `create`, make) the parents of rel as real directories; refuse the
   * member if one is a symlink or a file.
   */
  private parentsOk(rel: string, name: string, create = true): boolean {
    const parts = rel.split("/").slice(0, -1);
    let cur = this.root;
    for (const p of parts) {
      cur = path.join(cur, p);
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(cur);
      } catch {
        if (!create) return true;
        fs.mkdirSync(cur);
        continue;
      }
      if (st.isSymbolicLink()) {
        this.refuse(name, `its parent ${path.relative(this.root, cur)} is a symlink (would write through it)`);
        return false;
      }
      if (!st.isDirectory()) {
        this.refuse(name, `its parent ${path.relative(this.root, cur)} is not a directory`);
        return false;
      }
    }
    return true;
  }

  add(m: Member): void {
    const n = SafeTree.normalize(m.name);
    if ("why" in n) return this.refuse(m.name, n.why);
    const rel = n.rel;
    if (rel === "") {
      if (m.type === "dir") this.finishDir(this.root, m, "");
      return;
    }
    if (!this.parentsOk(rel, m.name)) return;
    const dest = path.join(this.root, rel);
    const existing = lstat(dest);
    if (existing && !(existing.isDirectory() && m.type === "dir")) {
      if (existing.isDirectory()) return this.refuse(m.name, "a directory of that name is already there");
      fs.unlinkSync(dest); // a later member replaces an earlier one, never writing through it
    }

    switch (m.type) {
      case "dir":
        if (!existing) fs.mkdirSync(dest);
        this.finishDir(dest, m, rel);
        return;
      case "file":
        fs.writeFileSync(dest, m.data ?? Buffer.alloc(0), { flag: "wx", mode: 0o600 });
        break;
      case "symlink":
        if (!m.link) return this.refuse(m.name, "symlink without a target");
        fs.symlinkSync(m.link, dest);
        break;
      case "hardlink": {
        const t = SafeTree.normalize(m.link ?? "");
        if ("why" in t || t.rel === "") return this.refuse(m.name, `hard link to ${JSON.stringify(m.link)} outside the tree`);
        // The target's parents first: lstat would follow a symlinked parent out of the tree.
        if (!this.parentsOk(t.rel, m.name, false)) return;
        const target = path.join(this.root, t.rel);
        const ts = lstat(target);
        if (!ts?.isFile()) return this.refuse(m.name, `hard link to ${JSON.stringify(m.link)}, which is not a file in the tree`);
        fs.linkSync(target, dest);
        return;
      }
      case "char":
      case "block":
      case "fifo":
        this.record.devices.push({ name: rel, type: m.type, perm: m.perm, uid: m.uid, gid: m.gid, mtime: m.mtime, rdevMajor: m.rdevMajor ?? 0, rdevMinor: m.rdevMinor ?? 0 });
        return;
      case "socket":
        return this.refuse(m.name, "sockets cannot be unpacked");
    }
    this.applyMeta(dest, m, rel);
  }

  private applyMeta(dest: string, m: Member, rel: string): void {
    const isLink = m.type === "symlink";
    if (this.options.privileged) fs.lchownSync(dest, m.uid, m.gid);
    else if (m.uid !== 0 || m.gid !== 0) this.record.owners[rel] = { uid: m.uid, gid: m.gid };
    if (!isLink) fs.chmodSync(dest, m.perm & 0o7777);
    fs.lutimesSync(dest, m.mtime, m.mtime);
  }

  private finishDir(dest: string, m: Member, rel: string): void {
    if (this.options.privileged) fs.chownSync(dest, m.uid, m.gid);
    else if (rel && (m.uid !== 0 || m.gid !== 0)) this.record.owners[rel] = { uid: m.uid, gid: m.gid };
    // Modes and times of directories are applied at the end: writing into a directory
    // changes its mtime, and a read-only directory could not be written into.
    this.dirTimes.push([dest, m.perm & 0o7777, m.mtime]);
  }

  /** Apply directory modes and times, deepest first. */
  finish(): void {
    for (const [dir, perm, mtime] of this.dirTimes.sort((a, b) => b[0].length - a[0].length)) {
      fs.chmodSync(dir, perm);
      fs.utimesSync(dir, mtime, mtime);
    }
  }
}

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}
