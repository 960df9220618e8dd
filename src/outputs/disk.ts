import fs from "node:fs";
import path from "node:path";
import { isRoot } from "../archive/devices.ts";
import type { TreeRecord } from "../archive/safe-tree.ts";
import { need, type BuildContext } from "../context.ts";
import { sha256 } from "../hash.ts";
import { checkFreeSpace } from "../diskspace.ts";
import { diskBytesFor, diskLayout, MiB, parseSize, rootBytesNeeded, type DiskLayout } from "../disk/layout.ts";
import { scratchDir, writeRawDisk } from "../disk/raw.ts";
import { installedBootBytes, stageInstalledTree, treeBlockBytes } from "../disk/tree.ts";
import { installedMotd } from "../stages/motd.ts";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import { freshDir } from "../fsutil.ts";
import { BIOS_PLATFORM, EFI_PLATFORM, GRUB_LIB } from "../iso/grub-images.ts";
import { renderGrubCfg } from "../stages/render.ts";
import { writeAtomically } from "./atomic.ts";
import { convertArgs, OUTPUT_FORMATS, outputPath, type FormatName, type OutputFormat } from "./formats.ts";
import { fixVhdFile, fixVmdkFile } from "./fixups.ts";
import { writeOva } from "./ova.ts";

/** The seed every id on the disk derives from: what the build is made of, and the disk's size. */
export function diskSeed(ctx: BuildContext, size: number): string {
  return sha256(`${need(ctx.mediaId, "mediaId")}\0disk\0${size}`);
}

const mib = (n: number) => `${Math.ceil(n / MiB)} MiB`;

/** The disk's size: --disk-size, or the contents plus free space; too small is an error naming the size needed. */
export function diskSize(requested: string | undefined, contentBytes: number): number {
  const need = rootBytesNeeded(contentBytes);
  const minimum = diskBytesFor(need.minimum);
  if (requested === undefined) return diskBytesFor(need.withFreeSpace);
  const bytes = Math.ceil(parseSize(requested)! / MiB) * MiB;
  if (bytes < minimum) throw new DemocdError(`disk.size: ${requested} is smaller than the contents: the disk needs at least ${mib(minimum)}`, { hint: `--disk-size ${Math.ceil(minimum / MiB)}M or more` });
  return bytes;
}

export interface StagedDisk {
  tree: string;
  /** Owners and devices the tree on disk cannot carry: the unpack's record plus nodes that could not be linked. */
  record: TreeRecord;
  layout: DiskLayout;
  seed: string;
}

/** The installed system's tree and its disk layout. */
export function stageDisk(ctx: BuildContext): StagedDisk {
  const scratch = scratchDir(ctx.paths.build);
  freshDir(scratch);
  // The EFI modules at the signed GRUB's version where the source fetched it (it loads them with Secure Boot off).
  const grubPlatforms = [
    { name: BIOS_PLATFORM, dir: path.join(GRUB_LIB, BIOS_PLATFORM) },
    { name: EFI_PLATFORM, dir: ctx.components?.efi.modules ?? path.join(GRUB_LIB, EFI_PLATFORM) },
  ];
  const content = [ctx.paths.root, ctx.paths.usr, ...grubPlatforms.map((p) => p.dir)].reduce((n, d) => n + treeBlockBytes(d), installedBootBytes(ctx.paths.boot));
  const size = diskSize(ctx.config.disk.size, content);
  const seed = diskSeed(ctx, size);
  const layout = diskLayout(size, seed);
  // Each image holds about the contents (sparse or compressed), the intermediate raw one more.
  const outDir = path.dirname(path.resolve(ctx.config.out));
  const disks = ctx.config.formats.filter((f) => OUTPUT_FORMATS[f].disk);
  checkFreeSpace(outDir, content * (disks.length + 1), `the disk images (${disks.join(", ")})`);
  const tree = path.join(scratch, "tree");
  const unlinked = stageInstalledTree(tree, {
    root: ctx.paths.root, usr: ctx.paths.usr, boot: ctx.paths.boot, rootUuid: layout.rootFsUuid, grubPlatforms, motd: installedMotd(ctx),
    grubCfg: renderGrubCfg(ctx, { kind: "disk", rootUuid: layout.rootFsUuid }),
  });
  const recorded = ctx.rootRecord ?? { owners: {}, devices: [] };
  return { tree, layout, seed, record: { owners: recorded.owners, devices: [...recorded.devices, ...unlinked] } };
}

/** The raw disk, then each requested conversion of it; the raw itself only if asked for. */
export async function writeDiskOutputs(ctx: BuildContext, formats: FormatName[], staged: StagedDisk): Promise<{ format: FormatName; file: string; bytes: number; sha256: string }[]> {
  const { log } = ctx;
  const results: { format: FormatName; file: string; bytes: number; sha256: string }[] = [];
  const rawOut = outputPath(path.resolve(ctx.config.out), "raw");
  const spec = {
    layout: staged.layout, tree: staged.tree, scratch: path.join(scratchDir(ctx.paths.build), "grub"), seed: staged.seed,
    epoch: ctx.sourceDateEpoch, efi: ctx.components?.efi, ownersFromDisk: isRoot(), record: staged.record, log,
  };
  const raw = formats.includes("raw")
    ? await log.stage("raw", async () => {
      const r = await writeAtomically(rawOut, (tmp) => writeRawDisk({ ...spec, image: tmp }));
      results.push({ format: "raw", ...r });
      return r.file;
    }, (f) => `${path.relative(process.cwd(), f)} ${mib(staged.layout.size)}`)
    : await log.stage("raw", async () => {
      const tmp = path.join(scratchDir(ctx.paths.build), "disk.raw");
      await writeRawDisk({ ...spec, image: tmp });
      return tmp;
    }, () => `${mib(staged.layout.size)} (intermediate)`);
  const convert = async (format: FormatName, tmp: string) => {
    const f = OUTPUT_FORMATS[format] as OutputFormat;
    await run("qemu-img", convertArgs(format, raw, tmp), { log });
    if (f.fixup === "vhd") fixVhdFile(tmp, ctx.sourceDateEpoch, staged.seed);
    if (f.fixup === "vmdk") fixVmdkFile(tmp, staged.seed);
  };
  const line = (x: { file: string; bytes: number }) => `${path.relative(process.cwd(), x.file)} ${(x.bytes / 1e6).toFixed(1)} MB`;
  for (const format of formats.filter((f) => f !== "raw" && !(OUTPUT_FORMATS[f] as OutputFormat).packs)) {
    const r = await log.stage(format, () => writeAtomically(outputPath(path.resolve(ctx.config.out), format), (tmp) => convert(format, tmp)), line);
    results.push({ format, ...r });
  }
  if (formats.includes("ova")) {
    // The VMDK the vmdk writer made, or one made the same way for the OVA alone: one conversion.
    const made = results.find((r) => r.format === "vmdk");
    const vmdk = made?.file ?? path.join(scratchDir(ctx.paths.build), "appliance.vmdk");
    if (!made) await log.stage("vmdk", () => convert("vmdk", vmdk), () => "(for the OVA)");
    // The vmdk writer hashed its file already: the manifest takes that, not a second read.
    const disk = { vmdk, sha256: made?.sha256, capacityBytes: staged.layout.size, populatedBytes: fs.statSync(raw).blocks * 512 };
    const r = await log.stage("ova", () => writeAtomically(outputPath(path.resolve(ctx.config.out), "ova"), (tmp) =>
      writeOva(tmp, ctx.config, disk, ctx.sourceDateEpoch, scratchDir(ctx.paths.build), log)), line);
    results.push({ format: "ova", ...r });
    if (!made) fs.rmSync(vmdk, { force: true });
  }
  if (!formats.includes("raw")) fs.rmSync(raw, { force: true });
  return results;
}
