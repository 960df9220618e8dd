import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freshDir, linkOrCopy } from "../fsutil.ts";
import { sha256 } from "../hash.ts";
import type { Logger } from "../log.ts";
import { inParallel } from "../parallel.ts";
import { sectors, zisofsDecode, zisofsEncode, ZISOFS_BLOCK_LOG2, ZISOFS_LEVEL } from "./zisofs.ts";

/** Already compressed: trying them costs time and saves nothing (measured: < 1 % of their size). */
const COMPRESSED = /\.(xz|gz|tgz|bz2|zst|lz4|lzma|zip|jar|whl|png|jpe?g|gif|webp|woff2?|deb|squashfs)$/i;

export interface ZisofsTreeStats {
  files: number;
  compressed: number;
  /** What the compressed files take plain and compressed (bytes, in whole 2 KiB sectors as on the medium). */
  plainBytes: number;
  zisofsBytes: number;
  /** Compressed now (the rest came from the cache). */
  made: number;
  /** Files of the `plain` list found in the tree. */
  keptPlain: number;
}

interface Memo {
  params: string;
  /** dev:ino:size:mtime of a source file -> its cache entry's name, or "" for a file kept plain. */
  files: Record<string, string>;
  /** A cache entry's name -> ino:size:mtime it had when last found sound (it decodes to the content its name hashes). */
  sound?: Record<string, string>;
}

const statKey = (st: fs.Stats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`;
const fingerprint = (st: fs.Stats) => `${st.ino}:${st.size}:${st.mtimeMs}`;

/**
 * Whether a cache entry is sound: it decodes to the content whose sha256 names it, with the
 * mode its name gives. Checked once per write of the entry (its fingerprint is remembered).
 */
function soundEntry(entry: string, name: string, memo: Memo): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(entry);
  } catch {
    return false;
  }
  if (memo.sound?.[name] === fingerprint(st)) return true;
  const [hash, mode] = name.split("-");
  try {
    if (!st.isFile() || (st.mode & 0o7777).toString(8) !== mode || sha256(zisofsDecode(fs.readFileSync(entry))) !== hash) return false;
  } catch {
    return false;
  }
  (memo.sound ??= {})[name] = fingerprint(st);
  return true;
}

/**
 * `view`: the tree `src` as the medium holds it, by hard links: each file zisofs-compressed
 * where that saves a sector, else the file itself. Compressed files live in the cache
 * (<cache>/zisofs/<parameters>/<sha256 of the content>-<mode>), made once per content on every core, under a
 * temporary name until complete; a memo of the source files' identities spares a warm build
 * reading them again. The files in `plain` (paths relative to src) stay as they are.
 */
export async function zisofsTree(src: string, view: string, cacheDir: string, plain: ReadonlySet<string>, log?: Logger): Promise<ZisofsTreeStats> {
  // Entries made with other parameters are other bytes: a directory of their own.
  const params = `v1-level${ZISOFS_LEVEL}-block${2 ** ZISOFS_BLOCK_LOG2 / 1024}k`;
  const dir = path.join(cacheDir, "zisofs", params);
  fs.mkdirSync(dir, { recursive: true });
  const memoFile = path.join(dir, "memo.json");
  let memo: Memo = { params, files: {} };
  try {
    const read = JSON.parse(fs.readFileSync(memoFile, "utf8")) as Memo;
    if (read.params === params) memo = read;
  } catch {
    /* none yet */
  }

  // One walk: every entry in order, parents before children.
  const entries: { rel: string; st: fs.Stats }[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(src, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(src, r));
      entries.push({ rel: r, st });
      if (st.isDirectory()) walk(r);
    }
  };
  walk("");
  const files = entries.filter((e) => e.st.isFile());

  const wanted = files.filter((f) => f.st.size > 2048 && !COMPRESSED.test(f.rel) && !plain.has(f.rel));
  // An entry changed since it was made is said in one line and made again from its file.
  const entryPath = (name: string) => path.join(dir, name.slice(0, 2), name);
  const damaged = (name: string) => {
    log?.warn(`cache: ${entryPath(name)} is damaged (it does not decode to the content its name hashes): making it again`);
    fs.rmSync(entryPath(name), { force: true });
    delete memo.sound?.[name];
  };
  for (const name of new Set(wanted.map((f) => memo.files[statKey(f.st)]).filter(Boolean))) {
    if (soundEntry(entryPath(name), name, memo)) continue;
    damaged(name);
    for (const f of wanted) if (memo.files[statKey(f.st)] === name) delete memo.files[statKey(f.st)];
  }
  const todo = wanted.filter((f) => memo.files[statKey(f.st)] === undefined);
  const stats: ZisofsTreeStats = { files: files.length, compressed: 0, plainBytes: 0, zisofsBytes: 0, made: 0, keptPlain: files.filter((f) => plain.has(f.rel)).length };
  const compress = new Set(wanted.map((f) => f.rel));
  let done = 0;
  await inParallel(todo, os.availableParallelism() * 2, async (f) => {
    const data = fs.readFileSync(path.join(src, f.rel));
    const name = `${sha256(data)}-${(f.st.mode & 0o7777).toString(8)}`;
    const entry = entryPath(name);
    if (fs.existsSync(entry) && !soundEntry(entry, name, memo)) damaged(name);
    if (!fs.existsSync(entry)) {
      const z = await zisofsEncode(data);
      if (z) {
        fs.mkdirSync(path.dirname(entry), { recursive: true });
        const tmp = `${entry}.tmp-${process.pid}`;
        fs.writeFileSync(tmp, z, { mode: f.st.mode & 0o7777 });
        fs.chmodSync(tmp, f.st.mode & 0o7777);
        fs.renameSync(tmp, entry);
        (memo.sound ??= {})[name] = fingerprint(fs.lstatSync(entry));
        stats.made++;
      }
      memo.files[statKey(f.st)] = z ? name : "";
    } else memo.files[statKey(f.st)] = name;
    log?.progress(`compressing the medium (zisofs): ${++done}/${todo.length}`);
  });

  freshDir(view);
  fs.chmodSync(view, fs.statSync(src).mode & 0o7777);
  for (const { rel, st } of entries) {
    const dp = path.join(view, rel);
    if (st.isDirectory()) fs.mkdirSync(dp, { mode: 0o700 });
    else if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(path.join(src, rel)), dp);
    else if (st.isFile()) {
      const entryName = compress.has(rel) ? memo.files[statKey(st)] : undefined;
      if (entryName) {
        const entry = path.join(dir, entryName.slice(0, 2), entryName);
        linkOrCopy(entry, dp);
        stats.compressed++;
        stats.plainBytes += sectors(st.size) * 2048;
        stats.zisofsBytes += sectors(fs.statSync(entry).size) * 2048;
      } else linkOrCopy(path.join(src, rel), dp);
    }
  }
  // Directories get their modes last: a read-only one is filled first.
  for (const { rel, st } of entries) if (st.isDirectory()) fs.chmodSync(path.join(view, rel), st.mode & 0o7777);

  // Only what this tree holds is remembered: the memo does not grow with every bootstrap ever made.
  const seen = new Set(files.map((f) => statKey(f.st)));
  memo.files = Object.fromEntries(Object.entries(memo.files).filter(([k]) => seen.has(k)));
  const used = new Set(Object.values(memo.files));
  memo.sound = Object.fromEntries(Object.entries(memo.sound ?? {}).filter(([name]) => used.has(name)));
  const tmp = `${memoFile}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(memo));
  fs.renameSync(tmp, memoFile);
  return stats;
}

/**
 * A list of files the boot reads (one path per line, relative to the medium's root; # comments):
 * they stay plain. None if there is no such file.
 */
export function readPlainList(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean).map((l) => l.replace(/^\/+/, ""));
}
