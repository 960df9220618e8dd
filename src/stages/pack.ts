import path from "node:path";
import fs from "node:fs";
import { cpioSha256, treeEntries, type CpioEntry } from "../archive/cpio.ts";
import { writeInitrd } from "../archive/initrd.ts";
import type { TreeRecord } from "../archive/safe-tree.ts";
import { isRoot } from "../archive/devices.ts";
import { packTree } from "../archive/tar.ts";
import { publicConfig } from "../config/load.ts";
import { need, type BuildContext } from "../context.ts";
import { linkAsCopy, writeFile } from "../fsutil.ts";

/** Entries the kernel needs before devtmpfs is up, written without mknod (so no root needed). */
export const INITRD_DEVICES: CpioEntry[] = [
  { name: "dev/console", type: "char", perm: 0o600, uid: 0, gid: 0, mtime: 0, data: Buffer.alloc(0), rdevMajor: 5, rdevMinor: 1 },
  { name: "dev/null", type: "char", perm: 0o666, uid: 0, gid: 0, mtime: 0, data: Buffer.alloc(0), rdevMajor: 1, rdevMinor: 3 },
];


/** /democd/root.tar.gz: the mutable root, reproducible (sorted, clamped mtimes). */
export async function packRoot(ctx: BuildContext): Promise<number> {
  const out = path.join(ctx.paths.democd, "root.tar.gz");
  return packTree(ctx.paths.root, out, { mtime: ctx.sourceDateEpoch, ownersFromDisk: isRoot(), record: ctx.rootRecord });
}

/**
 * The initrd's members from a tree: sorted, mtimes clamped, owners and device nodes as
 * recorded (an unprivileged unpack), plus the console the kernel needs before devtmpfs.
 */
export function initrdEntries(irtree: string, epoch: number, record?: TreeRecord): CpioEntry[] {
  const entries = treeEntries(irtree, { mtimeClamp: epoch, ownersFromDisk: isRoot(), owners: new Map(Object.entries(record?.owners ?? {})) });
  const names = new Set(entries.map((e) => e.name));
  for (const d of record?.devices ?? []) if (!names.has(d.name)) entries.push({ ...d, mtime: Math.min(d.mtime, epoch), data: Buffer.alloc(0) });
  for (const d of INITRD_DEVICES) if (!entries.some((e) => e.name === d.name)) entries.push({ ...d, mtime: epoch });
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The initrd, built in-process from the irtree and compressed as configured. Compressing is
 * most of the cost, so an image is kept by the hash of its cpio: an unchanged initrd is
 * reused, and linked into /boot rather than written again.
 */
export async function packInitrd(ctx: BuildContext): Promise<{ bytes: number; reused: boolean }> {
  const entries = initrdEntries(ctx.paths.irtree, ctx.sourceDateEpoch);
  const compression = ctx.config.initrd.compression;
  const cached = path.join(ctx.paths.cache, "initrd", `${cpioSha256(entries)}.${compression}`);
  const reused = fs.existsSync(cached);
  if (!reused) {
    const tmp = `${cached}.tmp-${process.pid}`;
    writeFile(tmp, await writeInitrd([{ compression, entries }], ctx.log));
    fs.renameSync(tmp, cached);
  }
  const dest = path.join(ctx.paths.boot, "initrd.img");
  fs.rmSync(dest, { force: true });
  linkAsCopy(cached, dest);
  return { bytes: fs.statSync(cached).size, reused };
}

/** /democd/id and /democd/build.json: who made this medium, from what. */
export function writeManifest(ctx: BuildContext): void {
  const c = need(ctx.components, "components");
  const manifest = {
    democd: 1,
    id: need(ctx.mediaId, "mediaId"),
    version: ctx.config.version,
    builder: ctx.config.builder,
    date: new Date(ctx.sourceDateEpoch * 1000).toISOString(),
    sourceDateEpoch: ctx.sourceDateEpoch,
    kernel: c.kernel.release,
    xen: c.xen.release,
    components: Object.fromEntries(
      (["kernel", "xen", "busybox"] as const).map((k) => [k, { package: c[k].pkg.name, version: c[k].pkg.version, arch: c[k].pkg.arch }]),
    ),
    /** What the initrd grows an installed root with: sfdisk, resize2fs and their libraries' packages. */
    initrdTools: c.grow.packages.map((g) => ({ package: g.pkg.name, version: g.pkg.version, arch: g.pkg.arch })),
    ...(ctx.rootSource && { root: { ...ctx.rootSource, packages: ctx.rootPackages } }),
    ...(ctx.guests?.length && { guests: ctx.guests }),
    config: publicConfig(ctx.config),
  };
  writeFile(path.join(ctx.paths.democd, "id"), manifest.id + "\n");
  writeFile(path.join(ctx.paths.democd, "build.json"), JSON.stringify(manifest, null, 2) + "\n");
}
