import path from "node:path";
import { compress } from "../archive/compress.ts";
import { treeEntries, writeCpio, type CpioEntry } from "../archive/cpio.ts";
import { isRoot } from "../archive/devices.ts";
import { packTree } from "../archive/tar.ts";
import { publicConfig } from "../config/load.ts";
import { need, type BuildContext } from "../context.ts";
import { writeFile } from "../fsutil.ts";

/** Entries the kernel needs before devtmpfs is up, written without mknod (so no root needed). */
export const INITRD_DEVICES: CpioEntry[] = [
  { name: "dev/console", type: "char", perm: 0o600, uid: 0, gid: 0, mtime: 0, data: Buffer.alloc(0), rdevMajor: 5, rdevMinor: 1 },
  { name: "dev/null", type: "char", perm: 0o666, uid: 0, gid: 0, mtime: 0, data: Buffer.alloc(0), rdevMajor: 1, rdevMinor: 3 },
];


/** /democd/root.tar.gz: the mutable root, reproducible (sorted, clamped mtimes). */
export async function packRoot(ctx: BuildContext): Promise<number> {
  const out = path.join(ctx.paths.democd, "root.tar.gz");
  return packTree(ctx.paths.root, out, { mtime: ctx.sourceDateEpoch, ownersFromDisk: isRoot() });
}

/** The initrd cpio, built in-process from the irtree (plus the device nodes) and compressed. */
export async function packInitrd(ctx: BuildContext): Promise<number> {
  const entries = treeEntries(ctx.paths.irtree, { mtimeClamp: ctx.sourceDateEpoch, ownersFromDisk: isRoot() });
  const names = new Set(entries.map((e) => e.name));
  const devices = INITRD_DEVICES.filter((d) => !names.has(d.name)).map((d) => ({ ...d, mtime: ctx.sourceDateEpoch }));
  const all = [...entries, ...devices].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const image = await compress(writeCpio(all), ctx.config.initrd.compression, ctx.log);
  writeFile(path.join(ctx.paths.boot, "initrd.img"), image);
  return image.length;
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
    config: publicConfig(ctx.config),
  };
  writeFile(path.join(ctx.paths.democd, "id"), manifest.id + "\n");
  writeFile(path.join(ctx.paths.democd, "build.json"), JSON.stringify(manifest, null, 2) + "\n");
}
