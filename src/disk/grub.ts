import fs from "node:fs";
import path from "node:path";
import { cachedTree } from "../cache-tree.ts";
import { run } from "../exec.ts";
import { sha256 } from "../hash.ts";
import { BIOS_MODULES, BIOS_PLATFORM, EFI_MODULES, EFI_PLATFORM, GRUB_LIB } from "../iso/grub-images.ts";
import type { Logger } from "../log.ts";
import { toolVersion } from "../tool-version.ts";

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
  /** BOOTX64.EFI made by this host's grub-mkimage, when asked for (no signed GRUB for the ESP). */
  efi?: string;
}

export async function makeDiskGrubImages(dir: string, rootUuid: string, withEfi: boolean, log?: Logger): Promise<DiskGrubImages> {
  fs.mkdirSync(dir, { recursive: true });
  const cfg = path.join(dir, "early.cfg");
  fs.writeFileSync(cfg, diskEarlyConfig(rootUuid));
  const core = path.join(dir, "core.img");
  const efi = withEfi ? path.join(dir, "BOOTX64.EFI") : undefined;
  await run("grub-mkimage", diskMkimageArgs(BIOS_PLATFORM, core, cfg), { log });
  if (efi) await run("grub-mkimage", diskMkimageArgs(EFI_PLATFORM, efi, cfg), { log });
  return { core: fs.readFileSync(core), boot: fs.readFileSync(path.join(GRUB_LIB, BIOS_PLATFORM, "boot.img")), efi };
}

/**
 * The installer's BIOS core image (democd-install, on the live system): made at build time, so
 * the medium needs neither grub-mkimage nor GRUB's module directories. The disk's UUID is not
 * known yet, so it finds GRUB's directory by partition instead: a prefix `(,gptN)` is the boot
 * disk's partition N. Everything grub.cfg loads is built in. (UEFI boots Debian's signed GRUB.)
 */
export function installerMkimageArgs(out: string, rootPartition: number): string[] {
  const modules = [...BIOS_MODULES, ...DISK_MODULES, "vbe", "vga"];
  return ["--directory", path.join(GRUB_LIB, BIOS_PLATFORM), "--format", BIOS_PLATFORM, "--prefix", `(,gpt${rootPartition})/boot/grub`, "--output", out, ...modules];
}

/** core.img for the installer, cached by GRUB's version and its arguments. */
export async function installerGrubImages(cacheDir: string, rootPartition: number, log?: Logger): Promise<{ core: Buffer; boot: Buffer }> {
  const version = await toolVersion("grub-mkimage", cacheDir, log);
  const key = sha256(JSON.stringify({ v: version, bios: installerMkimageArgs("", rootPartition) })).slice(0, 16);
  const dir = path.join(cacheDir, "grub", `installer-${key}`);
  await cachedTree(
    dir,
    async (tmp) => {
      fs.mkdirSync(tmp);
      await run("grub-mkimage", installerMkimageArgs(path.join(tmp, "core.img"), rootPartition), { log });
    },
    log,
  );
  return { core: fs.readFileSync(path.join(dir, "core.img")), boot: fs.readFileSync(path.join(GRUB_LIB, BIOS_PLATFORM, "boot.img")) };
}
