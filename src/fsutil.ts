import fs from "node:fs";
import path from "node:path";

/** Remove and recreate a directory the build owns. */
export function freshDir(dir: string): void {
  removeTree(dir);
  fs.mkdirSync(dir, { recursive: true });
}

/**
 * Mirror a tree by hard links (the cache's kernel modules into the usr tree cost no
 * copy); falls back to copying across file systems. Symlinks are recreated as-is.
 */
export function linkTree(src: string, dest: string, keep: (rel: string) => boolean = () => true): number {
  let files = 0;
  const walk = (s: string, d: string, rel: string) => {
    fs.mkdirSync(d, { recursive: true });
    fs.chmodSync(d, fs.statSync(s).mode & 0o7777);
    for (const name of fs.readdirSync(s)) {
      const r = rel ? `${rel}/${name}` : name;
      if (!keep(r)) continue;
      const sp = path.join(s, name);
      const dp = path.join(d, name);
      const st = fs.lstatSync(sp);
      if (st.isDirectory()) walk(sp, dp, r);
      else if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(sp), dp);
      else if (st.isFile()) {
        try {
          fs.linkSync(sp, dp);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
          fs.copyFileSync(sp, dp);
        }
        files++;
      }
    }
  };
  walk(src, dest, "");
  return files;
}

/**
 * Write a file as a new inode, creating its directory: an existing file is unlinked first,
 * so a hard link (to the cache, to a user's unpacked tree) or a symlink is never written through.
 */
export function writeFile(file: string, data: string | Buffer, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, data, { mode, flag: "wx" });
  fs.chmodSync(file, mode);
}

/** A relative symlink, replacing what is there. */
export function symlink(target: string, at: string): void {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.rmSync(at, { force: true });
  fs.symlinkSync(target, at);
}

/** Total size in bytes of the regular files under a directory. */
export function treeSize(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return total;
}

/** Give the owner write access to every directory under dir (media extract read-only). */
export function makeDirsWritable(dir: string): void {
  const walk = (d: string) => {
    const st = fs.lstatSync(d);
    if (!st.isDirectory()) return;
    if (!(st.mode & 0o200)) fs.chmodSync(d, (st.mode & 0o7777) | 0o700);
    for (const n of fs.readdirSync(d)) walk(path.join(d, n));
  };
  walk(dir);
}

/** Remove a tree even where it holds read-only directories (as an ordinary user). */
export function removeTree(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EACCES") throw e;
    makeDirsWritable(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The absolute path of rel under root if every step of it is inside root: no "..", no
 * absolute path, no symlink on the way (a medium's own links may point anywhere).
 */
export function pathInside(root: string, rel: string): string | undefined {
  const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) return undefined;
  let cur = root;
  for (const p of parts) {
    cur = path.join(cur, p);
    try {
      if (fs.lstatSync(cur).isSymbolicLink()) return undefined;
    } catch {
      return cur; // does not exist (yet): nothing to follow
    }
  }
  return cur;
}

/** A regular file reached without symlinks, inside root. */
export function fileInside(root: string, rel: string): string | undefined {
  const p = pathInside(root, rel);
  return p && fs.existsSync(p) && fs.lstatSync(p).isFile() ? p : undefined;
}
