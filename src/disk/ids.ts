import crypto from "node:crypto";

/**
 * Every identifier on a disk image (disk and partition GUIDs, file system UUIDs, the ext4
 * hash seed, the FAT serial) is derived from one seed and a name, as systemd-repart and
 * mkosi do: the same inputs give the same bytes, different builds different ids.
 */
export function derivedUuid(seed: string, name: string): string {
  const h = crypto.createHash("sha256").update(`${seed}\0${name}`).digest();
  // A version-4, RFC 4122 variant UUID, so tools that check the bits accept it.
  h[6] = (h[6] & 0x0f) | 0x40;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** A FAT volume serial (8 hex digits, as mformat -N takes it). */
export function derivedFatSerial(seed: string, name: string): string {
  return crypto.createHash("sha256").update(`${seed}\0${name}`).digest("hex").slice(0, 8).toUpperCase();
}

/** 8 hex digits for a VMDK descriptor's CID. */
export function derivedHex32(seed: string, name: string): string {
  return crypto.createHash("sha256").update(`${seed}\0${name}`).digest("hex").slice(0, 8);
}
