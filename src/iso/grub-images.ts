import fs from "node:fs";
import path from "node:path";
import { cachedFile } from "../cache-file.ts";
import { cachedTree } from "../cache-tree.ts";
import { sha256 } from "../hash.ts";
import { DemocdError } from "../errors.ts";
import { TOOL_FILES, run } from "../exec.ts";
import type { Logger } from "../log.ts";
import { toolVersion } from "../tool-version.ts";
import { makeFat, type EspFile } from "../disk/esp.ts";

/** Found first thing by both core images: the medium's root and GRUB's prefix. */
export const EARLY_CONFIG = "search --no-floppy --set=root --file /democd/id\nset prefix=($root)/boot/grub\n";

const COMMON_MODULES = [
  "iso9660", "part_msdos", "part_gpt", "fat", "search", "search_fs_file", "search_fs_uuid", "configfile", "normal",
  "echo", "test", "serial", "terminal", "multiboot2", "linux", "gzio", "all_video", "boot",
];
export const BIOS_MODULES = ["biosdisk", ...COMMON_MODULES];
export const EFI_MODULES = [...COMMON_MODULES, "efi_gop", "efi_uga"];

export const GRUB_LIB = "/usr/lib/grub";
export const BIOS_PLATFORM = "i386-pc";
export const EFI_PLATFORM = "x86_64-efi";

export interface GrubImages {
  /** BIOS El Torito boot image (cdboot + core). */
  eltorito: string;
  /** UEFI El Torito image: a FAT file system holding shim as EFI/BOOT/BOOTX64.EFI and the signed GRUB. */
  efiImg: string;
  /** The hybrid MBR boot code for USB sticks. */
  mbr: string;
}

export function grubMkimageArgs(format: "i386-pc-eltorito" | "x86_64-efi", out: string, config: string, modules: readonly string[]): string[] {
  const platform = format === "x86_64-efi" ? EFI_PLATFORM : BIOS_PLATFORM;
  return ["--directory", path.join(GRUB_LIB, platform), "--format", format, "--prefix", "/boot/grub", "--config", config, "--output", out, ...modules];
}

function requirePlatform(name: keyof typeof TOOL_FILES): void {
  const f = TOOL_FILES[name];
  if (!fs.existsSync(f.path)) throw new DemocdError(`${name} files are missing (${f.path})`, { hint: `apt-get install ${f.pkg}` });
}

/** The FAT image's size in KiB: the EFI binary plus room for FAT overhead, rounded up. */
export function efiImageKiB(efiBytes: number): number {
  return Math.ceil((efiBytes * 1.1 + 256 * 1024) / (1024 * 1024)) * 1024;
}

/** The files of the medium's ESP image, keyed by what they are (the signed files' cache paths carry their versions). */
function espKey(files: EspFile[], epoch: number): string {
  // By content: a file made by the build (a signed Xen, an initrd) keeps its path from one build to the next.
  const contents = files.map((f) => (f.from && fs.statSync(f.from).isFile() ? sha256(fs.readFileSync(f.from)) : null));
  return sha256(JSON.stringify({ files, contents, epoch, v: 4 })).slice(0, 16);
}

/**
 * GRUB's BIOS core image (made by this host's grub-mkimage, cached by GRUB's version and what
 * goes into it) and the UEFI FAT image of `files` (the medium's: Debian's signed shim and GRUB,
 * which the firmware starts with Secure Boot on or off). The FAT image carries dates, so it is
 * kept per SOURCE_DATE_EPOCH, in `espDir` (the cache, unless it holds what only this build has).
 */
export async function makeGrubImages(cacheDir: string, epoch: number, files: EspFile[], log?: Logger, espDir = path.join(cacheDir, "grub")): Promise<GrubImages> {
  requirePlatform("grub i386-pc");
  const grubVersion = (await toolVersion("grub-mkimage", cacheDir, log)).replace(/^.*\(GRUB\)\s*/, "");
  const key = sha256(JSON.stringify({ grubVersion, EARLY_CONFIG, BIOS_MODULES, v: 4 })).slice(0, 16);
  const dir = path.join(cacheDir, "grub", `${grubVersion.replace(/[^\w.+-]/g, "_")}-${key}`);
  const images: GrubImages = {
    eltorito: path.join(dir, "eltorito.img"),
    efiImg: path.join(espDir, `esp-${espKey(files, epoch)}.img`),
    mbr: path.join(GRUB_LIB, BIOS_PLATFORM, "boot_hybrid.img"),
  };
  await cachedTree(
    dir,
    async (tmp) => {
      fs.mkdirSync(tmp);
      const cfg = path.join(tmp, "early.cfg");
      fs.writeFileSync(cfg, EARLY_CONFIG);
      await run("grub-mkimage", grubMkimageArgs("i386-pc-eltorito", path.join(tmp, "eltorito.img"), cfg, BIOS_MODULES), { log });
    },
    log,
  );
  await cachedFile(
    images.efiImg,
    async (tmp) => {
      const bytes = files.reduce((n, f) => n + (f.from ? fs.statSync(f.from).size : Buffer.byteLength(f.text ?? "")), 0);
      const kib = efiImageKiB(bytes);
      fs.writeFileSync(tmp, Buffer.alloc(0));
      fs.truncateSync(tmp, kib * 1024);
      await makeFat({ at: tmp, sectors: kib * 2, serial: "DEC0CD00", label: "DEMOCD_EFI", heads: 2 }, files, epoch, log);
    },
    log,
  );
  return images;
}

