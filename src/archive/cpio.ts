import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * cpio "newc" (SVR4, no CRC), the format the kernel unpacks into its initramfs.
 * Written in-process so every field is ours to pin: sorted order, sequential inode
 * numbers, owner 0:0, clamped mtimes.
 */
export type EntryType = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

export interface CpioEntry {
  name: string;
  type: EntryType;
  /** Permission bits (07777). */
  perm: number;
  uid: number;
  gid: number;
  mtime: number;
  /** File contents, or the symlink target as bytes. */
  data: Buffer;
  rdevMajor?: number;
  rdevMinor?: number;
  ino?: number;
  nlink?: number;
}

const TYPE_BITS: Record<EntryType, number> = {
  socket: 0o140000,
  symlink: 0o120000,
  file: 0o100000,
  block: 0o060000,
  dir: 0o040000,
  char: 0o020000,
  fifo: 0o010000,
};

const TRAILER = "TRAILER!!!";
const MAGIC = "070701";
const HEADER_LEN = 110;

function typeOf(mode: number): EntryType | undefined {
  const bits = mode & 0o170000;
  return (Object.keys(TYPE_BITS) as EntryType[]).find((t) => TYPE_BITS[t] === bits);
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
const pad4 = (n: number) => (4 - (n % 4)) % 4;

function header(e: Omit<CpioEntry, "data">, size: number, ino: number): Buffer {
  const name = Buffer.from(e.name + "\0");
  const fields = [
    ino, TYPE_BITS[e.type] | (e.perm & 0o7777), e.uid, e.gid, e.nlink ?? (e.type === "dir" ? 2 : 1), e.mtime, size,
    0, 0, e.rdevMajor ?? 0, e.rdevMinor ?? 0, name.length, 0,
  ];
  const head = Buffer.from(MAGIC + fields.map(hex8).join(""), "ascii");
  return Buffer.concat([head, name, Buffer.alloc(pad4(HEADER_LEN + name.length))]);
}

/** One cpio archive with a trailer; inode numbers are assigned in order unless given. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  return Buffer.concat([...cpioParts(entries)]);
}

/** writeCpio's sha256, hashed piece by piece: the archive itself is not put together. */
export function cpioSha256(entries: readonly CpioEntry[]): string {
  const hash = crypto.createHash("sha256");
  for (const part of cpioParts(entries)) hash.update(part);
  return hash.digest("hex");
}

function* cpioParts(entries: readonly CpioEntry[]): Generator<Buffer> {
  let i = 0;
  for (const e of entries) {
    i++;
    yield header(e, e.data.length, e.ino ?? i);
    yield e.data;
    yield Buffer.alloc(pad4(e.data.length));
  }
  yield header({ name: TRAILER, type: "file", perm: 0, uid: 0, gid: 0, mtime: 0, nlink: 1 }, 0, 0);
}

export class CpioFormatError extends Error {}

/**
 * Read one newc archive starting at `offset`. Returns its entries and the offset just
 * past the trailer (the next segment of a concatenated initrd may start after padding).
 */
export function readCpio(buf: Buffer, offset = 0): { entries: CpioEntry[]; end: number } {
  const entries: CpioEntry[] = [];
  let pos = offset;
  for (;;) {
    if (pos + HEADER_LEN > buf.length) throw new CpioFormatError(`truncated cpio header at byte ${pos}`);
    const magic = buf.toString("ascii", pos, pos + 6);
    if (magic !== MAGIC && magic !== "070702") throw new CpioFormatError(`not a newc cpio header at byte ${pos} (magic ${JSON.stringify(magic)})`);
    const field = (i: number) => {
      const s = buf.toString("ascii", pos + 6 + i * 8, pos + 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(s)) throw new CpioFormatError(`bad cpio header field at byte ${pos}`);
      return parseInt(s, 16);
    };
    const [ino, mode, uid, gid, nlink, mtime, size] = [0, 1, 2, 3, 4, 5, 6].map(field);
    const [rdevMajor, rdevMinor, namesize] = [9, 10, 11].map(field);
    const nameStart = pos + HEADER_LEN;
    if (namesize < 1 || nameStart + namesize > buf.length) throw new CpioFormatError(`truncated cpio name at byte ${pos}`);
    const name = buf.toString("utf8", nameStart, nameStart + namesize - 1);
    const dataStart = nameStart + namesize + pad4(HEADER_LEN + namesize);
    if (dataStart + size > buf.length) throw new CpioFormatError(`truncated cpio data for ${JSON.stringify(name)}`);
    pos = dataStart + size + pad4(size);
    if (name === TRAILER) return { entries, end: Math.min(pos, buf.length) };
    const type = typeOf(mode);
    if (!type) throw new CpioFormatError(`unknown file type ${mode.toString(8)} for ${JSON.stringify(name)}`);
    entries.push({
      name, type, perm: mode & 0o7777, uid, gid, mtime, nlink, ino, rdevMajor, rdevMinor,
      data: Buffer.from(buf.subarray(dataStart, dataStart + size)),
    });
  }
}

export interface TreeOptions {
  /** Clamp every mtime to at most this (SOURCE_DATE_EPOCH). */
  mtimeClamp?: number;
  /** Owners recorded beside the tree (unpacked by an ordinary user); they win. */
  owners?: Map<string, { uid: number; gid: number }>;
  /** Take owners from the disk (a root-made tree); otherwise everything is 0:0. */
  ownersFromDisk?: boolean;
}

/** Entries for a directory tree, sorted, owner 0:0 (or the disk's) unless recorded, mtimes clamped. */
export function treeEntries(root: string, options: TreeOptions = {}): CpioEntry[] {
  const out: CpioEntry[] = [];
  const walk = (rel: string) => {
    const names = fs.readdirSync(path.join(root, rel)).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      const abs = path.join(root, r);
      const st = fs.lstatSync(abs);
      const type = typeOf(st.mode);
      if (!type || type === "socket") continue;
      const owner = options.owners?.get(r) ?? (options.ownersFromDisk ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 });
      const mtime = Math.floor(st.mtimeMs / 1000);
      const data =
        type === "file" ? fs.readFileSync(abs) : type === "symlink" ? Buffer.from(fs.readlinkSync(abs)) : Buffer.alloc(0);
      out.push({
        name: r, type, perm: st.mode & 0o7777, ...owner, data,
        mtime: options.mtimeClamp !== undefined ? Math.min(mtime, options.mtimeClamp) : mtime,
        ...(type === "char" || type === "block" ? splitDev(st.rdev) : {}),
      });
      if (type === "dir") walk(r);
    }
  };
  walk("");
  return out;
}

/** Linux's dev_t encoding: 12-bit major split around an 8-bit minor's low part. */
export function splitDev(rdev: number): { rdevMajor: number; rdevMinor: number } {
  const big = BigInt(rdev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return { rdevMajor: major, rdevMinor: minor };
}
