import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileSha256 } from "./hash.ts";
import type { Logger } from "./log.ts";
import { removeTree } from "./fsutil.ts";
import { inParallel } from "./parallel.ts";

/**
 * What a tree held when it was cached, path by path: a directory's mode and owner; a symlink's
 * target; a file's mode, owner, size and sha256, and the inode, size and mtime it had when last
 * hashed; a device node's mode (type included), owner and number. The stat fingerprint spares hashing what nothing wrote since (as rsync's and git's
 * quick checks do): any write, truncation or replacement moves the mtime or the inode, and a file
 * whose fingerprint moved is hashed again.
 */
type SealEntry = ["d", number, number, number] | ["l", string] | ["f", number, number, number, number, string, string] | ["n", number, number, number, number];
interface Seal {
  v: 1;
  entries: Record<string, SealEntry>;
}

const fingerprint = (st: fs.Stats) => `${st.ino}:${st.size}:${st.mtimeMs}`;

function walk(dir: string): Map<string, fs.Stats> {
  const out = new Map<string, fs.Stats>();
  const go = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(dir, r));
      out.set(r, st);
      if (st.isDirectory()) go(r);
    }
  };
  go("");
  return out;
}

const lanes = () => os.availableParallelism() * 2;

async function makeSeal(dir: string): Promise<Seal> {
  const entries: Record<string, SealEntry> = {};
  const files: [string, fs.Stats][] = [];
  for (const [rel, st] of walk(dir)) {
    if (st.isDirectory()) entries[rel] = ["d", st.mode & 0o7777, st.uid, st.gid];
    else if (st.isSymbolicLink()) entries[rel] = ["l", fs.readlinkSync(path.join(dir, rel))];
    else if (st.isFile()) files.push([rel, st]);
    else entries[rel] = ["n", st.mode, st.uid, st.gid, st.rdev];
  }
  await inParallel(files, lanes(), async ([rel, st]) => {
    entries[rel] = ["f", st.mode & 0o7777, st.uid, st.gid, st.size, await fileSha256(path.join(dir, rel)), fingerprint(st)];
  });
  return { v: 1, entries };
}

function writeSeal(file: string, seal: Seal): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(seal));
  fs.renameSync(tmp, file);
}

/**
 * The first difference between `dir` and its seal, or undefined when it is what was sealed.
 * Files hashed again and found unchanged get their new fingerprint recorded.
 */
async function checkSeal(dir: string, sealFile: string): Promise<string | undefined> {
  const seal = JSON.parse(fs.readFileSync(sealFile, "utf8")) as Seal;
  const found = walk(dir);
  for (const rel of Object.keys(seal.entries)) if (!found.has(rel)) return `${rel} is missing`;
  const rehash: [string, fs.Stats, string][] = [];
  for (const [rel, st] of found) {
    const e = seal.entries[rel];
    if (!e) return `${rel} was not in it`;
    if (e[0] === "d") {
      if (!st.isDirectory() || (st.mode & 0o7777) !== e[1] || st.uid !== e[2] || st.gid !== e[3]) return `${rel} changed`;
    } else if (e[0] === "l") {
      if (!st.isSymbolicLink() || fs.readlinkSync(path.join(dir, rel)) !== e[1]) return `${rel} changed`;
    } else if (e[0] === "n") {
      if (st.mode !== e[1] || st.uid !== e[2] || st.gid !== e[3] || st.rdev !== e[4]) return `${rel} changed`;
    } else {
      if (!st.isFile() || (st.mode & 0o7777) !== e[1] || st.uid !== e[2] || st.gid !== e[3] || st.size !== e[4]) return `${rel} changed`;
      if (fingerprint(st) !== e[6]) rehash.push([rel, st, e[5]]);
    }
  }
  let damaged: string | undefined;
  await inParallel(rehash, lanes(), async ([rel, st, want]) => {
    if ((await fileSha256(path.join(dir, rel))) !== want) damaged ??= `${rel} changed`;
    else (seal.entries[rel] as string[])[6] = fingerprint(st);
  });
  if (damaged) return damaged;
  if (rehash.length) writeSeal(sealFile, seal);
  return undefined;
}

/**
 * Whether the cache entry `entry` (a directory tree: an unpacked package, the bootstrap, a
 * module tree) can be used: it exists and still is what its seal (`ENTRY.seal.json`) says. A
 * tree changed since, or one with no seal, is said in one line and removed.
 */
export async function reusableTree(entry: string, log?: Logger): Promise<boolean> {
  if (!fs.existsSync(entry)) return false;
  const problem = await treeProblem(entry);
  if (problem === undefined) return true;
  if (problem === NO_SEAL) log?.record(`cache: ${entry} has no seal (made by an older democd): making it again`);
  else log?.warn(`cache: ${entry} is damaged (${problem}): making it again`);
  removeTree(entry);
  return false;
}

const NO_SEAL = "it has no seal";

/** What differs between the tree `entry` and its seal; undefined when it is as sealed. Changes nothing. */
export async function treeProblem(entry: string): Promise<string | undefined> {
  const sealFile = `${entry}.seal.json`;
  if (!fs.existsSync(entry)) return "it is missing";
  if (!fs.existsSync(sealFile)) return NO_SEAL;
  try {
    return await checkSeal(entry, sealFile);
  } catch (e) {
    return `its seal cannot be read: ${(e as Error).message}`;
  }
}

/** `make` fills a temporary name; the tree is sealed, then renamed to `entry`: never half-made under its name. */
export async function makeTree(entry: string, make: (tmp: string) => Promise<void>): Promise<void> {
  fs.mkdirSync(path.dirname(entry), { recursive: true });
  const tmp = `${entry}.tmp-${process.pid}`;
  removeTree(tmp);
  try {
    await make(tmp);
    writeSeal(`${entry}.seal.json`, await makeSeal(tmp));
    removeTree(entry);
    fs.renameSync(tmp, entry);
  } finally {
    removeTree(tmp);
  }
}

/** A cache entry that is a tree: reused while it is what was sealed, else made again by `make`. */
export async function cachedTree(entry: string, make: (tmp: string) => Promise<void>, log?: Logger): Promise<{ dir: string; reused: boolean }> {
  if (await reusableTree(entry, log)) return { dir: entry, reused: true };
  await makeTree(entry, make);
  return { dir: entry, reused: false };
}
