import fs from "node:fs";
import { derivedHex32, derivedUuid } from "../disk/ids.ts";

/**
 * qemu-img stamps a VHD's footer with the current time and a random UUID, and a VMDK's
 * descriptor with a random CID, so two conversions of the same disk differ. These set
 * those fields from the build instead (pure functions over the bytes, then in place).
 */
const VHD_FOOTER = 512;
const VHD_TIMESTAMP = 24;
const VHD_CHECKSUM = 64;
const VHD_UUID = 68;
/** VHD times count from 2000-01-01 00:00:00 UTC. */
const VHD_EPOCH = 946684800;

export function isVhdFooter(b: Buffer): boolean {
  return b.length === VHD_FOOTER && b.subarray(0, 8).toString("latin1") === "conectix";
}

/** A footer with the given time and UUID, and its checksum (ones' complement of the byte sum) again. */
export function fixVhdFooter(footer: Buffer, epoch: number, uuid: string): Buffer {
  const f = Buffer.from(footer);
  f.writeUInt32BE(Math.max(0, epoch - VHD_EPOCH) >>> 0, VHD_TIMESTAMP);
  Buffer.from(uuid.replace(/-/g, ""), "hex").copy(f, VHD_UUID);
  f.writeUInt32BE(0, VHD_CHECKSUM);
  let sum = 0;
  for (const b of f) sum += b;
  f.writeUInt32BE(~sum >>> 0, VHD_CHECKSUM);
  return f;
}

/** The footer at the end, and for a dynamic VHD its copy at the start. */
export function fixVhdFile(file: string, epoch: number, seed: string): void {
  const uuid = derivedUuid(seed, "vhd");
  const fd = fs.openSync(file, "r+");
  try {
    const size = fs.fstatSync(fd).size;
    for (const at of [0, size - VHD_FOOTER]) {
      const b = Buffer.alloc(VHD_FOOTER);
      fs.readSync(fd, b, 0, VHD_FOOTER, at);
      if (isVhdFooter(b)) fs.writeSync(fd, fixVhdFooter(b, epoch, uuid), 0, VHD_FOOTER, at);
      else if (at !== 0) throw new Error(`${file}: no VHD footer at its end`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The descriptor region with its CID set. qemu prints a random CID with "%x", so it is 7 or
 * 8 digits: the text is rewritten with 8 and the region padded with NULs to its old size.
 */
export function fixVmdkDescriptor(region: Buffer, cid: string): Buffer {
  const end = region.indexOf(0);
  const text = region.subarray(0, end < 0 ? region.length : end).toString("latin1");
  if (!/\nCID=[0-9a-f]{1,8}\n/.test(text)) throw new Error("no CID in the VMDK descriptor");
  const fixed = Buffer.from(text.replace(/\nCID=[0-9a-f]{1,8}\n/, `\nCID=${cid}\n`), "latin1");
  if (fixed.length > region.length) throw new Error("the VMDK descriptor has no room for its CID");
  const out = Buffer.alloc(region.length);
  fixed.copy(out);
  return out;
}

/** The descriptor's place from the sparse extent header (offset and size in sectors), then its CID. */
export function fixVmdkFile(file: string, seed: string): void {
  const fd = fs.openSync(file, "r+");
  try {
    const header = Buffer.alloc(512);
    fs.readSync(fd, header, 0, 512, 0);
    if (header.subarray(0, 4).toString("latin1") !== "KDMV") throw new Error(`${file}: not a sparse VMDK`);
    const offset = Number(header.readBigUInt64LE(28)) * 512;
    const size = Number(header.readBigUInt64LE(36)) * 512;
    const region = Buffer.alloc(size);
    fs.readSync(fd, region, 0, size, offset);
    fs.writeSync(fd, fixVmdkDescriptor(region, derivedHex32(seed, "vmdk-cid")), 0, size, offset);
  } finally {
    fs.closeSync(fd);
  }
}
