import { SECTOR } from "./layout.ts";

/**
 * GRUB's BIOS boot path on a GPT disk, placed as plain writes (what grub-bios-setup does on
 * a device, and ubuntu's pc-gadget by hand): boot.img's code in the MBR, pointing at
 * core.img in the BIOS boot partition, whose first sector points at the rest of itself.
 */
/** Where boot.img keeps the LBA of core.img's first sector (GRUB_BOOT_MACHINE_KERNEL_SECTOR). */
const KERNEL_SECTOR = 0x5c;
/** boot.img's check that the BIOS passed a hard-disk drive number (GRUB_BOOT_MACHINE_DRIVE_CHECK). */
const DRIVE_CHECK = 0x66;
/** The MBR's boot code ends where the disk signature and partition table begin. */
const MBR_CODE_BYTES = 440;
/** diskboot.img's blocklist: the last 12 bytes of core.img's first sector (start LBA, count, segment). */
const BLOCKLIST_START = SECTOR - 12;

/** The MBR's first 440 bytes: boot.img, aimed at core.img's first sector. */
export function mbrBootCode(bootImg: Buffer, coreLba: number): Buffer {
  if (bootImg.length !== SECTOR) throw new Error(`boot.img is ${bootImg.length} bytes, expected ${SECTOR}`);
  const code = Buffer.from(bootImg.subarray(0, MBR_CODE_BYTES));
  code.writeBigUInt64LE(BigInt(coreLba), KERNEL_SECTOR);
  // Some BIOSes pass a drive number boot.img would reject; grub-bios-setup NOPs the check too.
  code[DRIVE_CHECK] = 0x90;
  code[DRIVE_CHECK + 1] = 0x90;
  return code;
}

/** core.img with its blocklist filled in for where it lies: the rest follows its first sector. */
export function placedCoreImage(coreImg: Buffer, coreLba: number, maxBytes: number): Buffer {
  if (coreImg.length > maxBytes) throw new Error(`GRUB's core image (${coreImg.length} bytes) does not fit the BIOS boot partition (${maxBytes} bytes)`);
  const sectors = Math.ceil(coreImg.length / SECTOR);
  const core = Buffer.alloc(sectors * SECTOR);
  coreImg.copy(core);
  core.writeBigUInt64LE(BigInt(coreLba + 1), BLOCKLIST_START);
  core.writeUInt16LE(sectors - 1, BLOCKLIST_START + 8);
  return core;
}
