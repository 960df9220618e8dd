import fs from "node:fs";
import path from "node:path";
import { need, type BuildContext } from "../context.ts";
import { diskEspFiles } from "../efi/esp-files.ts";
import { mbrBootCode, placedCoreImage } from "../disk/bios-boot.ts";
import { installerGrubImages } from "../disk/grub.ts";
import { INSTALL_KIT, ROOT_UUID_PLACEHOLDER, installerLayoutEnv } from "../disk/install-kit.ts";
import { SECTOR, diskBytesFor, installerLayout, installerSfdiskScript, partition, rootBytesNeeded } from "../disk/layout.ts";
import { fstab, treeBlockBytes } from "../disk/tree.ts";
import { freshDir, writeFile } from "../fsutil.ts";
import { installedMotd } from "./motd.ts";
import { renderGrubCfg } from "./render.ts";

/**
 * What the live system's installer writes, made here by the same code as the disk images:
 * GRUB's boot code and core images, the partition table, grub.cfg and fstab with the root's
 * UUID left to fill in, the installed system's motd (if the live one is the profile's), and
 * the smallest disk that holds this system.
 */
export async function writeInstallKit(ctx: BuildContext): Promise<{ minBytes: number }> {
  const motd = installedMotd(ctx);
  const dir = path.join(ctx.paths.usr, INSTALL_KIT);
  freshDir(dir);
  const layout = installerLayout();
  const bios = partition(layout, "bios");
  const grub = await installerGrubImages(ctx.paths.cache, partition(layout, "root").number, ctx.log);
  writeFile(path.join(dir, "mbr.bin"), mbrBootCode(grub.boot, bios.offset / SECTOR));
  writeFile(path.join(dir, "core.img"), placedCoreImage(grub.core, bios.offset / SECTOR, bios.size));
  // The ESP as the disk images have it: Debian's signed shim, GRUB and MokManager, and the stub
  // that finds the root by its UUID (filled in by democd-install).
  for (const f of diskEspFiles(need(ctx.components, "components").efi, ROOT_UUID_PLACEHOLDER)) {
    writeFile(path.join(dir, "esp", f.path), f.from ? fs.readFileSync(f.from) : f.text ?? "");
  }
  writeFile(path.join(dir, "layout.sfdisk"), installerSfdiskScript());
  const target = { kind: "disk" as const, rootUuid: ROOT_UUID_PLACEHOLDER };
  writeFile(path.join(dir, "grub.cfg.in"), renderGrubCfg(ctx, target));
  writeFile(path.join(dir, "fstab.in"), fstab(ROOT_UUID_PLACEHOLDER));
  if (motd !== undefined) writeFile(path.join(dir, "motd"), motd);
  // The installed system: the root, /usr (this kit included) and /boot, as on a disk image.
  const content = [ctx.paths.root, ctx.paths.usr, ctx.paths.boot].reduce((n, d) => n + treeBlockBytes(d), 0);
  const minBytes = diskBytesFor(rootBytesNeeded(content).minimum);
  writeFile(path.join(dir, "layout.env"), installerLayoutEnv(minBytes));
  return { minBytes };
}
