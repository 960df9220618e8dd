import fs from "node:fs";
import path from "node:path";
import type { TreeRecord } from "../archive/safe-tree.ts";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import type { Logger } from "../log.ts";
import { mbrBootCode, placedCoreImage } from "./bios-boot.ts";
import { diskEspFiles } from "../efi/esp-files.ts";
import type { SignedEfi } from "../efi/signed.ts";
import { makeFat } from "./esp.ts";
import { makeExt4 } from "./ext4.ts";
import { derivedFatSerial } from "./ids.ts";
import { makeDiskGrubImages } from "./grub.ts";
import { ESP_LABEL, ROOT_LABEL, SECTOR, partition, sfdiskScript, type DiskLayout } from "./layout.ts";

export interface RawDiskSpec {
  /** The file to write (created; the caller renames it into place). */
  image: string;
  layout: DiskLayout;
  /** The staged installed-system tree. */
  tree: string;
  /** Where GRUB's images are made. */
  scratch: string;
  seed: string;
  epoch: number;
  /** Debian's signed shim and GRUB for the ESP (Secure Boot); without them, GRUB made by this host's grub-mkimage. */
  efi?: SignedEfi;
  ownersFromDisk: boolean;
  record?: TreeRecord;
  log?: Logger;
}

function writeAt(file: string, data: Buffer, offset: number): void {
  const fd = fs.openSync(file, "r+");
  try {
    fs.writeSync(fd, data, 0, data.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A bootable GPT disk image, every part written by its own tool into one sparse file by
 * offset: sfdisk's partition table, GRUB's boot code and core image, the ESP by mtools,
 * the root by mkfs.ext4 -d.
 */
export async function writeRawDisk(s: RawDiskSpec): Promise<void> {
  const { layout, log } = s;
  fs.rmSync(s.image, { force: true });
  fs.writeFileSync(s.image, Buffer.alloc(0), { flag: "wx" });
  fs.truncateSync(s.image, layout.size);

  await run("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", "--wipe", "always", s.image], { log, input: sfdiskScript(layout) });

  const grub = await makeDiskGrubImages(s.scratch, layout.rootFsUuid, !s.efi, log);
  const bios = partition(layout, "bios");
  let core: Buffer;
  try {
    core = placedCoreImage(grub.core, bios.offset / SECTOR, bios.size);
  } catch (e) {
    throw new DemocdError((e as Error).message, { hint: "fewer GRUB modules, or a larger BIOS boot partition in src/disk/layout.ts" });
  }
  writeAt(s.image, mbrBootCode(grub.boot, bios.offset / SECTOR), 0);
  writeAt(s.image, core, bios.offset);

  const esp = partition(layout, "esp");
  const espFiles = s.efi ? diskEspFiles(s.efi, layout.rootFsUuid) : [{ path: "EFI/BOOT/BOOTX64.EFI", from: grub.efi! }];
  const fat = { at: `${s.image}@@${esp.offset}`, sectors: esp.size / SECTOR, serial: derivedFatSerial(s.seed, "fs-esp"), label: ESP_LABEL, heads: 64 };
  await makeFat(fat, espFiles, s.epoch, log);

  const root = partition(layout, "root");
  await makeExt4({
    image: s.image, offset: root.offset, size: root.size, tree: s.tree, uuid: layout.rootFsUuid, hashSeed: layout.rootHashSeed,
    label: ROOT_LABEL, epoch: s.epoch, ownersFromDisk: s.ownersFromDisk, record: s.record,
  }, log);
}

export function scratchDir(buildDir: string): string {
  return path.join(buildDir, "disk");
}
