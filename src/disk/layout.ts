import { DemocdError } from "../errors.ts";
import { derivedUuid } from "./ids.ts";

/**
 * The installed system's disk, defined once: GPT with a protective MBR, a BIOS boot
 * partition for GRUB's core image, an EFI system partition, and the root (ext4) last so
 * it can grow into a disk that was enlarged. Used by the disk writers (and meant for an
 * installer on the live system).
 */
export const SECTOR = 512;
export const MiB = 1024 * 1024;
const ALIGN = MiB;
/** GPT's backup header and partition entries at the disk's end: 33 sectors. */
const GPT_BACKUP_BYTES = 33 * SECTOR;

export const PART_TYPES = {
  bios: "21686148-6449-6E6F-744E-656564454649",
  esp: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
  /** The Discoverable Partitions Specification's x86-64 root. */
  root: "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",
} as const;

export type PartName = keyof typeof PART_TYPES;

export interface Partition {
  name: PartName;
  /** 1-based, as Linux names it (/dev/vda3). */
  number: number;
  type: string;
  uuid: string;
  offset: number;
  size: number;
}

export interface DiskLayout {
  size: number;
  diskGuid: string;
  partitions: Partition[];
  /** The root file system's UUID and ext4 hash seed, and the ESP's FAT serial seed name. */
  rootFsUuid: string;
  rootHashSeed: string;
}

/** The root file system's label, on images and installed disks alike. */
export const ROOT_LABEL = "democd-root";
/** The ESP's volume label. */
export const ESP_LABEL = "DEMOCD_ESP";

export const BIOS_BOOT_BYTES = 1 * MiB;
export const ESP_BYTES = 32 * MiB;
/** What precedes the root partition: alignment gap, BIOS boot, ESP. */
export const ROOT_OFFSET = ALIGN + BIOS_BOOT_BYTES + ESP_BYTES;

const alignDown = (n: number) => Math.floor(n / ALIGN) * ALIGN;
const alignUp = (n: number, a = ALIGN) => Math.ceil(n / a) * a;

/** The smallest disk whose root partition holds rootBytes. */
export function diskBytesFor(rootBytes: number): number {
  return ROOT_OFFSET + alignUp(rootBytes) + ALIGN;
}

export function diskLayout(size: number, seed: string): DiskLayout {
  if (size % SECTOR) throw new DemocdError(`disk size ${size} is not a whole number of ${SECTOR}-byte sectors`);
  const rootSize = alignDown(size - GPT_BACKUP_BYTES) - ROOT_OFFSET;
  if (rootSize < 16 * MiB) throw new DemocdError(`a disk of ${size} bytes leaves no room for the root partition`);
  const parts: Omit<Partition, "uuid" | "type">[] = [
    { name: "bios", number: 1, offset: ALIGN, size: BIOS_BOOT_BYTES },
    { name: "esp", number: 2, offset: ALIGN + BIOS_BOOT_BYTES, size: ESP_BYTES },
    { name: "root", number: 3, offset: ROOT_OFFSET, size: rootSize },
  ];
  return {
    size,
    diskGuid: derivedUuid(seed, "disk"),
    partitions: parts.map((p) => ({ ...p, type: PART_TYPES[p.name], uuid: derivedUuid(seed, `partition-${p.name}`) })),
    rootFsUuid: derivedUuid(seed, "fs-root"),
    rootHashSeed: derivedUuid(seed, "fs-root-hash-seed"),
  };
}

export function partition(layout: DiskLayout, name: PartName): Partition {
  return layout.partitions.find((p) => p.name === name)!;
}

/** The layout as an sfdisk script: every id given, so sfdisk invents nothing. */
export function sfdiskScript(layout: DiskLayout): string {
  const lines = ["label: gpt", `label-id: ${layout.diskGuid}`, "unit: sectors", "sector-size: 512", "first-lba: 2048", ""];
  for (const p of layout.partitions) {
    lines.push(`start=${p.offset / SECTOR}, size=${p.size / SECTOR}, type=${p.type}, uuid=${p.uuid}, name="${p.name}"`);
  }
  return lines.join("\n") + "\n";
}

/** The layout on a nominal disk, for what does not depend on the disk's size (democd-install's partitions). */
export function installerLayout(): DiskLayout {
  return diskLayout(ROOT_OFFSET + 64 * MiB, "installer");
}

/**
 * The same layout for a disk of any size, as democd-install gives it to sfdisk on the live
 * system: the root takes the rest of the disk, and sfdisk makes each id (every install its own).
 */
export function installerSfdiskScript(): string {
  const layout = installerLayout();
  const lines = ["label: gpt", "unit: sectors", "sector-size: 512", "first-lba: 2048", ""];
  for (const p of layout.partitions) {
    lines.push(`start=${p.offset / SECTOR}, ${p.name === "root" ? "" : `size=${p.size / SECTOR}, `}type=${p.type}, name="${p.name}"`);
  }
  return lines.join("\n") + "\n";
}

const UNITS: Record<string, number> = { "": 1, K: 1024, M: MiB, G: 1024 * MiB, T: 1024 * 1024 * MiB };

/** "4G", "512M", "2048M", "1T" (binary units: G = GiB) to bytes; undefined if malformed. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2].toUpperCase()]);
}

/**
 * The root file system's size: the contents, what ext4 spends on them (inode tables,
 * journal, directories: measured about 10 % plus 64 MiB on these trees), and free space
 * for the user (a quarter of the contents, at least 256 MiB).
 */
export function rootBytesNeeded(contentBytes: number): { minimum: number; withFreeSpace: number } {
  const minimum = alignUp(contentBytes * 1.1 + 64 * MiB);
  return { minimum, withFreeSpace: alignUp(minimum + Math.max(contentBytes / 4, 256 * MiB), 64 * MiB) };
}
