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

/** Replace the descriptor's CID (8 hex digits, same length: nothing moves). */
export function fixVmdkDescriptor(head: Buffer, cid: string): Buffer {
  const text = head.toString("latin1");
  const m = /\nCID=([0-9a-f]{8})\n/.exec(text);
  if (!m) throw new Error("no CID in the VMDK descriptor");
  const out = Buffer.from(head);
  out.write(cid, m.index + 5, "latin1");
  return out;
}

export function fixVmdkFile(file: string, seed: string): void {
  const fd = fs.openSync(file, "r+");
  try {
    // The descriptor sits in the first sectors of a streamOptimized VMDK.
    const head = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const fixed = fixVmdkDescriptor(head.subarray(0, n), derivedHex32(seed, "vmdk-cid"));
    fs.writeSync(fd, fixed, 0, fixed.length, 0);
  } finally {
    fs.closeSync(fd);
  }
}
