/** One graft: a host path placed at a path on the medium (xorriso maps it in place, no copy). */
export interface Graft {
  iso: string;
  host: string;
  /** zisofs-compress its files (Linux reads them; GRUB cannot: never what GRUB loads), but those named in `plain`. */
  zisofs?: { plain: readonly string[] };
}

export interface MasterArgs {
  out: string;
  volid: string;
  /** SOURCE_DATE_EPOCH: every date on the medium. */
  epoch: number;
  grafts: Graft[];
  /** Host paths left out of the grafted trees. */
  exclude?: string[];
  bios?: { eltorito: string; mbr: string };
  efi?: { image: string };
  /** Boot options replayed from another medium (instead of bios/efi). */
  replay?: string[];
}

/** Volume ids are at most 32 d-characters. */
export function volumeId(version: string): string {
  return `DEMOCD_${version}`.toUpperCase().replace(/[^A-Z0-9_]/g, "_").slice(0, 32);
}

/** xorriso's "YYYYMMDDhhmmsscc" (UTC) for an epoch. */
export function isoDate(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14) + "00";
}

/** Where the boot images sit on the medium. */
export const ELTORITO_PATH = "/boot/grub/eltorito.img";
export const EFI_IMAGE_PATH = "/boot/grub/efi.img";

/**
 * The single xorriso call: mkisofs emulation with Rock Ridge, each boot mode adding its
 * own arguments (BIOS El Torito + hybrid MBR; UEFI El Torito + a GPT partition for USB).
 */
export function xorrisoArgs(a: MasterArgs): string[] {
  const grafts = [...a.grafts];
  const boot: string[] = [];
  if (a.bios) {
    grafts.push({ iso: ELTORITO_PATH, host: a.bios.eltorito });
    boot.push(
      "-b", ELTORITO_PATH.slice(1), "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
      "--grub2-boot-info", "--grub2-mbr", a.bios.mbr,
    );
  }
  if (a.efi) {
    grafts.push({ iso: EFI_IMAGE_PATH, host: a.efi.image });
    boot.push("--efi-boot", EFI_IMAGE_PATH.slice(1), "-efi-boot-part", "--efi-boot-image");
  }
  if (a.bios || a.efi) boot.push("--protective-msdos-label");
  if (a.replay) boot.push(...a.replay);
  const escape = (p: string) => p.replace(/\\/g, "\\\\").replace(/=/g, "\\=");
  return [
    "-as", "mkisofs",
    "-o", a.out,
    "-V", a.volid,
    "-r",
    "-iso-level", "3",
    "--modification-date=" + isoDate(a.epoch),
    "--set_all_file_dates", "=" + a.epoch,
    ...boot,
    // Marks the zisofs files democd compressed (they start with zisofs' header) for Linux.
    ...(a.grafts.some((g) => g.zisofs) ? ["-z"] : []),
    ...(a.exclude ?? []).flatMap((p) => ["-m", p]),
    "-graft-points",
    ...grafts.map((g) => `${escape(g.iso)}=${escape(g.host)}`),
  ];
}
