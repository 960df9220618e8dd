import fs from "node:fs";
import path from "node:path";
import { writeInitrd } from "./archive/initrd.ts";
import { isRoot } from "./archive/devices.ts";
import { packTree } from "./archive/tar.ts";
import type { TreeRecord } from "./archive/safe-tree.ts";
import { compressorTools, createContext } from "./build.ts";
import { loadConfig, type ConfigSources } from "./config/load.ts";
import type { BuildContext } from "./context.ts";
import { DemocdError } from "./errors.ts";
import { requireTools, run } from "./exec.ts";
import { freshDir, linkTree, removeTree, writeFile } from "./fsutil.ts";
import { volumeId } from "./iso/xorriso.ts";
import { overlayTree } from "./overlay.ts";
import { writeIso } from "./stages/master.ts";
import { initrdEntries } from "./stages/pack.ts";
import { replayOptions } from "./unpack/boot-records.ts";
import { UNPACK_INFO, type UnpackInfo } from "./unpack/unpack-iso.ts";

export function readUnpackInfo(dir: string): UnpackInfo {
  const file = path.join(dir, UNPACK_INFO);
  if (!fs.existsSync(file)) throw new DemocdError(`${dir} was not made by unpack-iso (no ${UNPACK_INFO})`, { hint: "run ./make.ts unpack-iso ISO DIR first" });
  return JSON.parse(fs.readFileSync(file, "utf8")) as UnpackInfo;
}

/** The config of a rebuild: the recovered democd.json, then --config, then flags. */
export function loadConfigFrom(dir: string, sources: ConfigSources): ReturnType<typeof loadConfig> {
  const recovered = path.join(dir, "democd.json");
  const base = fs.existsSync(recovered) ? (JSON.parse(fs.readFileSync(recovered, "utf8")) as Record<string, unknown>) : {};
  return loadConfig({ ...sources, base });
}

function readRecord(file: string): TreeRecord {
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

/** The initrd again from <dir>/irtree, in the segments (and compressions) it came in. */
export async function packIrtreeSegments(ctx: BuildContext, dir: string, info: UnpackInfo): Promise<number> {
  const entries = initrdEntries(path.join(dir, "irtree"), ctx.sourceDateEpoch, readRecord(path.join(dir, "work", "irtree.record.json")));
  const segments = info.initrd?.segments ?? [{ compression: ctx.config.initrd.compression, members: [] }];
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

/**
 * Master an unpacked medium again. A democd medium gets its root and initrd repacked from
 * root/ (plus rootpatch/) and irtree/; any medium keeps its own boot records (replayed),
 * and usr/ is mapped in place.
 */
export async function buildFrom(dir: string, sources: ConfigSources, options: { verbose?: boolean; quiet?: boolean } = {}) {
  dir = path.resolve(dir);
  const info = readUnpackInfo(dir);
  const config = loadConfigFrom(dir, sources);
  const ctx = createContext(config, options);
  ctx.sourceDateEpoch = rebuildEpoch(info);
  ctx.epochFromEnv = true;
  ctx.paths.usr = path.join(dir, "usr");
  const { log } = ctx;
  try {
    if (info.kind === "democd") {
      await log.stage("root", async () => {
        await requireTools("cp");
        removeTree(ctx.paths.root);
        await run("cp", ["-a", "--no-target-directory", path.join(dir, "root"), ctx.paths.root], { log });
      });
      await log.stage("assemble", async () => {
        const n = overlayTree(path.join(dir, "rootpatch"), ctx.paths.root, { label: path.join(dir, "rootpatch") });
        freshDir(ctx.paths.work);
        linkTree(path.join(dir, "work", "boot"), ctx.paths.boot);
        linkTree(path.join(dir, "work", "democd"), ctx.paths.democd);
        return `rootpatch ${n} files`;
      }, (s) => s);
      await log.stage("pack", async () => {
        await requireTools(...(info.initrd?.segments ?? []).flatMap((s) => compressorTools(s.compression)));
        packTree(ctx.paths.root, path.join(ctx.paths.democd, "root.tar.gz"), {
          mtime: ctx.sourceDateEpoch,
          ownersFromDisk: isRoot(),
          record: readRecord(path.join(dir, "work", "root.record.json")),
        });
        const initrd = await packIrtreeSegments(ctx, dir, info);
        return `initrd.img ${(initrd / 1e6).toFixed(1)} MB`;
      }, (s) => s);
    } else if (fs.readdirSync(path.join(dir, "rootpatch")).length) {
      log.warn(`${dir}/rootpatch is not applied: this medium was not made by democd (edit ${dir}/usr instead)`);
    }
    const grafts = info.kind === "democd"
      ? [{ iso: "/", host: ctx.paths.usr }, { iso: "/boot", host: ctx.paths.boot }, { iso: "/democd", host: ctx.paths.democd }]
      : [{ iso: "/", host: ctx.paths.usr }];
    const volid = info.kind === "democd" ? volumeId(config.version) : (info.boot.volid ?? "CDROM");
    const r = await log.stage("master", async () => {
      await requireTools("xorriso");
      return writeIso(ctx, { volid, grafts, replay: replayOptions(info.boot, path.join(dir, "work", "boot-records")) });
    }, (x) => `${config.out} ${(x.bytes / 1e6).toFixed(1)} MB`);
    log.info(`stage times: ${log.timingSummary()}`);
    return { iso: config.out, ...r };
  } finally {
    log.close();
  }
}
