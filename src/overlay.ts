import fs from "node:fs";
import path from "node:path";
import { DemocdError } from "./errors.ts";

/**
 * Copy a tree (rootpatch/, a profile skeleton) onto a root without ever following a
 * symlink in the root: a root whose etc is a link to /etc must not let the overlay
 * write the host's /etc. Files, directories, symlinks and modes are copied as they are.
 */
export function overlayTree(src: string, destRoot: string, options: { render?: (rel: string, text: string) => string; label?: string } = {}): number {
  let count = 0;
  const label = options.label ?? src;
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(src, rel)).sort()) {
      const srcRel = rel ? path.join(rel, name) : name;
      const sp = path.join(src, srcRel);
      const st = fs.lstatSync(sp);
      const rendered = options.render && name.endsWith(".ejs");
      const destRel = rendered ? srcRel.slice(0, -4) : srcRel;
      const dp = path.join(destRoot, destRel);
      assertNoSymlinkParents(destRoot, destRel, `${label}/${srcRel}`);
      const existing = lstatOrNull(dp);
      if (st.isDirectory()) {
        if (existing?.isSymbolicLink()) {
          throw new DemocdError(`${label}/${srcRel}: the root's ${destRel} is a symlink (to ${fs.readlinkSync(dp)}); refusing to write through it`, {
            hint: `remove the link from the root or move the files in ${label}/${srcRel}`,
          });
        }
        if (!existing) fs.mkdirSync(dp);
        else if (!existing.isDirectory()) throw new DemocdError(`${label}/${srcRel} is a directory but the root's ${destRel} is not`);
        fs.chmodSync(dp, st.mode & 0o7777);
        walk(srcRel);
        continue;
      }
      // Replace links and files themselves rather than writing through them.
      if (existing && !existing.isDirectory()) fs.rmSync(dp, { force: true });
      else if (existing?.isDirectory()) throw new DemocdError(`${label}/${srcRel} is a file but the root's ${destRel} is a directory`);
      if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(sp), dp);
      else if (st.isFile()) {
        if (rendered) fs.writeFileSync(dp, options.render!(destRel, fs.readFileSync(sp, "utf8")));
        else fs.copyFileSync(sp, dp);
        fs.chmodSync(dp, st.mode & 0o7777);
      } else throw new DemocdError(`${label}/${srcRel}: only files, directories and symlinks can be overlaid`);
      count++;
    }
  };
  if (fs.existsSync(src)) walk("");
  return count;
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

/** Throw if any directory on the way from root to rel (exclusive) is a symlink. */
export function assertNoSymlinkParents(root: string, rel: string, what: string): void {
  const parts = rel.split(path.sep).slice(0, -1);
  let cur = root;
  for (const p of parts) {
    cur = path.join(cur, p);
    const st = lstatOrNull(cur);
    if (st?.isSymbolicLink()) {
      throw new DemocdError(`${what}: ${path.relative(root, cur)} in the root is a symlink (to ${fs.readlinkSync(cur)}); refusing to write through it`, {
        hint: "replace the link in the root with a directory, or drop the file from the overlay",
      });
    }
  }
}
