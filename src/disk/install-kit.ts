import fs from "node:fs";
import path from "node:path";
import { need, type BuildContext } from "../context.ts";
import { freshDir, writeFile } from "../fsutil.ts";
import { renderFile } from "../render/ejs.ts";
import { grubVars } from "../render/grub.ts";
import { mbrBootCode, placedCoreImage } from "./bios-boot.ts";
import { installerGrubImages } from "./grub.ts";
import { ESP_LABEL, ROOT_LABEL, SECTOR, diskBytesFor, installerLayout, installerSfdiskScript, partition, rootBytesNeeded } from "./layout.ts";
import { fstab, treeBlockBytes } from "./tree.ts";
import { xenKernelFile } from "../kernel/vmlinux.ts";

/** Where democd-install finds its kit, under the medium (mounted on /usr in the live system). */
export const INSTALL_KIT = path.join("lib", "democd", "install");
/** Replaced by the new root file system's UUID when democd-install writes grub.cfg and fstab. */
export const ROOT_UUID_PLACEHOLDER = "@ROOT_UUID@";

/** Shell variables for democd-install, from the one layout definition the disk images use. */
export function installerLayoutEnv(minBytes: number): string {
  const layout = installerLayout();
  const p = (n: "bios" | "esp" | "root") => partition(layout, n);
  const vars: Record<string, string | number> = {
    BIOS_PART: p("bios").number, ESP_PART: p("esp").number, ESP_SECTORS: p("esp").size / SECTOR, ROOT_PART: p("root").number,
    ROOT_LABEL, ESP_LABEL, MIN_BYTES: minBytes, UUID_PLACEHOLDER: ROOT_UUID_PLACEHOLDER,
  };
  return ["# democd-install's disk layout: written by the build from src/disk/layout.ts.", ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), ""].join("\n");
}

/**
 * What the live system's installer writes, made here by the same code as the disk images:
 * GRUB's boot code and core images, the partition table, grub.cfg and fstab with the root's
 * UUID left to fill in, the installed system's motd (if the live one is the profile's), and
 * the smallest disk that holds this system.
 */
export async function writeInstallKit(ctx: BuildContext, motd?: string): Promise<{ minBytes: number }> {
  const v = need(ctx.bootVersions, "bootVersions");
  const dir = path.join(ctx.paths.usr, INSTALL_KIT);
  freshDir(dir);
  const layout = installerLayout();
  const bios = partition(layout, "bios");
  const grub = await installerGrubImages(ctx.paths.cache, partition(layout, "root").number, ctx.log);
  writeFile(path.join(dir, "mbr.bin"), mbrBootCode(grub.boot, bios.offset / SECTOR));
  writeFile(path.join(dir, "core.img"), placedCoreImage(grub.core, bios.offset / SECTOR, bios.size));
  writeFile(path.join(dir, "BOOTX64.EFI"), fs.readFileSync(grub.efi));
  writeFile(path.join(dir, "layout.sfdisk"), installerSfdiskScript());
  const target = { kind: "disk" as const, rootUuid: ROOT_UUID_PLACEHOLDER };
  writeFile(path.join(dir, "grub.cfg.in"), renderFile(path.join(ctx.config.profileDir, "templates"), "grub.cfg.ejs", grubVars(ctx.config, v.kernel, v.xen, target, xenKernelFile(ctx.paths.boot))));
  writeFile(path.join(dir, "fstab.in"), fstab(ROOT_UUID_PLACEHOLDER));
  if (motd !== undefined) writeFile(path.join(dir, "motd"), motd);
  // The installed system: the root, /usr (this kit included) and /boot, as on a disk image.
  const content = [ctx.paths.root, ctx.paths.usr, ctx.paths.boot].reduce((n, d) => n + treeBlockBytes(d), 0);
  const minBytes = diskBytesFor(rootBytesNeeded(content).minimum);
  writeFile(path.join(dir, "layout.env"), installerLayoutEnv(minBytes));
  return { minBytes };
}
