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
 * Make dest the same tree as src by hard links, reusing what dest already holds: a file
 * already linked to its source, an identical symlink, a directory stay; anything else is
 * replaced, and what src lacks is removed, except the `owned` paths (and the directories
 * leading to them), which another step fills and src's own entries there are skipped. A
 * warm rebuild then touches what changed instead of deleting and relinking every entry (on
 * these disks, deleting a 10,000-file tree took longer than mastering it). Without src,
 * dest is emptied down to the owned paths. `preserve` gives directories and symlinks their
 * source's owner and mtime too, as `cp -a` would (files are the source's own inodes).
 */
export function mirrorTree(src: string | undefined, dest: string, options: { owned?: readonly string[]; preserve?: boolean } = {}): number {
  const owned = options.owned ?? [];
  let files = 0;
  const ownedOrAbove = (rel: string) => owned.some((o) => o === rel || o.startsWith(`${rel}/`));
  const walk = (s: string | undefined, d: string, rel: string) => {
    let cur = lstatOrUndefined(d);
    if (cur && !cur.isDirectory()) {
      removeTree(d);
      cur = undefined;
    }
    if (!cur) fs.mkdirSync(d, { recursive: rel === "" });
    const sst = s ? fs.statSync(s) : undefined;
    const mode = sst ? sst.mode & 0o7777 : 0o755;
    if (!cur || (cur.mode & 0o7777) !== mode) fs.chmodSync(d, mode);
    const names = s ? fs.readdirSync(s) : [];
    const wanted = new Set(names);
    for (const name of fs.readdirSync(d)) {
      const r = rel ? `${rel}/${name}` : name;
      if (owned.includes(r) || wanted.has(name)) continue;
      if (ownedOrAbove(r)) walk(undefined, path.join(d, name), r);
      else removeTree(path.join(d, name));
    }
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (owned.includes(r)) continue;
      const sp = path.join(s as string, name);
      const dp = path.join(d, name);
      const st = fs.lstatSync(sp);
      const at = lstatOrUndefined(dp);
      if (st.isDirectory()) walk(sp, dp, r);
      else if (st.isSymbolicLink()) {
        const target = fs.readlinkSync(sp);
        if (at?.isSymbolicLink() && fs.readlinkSync(dp) === target) continue;
        if (at) removeTree(dp);
        fs.symlinkSync(target, dp);
        if (options.preserve) {
          fs.lchownSync(dp, st.uid, st.gid);
          fs.lutimesSync(dp, st.atime, st.mtime);
        }
      } else {
        files++;
        if (at && !at.isDirectory() && at.ino === st.ino && at.dev === st.dev) continue;
        if (at) removeTree(dp);
        try {
          fs.linkSync(sp, dp);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EXDEV" || !st.isFile()) throw e;
          fs.copyFileSync(sp, dp);
        }
      }
    }
    // Last: filling a directory changes its mtime. The top directory is dest's own.
    if (options.preserve && sst && rel !== "") {
      if (!cur || cur.uid !== sst.uid || cur.gid !== sst.gid) fs.chownSync(d, sst.uid, sst.gid);
      fs.utimesSync(d, sst.atime, sst.mtime);
    }
  };
  walk(src, dest, "");
  return files;
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
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

/** A hard link, or a copy where one cannot be made (another file system; protected_hardlinks for files of other users). */
export function linkOrCopy(src: string, dest: string): void {
  try {
    fs.linkSync(src, dest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM") throw e;
    fs.copyFileSync(src, dest);
    fs.chmodSync(dest, fs.statSync(src).mode & 0o7777);
  }
}

/**
 * A hard link where it cannot be told from a copy: the file is this process's, owner and group
 * (a copy's would be), so a root build over a cache another user filled still gets root's
 * files. Dates differ, but every output sets its own. Otherwise a copy, with the file's mode.
 */
export function linkAsCopy(src: string, dest: string): void {
  const st = fs.statSync(src);
  if (process.geteuid?.() === st.uid && process.getegid?.() === st.gid) linkOrCopy(src, dest);
  else {
    fs.copyFileSync(src, dest);
    fs.chmodSync(dest, st.mode & 0o7777);
  }
}
