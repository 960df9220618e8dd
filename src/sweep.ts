import fs from "node:fs";
import path from "node:path";
import { removeTree } from "./fsutil.ts";

/** What a build killed half-way leaves: temporary names its writers rename only when complete. */
const TEMPORARY = /\.tmp-|^\.unpack-|^\.download-|\.stale-\d+$|\.new\.\d+$/;

/**
 * Remove the temporaries a killed build left in a cache (its top level and one level down, where
 * every writer of the cache puts them) or beside an output (`.NAME.tmp-*`). Only under the cache's
 * lock: no other build is writing there. Returns what was removed.
 */
export function sweepTemporaries(cache: string, outputs: readonly string[]): string[] {
  const removed: string[] = [];
  const sweep = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = path.join(dir, name);
      if (TEMPORARY.test(name)) {
        removeTree(p);
        removed.push(p);
      } else if (depth > 0 && fs.lstatSync(p).isDirectory()) sweep(p, depth - 1);
    }
  };
  sweep(cache, 1);
  for (const out of outputs) {
    const dir = path.dirname(out);
    const prefix = `.${path.basename(out)}.tmp-`;
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (!name.startsWith(prefix)) continue;
      removeTree(path.join(dir, name));
      removed.push(path.join(dir, name));
    }
  }
  return removed;
}
