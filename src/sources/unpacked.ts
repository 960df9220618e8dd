import fs from "node:fs";
import path from "node:path";
import { writeInitrd } from "../archive/initrd.ts";
import { isRoot } from "../archive/devices.ts";
import { packTree } from "../archive/tar.ts";
import type { TreeRecord } from "../archive/safe-tree.ts";
import { loadConfig, type ConfigSources } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import type { BuildContext } from "../context.ts";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import { freshDir, linkTree, removeTree, writeFile } from "../fsutil.ts";
import { volumeId, type MasterArgs } from "../iso/xorriso.ts";
import { overlayTree } from "../overlay.ts";
import { initrdEntries } from "../stages/pack.ts";
import { replayOptions } from "../unpack/boot-records.ts";
import { UNPACK_INFO, type UnpackInfo } from "../unpack/unpack-iso.ts";

/**
 * An unpacked medium (`unpack-iso DIR`) as the build's source, beside the debian and
 * minimal roots: its trees replace fetch, root and render, and every writer serves it.
 */
export interface UnpackedSource {
  dir: string;
  info: UnpackInfo;
}

export function readUnpackInfo(dir: string): UnpackInfo {
  const file = path.join(dir, UNPACK_INFO);
  if (!fs.existsSync(file)) throw new DemocdError(`${dir} was not made by unpack-iso (no ${UNPACK_INFO})`, { hint: "run ./make.ts unpack-iso ISO DIR first" });
  return JSON.parse(fs.readFileSync(file, "utf8")) as UnpackInfo;
}

/** The config of a rebuild: the recovered democd.json, then --config, then flags. */
export function loadConfigFrom(dir: string, sources: ConfigSources): Config {
  const recovered = path.join(dir, "democd.json");
  const base = fs.existsSync(recovered) ? (JSON.parse(fs.readFileSync(recovered, "utf8")) as Record<string, unknown>) : {};
  return loadConfig({ ...sources, base });
}

export function readRecord(file: string): TreeRecord {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as TreeRecord) : { owners: {}, devices: [] };
}

/** Epoch of a rebuild: SOURCE_DATE_EPOCH, else the original build's, else the medium's own date. */
export function rebuildEpoch(info: UnpackInfo, env = process.env): number {
  if (env.SOURCE_DATE_EPOCH && /^\d+$/.test(env.SOURCE_DATE_EPOCH)) return Number(env.SOURCE_DATE_EPOCH);
  if (info.sourceDateEpoch) return info.sourceDateEpoch;
  const d = info.boot.modificationDate;
  if (d && /^\d{14}/.test(d)) return Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(8, 10), +d.slice(10, 12), +d.slice(12, 14)) / 1000;
  return Math.floor(Date.now() / 1000);
}

/** Point the context at the unpacked trees: its /usr is mapped in place, its dates are the medium's. */
export function useUnpackedSource(ctx: BuildContext, dir: string): UnpackedSource {
  const info = readUnpackInfo(dir);
  ctx.unpacked = { dir, info };
  ctx.sourceDateEpoch = rebuildEpoch(info);
  ctx.epochFromEnv = true;
  ctx.paths.usr = path.join(dir, "usr");
  if (info.kind === "democd") {
    ctx.mediaId = info.id ?? fs.readFileSync(path.join(dir, "work", "democd", "id"), "utf8").trim();
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "work", "democd", "build.json"), "utf8")) as { kernel?: string; xen?: string };
    ctx.bootVersions = { kernel: manifest.kernel ?? "unknown", xen: manifest.xen ?? "unknown" };
  }
  return ctx.unpacked;
}

/** root stage: the unpacked root, copied with its owners (the unpack stays as the user left it). */
export async function copyUnpackedRoot(ctx: BuildContext, src: UnpackedSource): Promise<void> {
  removeTree(ctx.paths.root);
  await run("cp", ["-a", "--no-target-directory", path.join(src.dir, "root"), ctx.paths.root], { log: ctx.log });
  ctx.rootRecord = readRecord(path.join(src.dir, "work", "root.record.json"));
}

/** assemble stage: the user's rootpatch over the root, the medium's /boot and /democd in place. */
export function assembleUnpacked(ctx: BuildContext, src: UnpackedSource): number {
  const n = overlayTree(path.join(src.dir, "rootpatch"), ctx.paths.root, { label: path.join(src.dir, "rootpatch") });
  freshDir(ctx.paths.work);
  linkTree(path.join(src.dir, "work", "boot"), ctx.paths.boot);
  linkTree(path.join(src.dir, "work", "democd"), ctx.paths.democd);
  return n;
}

/** The initrd again from <dir>/irtree, in the segments (and compressions) it came in. */
export async function packIrtreeSegments(ctx: BuildContext, src: UnpackedSource): Promise<number> {
  const entries = initrdEntries(path.join(src.dir, "irtree"), ctx.sourceDateEpoch, readRecord(path.join(src.dir, "work", "irtree.record.json")));
  const segments = src.info.initrd?.segments ?? [{ compression: ctx.config.initrd.compression, members: [] }];
  const listed = new Set(segments.flatMap((s) => s.members));
  // Members the user added belong to the last (main) segment.
  const image = await writeInitrd(
    segments.map((s, i) => {
      const own = new Set(s.members);
      const last = i === segments.length - 1;
      return { compression: s.compression, entries: entries.filter((e) => own.has(e.name) || (last && !listed.has(e.name))) };
    }),
    ctx.log,
  );
  writeFile(path.join(ctx.paths.boot, "initrd.img"), image);
  return image.length;
}

/** pack stage: root.tar.gz with the recorded owners and devices, the initrd by its segments. */
export async function packUnpacked(ctx: BuildContext, src: UnpackedSource): Promise<number> {
  packTree(ctx.paths.root, path.join(ctx.paths.democd, "root.tar.gz"), { mtime: ctx.sourceDateEpoch, ownersFromDisk: isRoot(), record: ctx.rootRecord });
  return packIrtreeSegments(ctx, src);
}

/** The ISO writer's inputs for an unpacked medium: its own boot records replayed, its trees in place. */
export function unpackedIsoArgs(ctx: BuildContext, src: UnpackedSource): Omit<MasterArgs, "out" | "epoch"> {
  const democd = src.info.kind === "democd";
  return {
    volid: democd ? volumeId(ctx.config.version) : (src.info.boot.volid ?? "CDROM"),
    grafts: democd
      ? [{ iso: "/", host: ctx.paths.usr }, { iso: "/boot", host: ctx.paths.boot }, { iso: "/democd", host: ctx.paths.democd }]
      : [{ iso: "/", host: ctx.paths.usr }],
    replay: replayOptions(src.info.boot, path.join(src.dir, "work", "boot-records")),
  };
}
