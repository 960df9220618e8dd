import fs from "node:fs";
import path from "node:path";
import { createDevices, isRoot } from "../archive/devices.ts";
import { readInitrd, type InitrdSegment } from "../archive/initrd.ts";
import { SafeTree } from "../archive/safe-tree.ts";
import { untarInto } from "../archive/untar.ts";
import type { Compression } from "../archive/compress.ts";
import { checkFreeSpace } from "../diskspace.ts";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import { fileInside, makeDirsWritable, pathInside, removeTree } from "../fsutil.ts";
import type { Logger } from "../log.ts";
import { findBootConfigs, type BootConfig } from "./boot-config.ts";
import { saveBootRecords, type BootRecords } from "./boot-records.ts";
import { relinkSharedExtents } from "./shared-extents.ts";

/** What unpack-iso learned, kept in <dir>/work/unpack.json for `build --from`. */
export interface UnpackInfo {
  kind: "democd" | "foreign";
  source: string;
  boot: BootRecords;
  /** democd media: the id, the build's SOURCE_DATE_EPOCH, and how the initrd was segmented. */
  id?: string;
  sourceDateEpoch?: number;
  initrd?: { segments: { compression: Compression; members: string[] }[] };
  /** foreign media: boot configs and where their initrds were unpacked. */
  bootConfigs?: BootConfig[];
  initrds?: { path: string; dir: string; segments: Compression[] }[];
  /** Members refused as hostile, by archive. */
  refused: string[];
}

export const UNPACK_INFO = "work/unpack.json";

/** What makes a medium democd's. */
const DEMOCD_FILES = ["democd/id", "democd/build.json", "democd/root.tar.gz", "boot/initrd.img"];

/** Check the input is an ISO 9660 image xorriso can read, with one readable line if not. */
async function checkIso(iso: string, log?: Logger): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.statSync(iso);
  } catch {
    throw new DemocdError(`${iso} does not exist`);
  }
  if (!st.isFile() && !st.isBlockDevice()) throw new DemocdError(`${iso} is not a file`);
  // xorriso takes a non-ISO file for a blank medium and does not notice a short one.
  const declared = isoVolumeBytes(iso);
  if (declared === undefined) throw new DemocdError(`${iso} is not an ISO 9660 image (no CD001 volume descriptor at byte 32768)`);
  if (st.isFile() && st.size < declared) {
    throw new DemocdError(`${iso} is truncated: ${st.size} bytes of the ${declared} its volume descriptor declares`, { hint: "copy or download it again" });
  }
  try {
    await run("xorriso", ["-indev", iso, "-pvd_info"], { log });
  } catch (e) {
    throw new DemocdError(`${iso} is not a readable ISO 9660 image (xorriso cannot load it)`, { debug: (e as DemocdError).debug });
  }
}

/** The size the primary volume descriptor declares (xorriso does not notice a short file). */
export function isoVolumeBytes(iso: string): number | undefined {
  const pvd = Buffer.alloc(2048);
  const fd = fs.openSync(iso, "r");
  try {
    // The primary volume descriptor is usually first of the descriptors from sector 16 on.
    if (fs.readSync(fd, pvd, 0, 2048, 16 * 2048) < 2048) return undefined;
  } finally {
    fs.closeSync(fd);
  }
  if (pvd[0] !== 1 || pvd.toString("latin1", 1, 6) !== "CD001") return undefined;
  return pvd.readUInt32LE(80) * pvd.readUInt16LE(128);
}

function checkTarget(target: string, force: boolean): void {
  const parent = path.dirname(path.resolve(target));
  if (!fs.existsSync(parent)) throw new DemocdError(`the directory ${parent} for ${target} does not exist`);
  if (!fs.existsSync(target)) return;
  if (!fs.statSync(target).isDirectory()) throw new DemocdError(`${target} exists and is not a directory`);
  if (fs.readdirSync(target).length && !force) throw new DemocdError(`${target} is not empty`, { hint: "choose a new directory, or --force to replace it" });
}

/**
 * Unpack an ISO into editable trees (usr/, root/, irtree/, rootpatch/, work/) under
 * `target`. Everything is made in a temporary sibling and renamed into place only when
 * complete, so a failure never leaves a half-written target or touches an existing one.
 */
export async function unpackIso(iso: string, target: string, options: { force?: boolean; log?: Logger } = {}): Promise<UnpackInfo> {
  const log = options.log;
  target = path.resolve(target);
  await checkIso(iso, log);
  checkTarget(target, options.force ?? false);
  // The medium's files at least; its root.tar.gz and initrds unpack to more.
  checkFreeSpace(path.dirname(target), fs.statSync(iso).size, `unpacking ${path.basename(iso)}`);
  const tmp = fs.mkdtempSync(`${target}.unpack-`);
  try {
    const usr = path.join(tmp, "usr");
    await run("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", usr], {
      log,
      onLine: (l) => /UPDATE/.test(l) && log?.progress(l.replace(/^xorriso : UPDATE :\s*/, "extracting: ")),
    });
    // Rock Ridge modes are read-only; mastering clears write bits again, so this changes nothing on a rebuilt medium.
    makeDirsWritable(usr);
    await relinkSharedExtents(iso, usr, log);
    const boot = await saveBootRecords(iso, path.join(tmp, "work", "boot-records"), log);
    const catalog = boot.catalog && fileInside(usr, boot.catalog);
    if (catalog) fs.rmSync(catalog);
    fs.mkdirSync(path.join(tmp, "rootpatch"));

    // Everything the democd path reads, moves and deletes must be real files inside the medium.
    const isDemocd = DEMOCD_FILES.every((f) => fileInside(usr, f));
    if (!isDemocd && pathInside(usr, "democd/id") === undefined) {
      throw new DemocdError(`${iso}: /democd or /democd/id on the medium is a symlink; refusing to follow it`);
    }
    const info = isDemocd ? await unpackDemocd(tmp, boot, log) : await unpackForeign(tmp, boot, log);
    info.source = path.basename(iso);
    fs.writeFileSync(path.join(tmp, UNPACK_INFO), JSON.stringify(info, null, 2) + "\n");

    if (fs.existsSync(target)) {
      const old = `${target}.old-${process.pid}`;
      fs.renameSync(target, old);
      fs.renameSync(tmp, target);
      removeTree(old);
    } else fs.renameSync(tmp, target);
    return info;
  } catch (e) {
    removeTree(tmp);
    throw e;
  }
}

/** Unpack an initrd image into a directory; returns its segments. */
async function unpackInitrd(image: string, dir: string, recordFile: string, refused: string[], log?: Logger): Promise<InitrdSegment[]> {
  let segments: InitrdSegment[];
  try {
    segments = await readInitrd(fs.readFileSync(image), log);
  } catch (e) {
    if (e instanceof DemocdError) throw e;
    throw new DemocdError(`${path.basename(image)} is not a readable initrd: ${(e as Error).message}`, { debug: String((e as Error).stack) });
  }
  const tree = new SafeTree(dir, { privileged: isRoot() });
  for (const s of segments) for (const e of s.entries) tree.add({ ...e, link: e.type === "symlink" ? e.data.toString() : undefined });
  tree.finish();
  await createDevices(tree, log);
  saveRecord(tree, recordFile);
  refused.push(...tree.refused.map((r) => `${path.basename(image)}: ${r}`));
  return segments;
}

/** Owners and device nodes that could not be applied on disk (not root), for the packer. */
function saveRecord(tree: SafeTree, file: string): void {
  if (Object.keys(tree.record.owners).length || tree.record.devices.length) fs.writeFileSync(file, JSON.stringify(tree.record, null, 2) + "\n");
}

async function unpackDemocd(tmp: string, boot: BootRecords, log?: Logger): Promise<UnpackInfo> {
  const usr = path.join(tmp, "usr");
  const work = path.join(tmp, "work");
  fs.renameSync(path.join(usr, "boot"), path.join(work, "boot"));
  fs.renameSync(path.join(usr, "democd"), path.join(work, "democd"));
  const manifest = JSON.parse(fs.readFileSync(path.join(work, "democd", "build.json"), "utf8"));
  const refused: string[] = [];

  const tarball = path.join(work, "democd", "root.tar.gz");
  const root = new SafeTree(path.join(tmp, "root"), { privileged: isRoot() });
  await untarInto(tarball, root);
  await createDevices(root, log);
  saveRecord(root, path.join(work, "root.record.json"));
  refused.push(...root.refused.map((r) => `root.tar.gz: ${r}`));
  fs.rmSync(tarball);

  const initrd = path.join(work, "boot", "initrd.img");
  const segments = await unpackInitrd(initrd, path.join(tmp, "irtree"), path.join(work, "irtree.record.json"), refused, log);
  fs.rmSync(initrd);

  // The recovered config: what `build --from` starts from, and what the user edits.
  fs.writeFileSync(path.join(tmp, "democd.json"), JSON.stringify(manifest.config ?? {}, null, 2) + "\n");
  return {
    kind: "democd",
    source: "",
    boot,
    id: manifest.id,
    sourceDateEpoch: manifest.sourceDateEpoch,
    initrd: { segments: segments.map((s) => ({ compression: s.compression, members: s.entries.map((e) => e.name) })) },
    refused,
  };
}

async function unpackForeign(tmp: string, boot: BootRecords, log?: Logger): Promise<UnpackInfo> {
  const usr = path.join(tmp, "usr");
  const refused: string[] = [];
  const bootConfigs = findBootConfigs(usr);
  const initrds: NonNullable<UnpackInfo["initrds"]> = [];
  fs.mkdirSync(path.join(tmp, "irtree"));
  for (const p of [...new Set(bootConfigs.flatMap((c) => c.initrds))]) {
    const file = fileInside(usr, p);
    if (!file) {
      log?.warn(`${p}: named by a boot config but not a file on the medium; not unpacked`);
      continue;
    }
    const dir = path.join(tmp, "irtree", p.replace(/^\/+/, "").replace(/\//g, "_"));
    try {
      const segments = await unpackInitrd(file, dir, `${dir}.record.json`, refused, log);
      initrds.push({ path: p, dir: path.relative(tmp, dir), segments: segments.map((s) => s.compression) });
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      log?.warn(`${p}: not unpacked (${(e as Error).message})`);
    }
  }
  fs.writeFileSync(path.join(tmp, "democd.json"), "{}\n");
  return { kind: "foreign", source: "", boot, bootConfigs, initrds, refused };
}
