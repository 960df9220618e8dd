import fs from "node:fs";
import path from "node:path";
import { run } from "../exec.ts";
import { BIOS_MODULES, BIOS_PLATFORM, EFI_MODULES, EFI_PLATFORM, GRUB_LIB } from "../iso/grub-images.ts";
import type { Logger } from "../log.ts";

/**
 * GRUB's core images for an installed disk: both find the root file system by its UUID
 * (fixed in the image) and read /boot/grub/grub.cfg and their modules from it, so the same
 * menu serves SeaBIOS, OVMF and (through pvgrub2) a Xen PV guest.
 */
export function diskEarlyConfig(rootUuid: string): string {
  return `search --no-floppy --set=root --fs-uuid ${rootUuid}\nset prefix=($root)/boot/grub\n`;
}

const DISK_MODULES = ["ext2", "search_fs_uuid"];

export function diskMkimageArgs(platform: "i386-pc" | "x86_64-efi", out: string, config: string): string[] {
  const modules = platform === "i386-pc" ? [...BIOS_MODULES, ...DISK_MODULES] : [...EFI_MODULES, ...DISK_MODULES];
  return ["--directory", path.join(GRUB_LIB, platform), "--format", platform, "--prefix", "/boot/grub", "--config", config, "--output", out, ...modules];
}

export interface DiskGrubImages {
  /** core.img for the BIOS boot partition (diskboot.img first). */
  core: Buffer;
  /** boot.img for the MBR. */
  boot: Buffer;
  /** BOOTX64.EFI for the EFI system partition. */
  efi: string;
}

export async function makeDiskGrubImages(dir: string, rootUuid: string, log?: Logger): Promise<DiskGrubImages> {
  fs.mkdirSync(dir, { recursive: true });
  const cfg = path.join(dir, "early.cfg");
  fs.writeFileSync(cfg, diskEarlyConfig(rootUuid));
  const core = path.join(dir, "core.img");
  const efi = path.join(dir, "BOOTX64.EFI");
  await run("grub-mkimage", diskMkimageArgs(BIOS_PLATFORM, core, cfg), { log });
  await run("grub-mkimage", diskMkimageArgs(EFI_PLATFORM, efi, cfg), { log });
  return { core: fs.readFileSync(core), boot: fs.readFileSync(path.join(GRUB_LIB, BIOS_PLATFORM, "boot.img")), efi };
}
