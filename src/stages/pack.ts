import fs from "node:fs";
import path from "node:path";
import { cpioSha256 } from "../archive/cpio.ts";
import { isRoot } from "../archive/devices.ts";
import { writeInitrd } from "../archive/initrd.ts";
import { initrdMembers } from "../archive/members.ts";
import { packTree } from "../archive/tar.ts";
import { cachedFile } from "../cache-file.ts";
import type { BuildContext, SegmentPlan } from "../context.ts";
import { linkAsCopy, writeFile } from "../fsutil.ts";
import { sha256 } from "../hash.ts";

/** /democd/root.tar.gz: the mutable root, reproducible (sorted, clamped mtimes, recorded owners). */
export function packRoot(ctx: BuildContext): number {
  const out = path.join(ctx.paths.democd, "root.tar.gz");
  return packTree(ctx.paths.root, out, { mtime: ctx.sourceDateEpoch, ownersFromDisk: isRoot(), record: ctx.rootRecord });
}

/**
 * The initrd, built in-process from the irtree in the source's segments (a member no segment
 * names goes into the last, the main one). Compressing is most of the cost, so an image is
 * kept by the hash of its cpio pieces: an unchanged initrd is reused, and linked into /boot
 * rather than written again.
 */
export async function packInitrd(ctx: BuildContext): Promise<{ bytes: number; reused: boolean; compression: string }> {
  const entries = initrdMembers(ctx.paths.irtree, { mtime: ctx.sourceDateEpoch, ownersFromDisk: isRoot(), record: ctx.irtreeRecord });
  const plan: SegmentPlan[] = ctx.initrdSegments?.length ? ctx.initrdSegments : [{ compression: ctx.config.initrd.compression, members: [] }];
  const listed = new Set(plan.flatMap((s) => s.members));
  const segments = plan.map((s, i) => {
    const own = new Set(s.members);
    const last = i === plan.length - 1;
    return { compression: s.compression, entries: entries.filter((e) => own.has(e.name) || (last && !listed.has(e.name))) };
  });
  const key = segments.length === 1 ? cpioSha256(segments[0].entries) : sha256(segments.map((s) => `${s.compression}:${cpioSha256(s.entries)}`).join("\n"));
  const compression = segments.map((s) => s.compression).join("+");
  const { file: cached, reused } = await cachedFile(path.join(ctx.paths.cache, "initrd", `${key}.${compression}`), async (tmp) => {
    writeFile(tmp, await writeInitrd(segments, ctx.log));
  }, ctx.log);
  const dest = path.join(ctx.paths.boot, "initrd.img");
  fs.rmSync(dest, { force: true });
  linkAsCopy(cached, dest);
  return { bytes: fs.statSync(cached).size, reused, compression };
}
