import fs from "node:fs";
import { run } from "../exec.ts";
import { fileInside } from "../fsutil.ts";
import type { Logger } from "../log.ts";

/**
 * Paths on a medium whose data is one extent: what the mastering tool stored once because
 * they were one file (hard links, such as Debian's perl and perl5.36.0), from xorriso's
 * `report_lba` lines ("File data lba: XT , START , BLOCKS , SIZE , 'PATH'"). Empty files
 * share no data and are left out. Each family is sorted; families come in path order.
 */
export function sharedExtentFamilies(report: string): string[][] {
  const byExtent = new Map<string, string[]>();
  for (const line of report.split("\n")) {
    const m = /^File data lba:\s*0\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'(.*)'\s*$/.exec(line);
    if (!m || m[3] === "0") continue;
    const key = `${m[1]}:${m[3]}`;
    const name = m[4].replace(/'\\''/g, "'");
    byExtent.set(key, [...(byExtent.get(key) ?? []), name]);
  }
  return [...byExtent.values()].filter((f) => f.length > 1).map((f) => f.sort()).sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/**
 * Make each family of an extracted medium one file again, as it was when mastered: the
 * extraction wrote them as copies, and a rebuild would then store each copy (4 MB more for
 * a debian medium, and other bytes). Only regular files reached without symlinks inside
 * `dir` are linked; anything else is left as extracted. Returns the paths linked.
 */
export async function relinkSharedExtents(iso: string, dir: string, log?: Logger): Promise<number> {
  const report = await run("xorriso", ["-indev", iso, "-find", "/", "-type", "f", "-exec", "report_lba"], { log });
  let linked = 0;
  for (const [first, ...rest] of sharedExtentFamilies(report.stdout)) {
    const keep = fileInside(dir, first);
    if (!keep) continue;
    for (const other of rest) {
      const p = fileInside(dir, other);
      if (!p) continue;
      fs.rmSync(p);
      fs.linkSync(keep, p);
      linked++;
    }
  }
  return linked;
}
