import { CpioFormatError, readCpio, writeCpio, type CpioEntry } from "./cpio.ts";
import { compress, decompress, detectCompression, type Compression } from "./compress.ts";
import type { Logger } from "../log.ts";

/**
 * An initrd as the kernel sees it: one or more segments, each a cpio archive that may be
 * compressed (Debian and others put an uncompressed early-microcode cpio first).
 */
export interface InitrdSegment {
  compression: Compression;
  entries: CpioEntry[];
}

export class InitrdFormatError extends Error {}

/** Split an initrd into its segments and read every member. */
export async function readInitrd(buf: Buffer, log?: Logger): Promise<InitrdSegment[]> {
  const segments: InitrdSegment[] = [];
  let off = 0;
  while (off < buf.length) {
    while (off < buf.length && buf[off] === 0) off++; // padding between segments
    if (off >= buf.length) break;
    const kind = detectCompression(buf.subarray(off, off + 8));
    if (kind === "none") {
      const { entries, end } = readCpio(buf, off);
      segments.push({ compression: "none", entries });
      off = end;
      continue;
    }
    if (kind === "unknown" || kind === "bzip2" || kind === "lzma") {
      throw new InitrdFormatError(`unsupported initrd data at byte ${off} (${kind === "unknown" ? "neither cpio nor a known compression" : kind})`);
    }
    // A compressed segment runs to the end of the image; inside it, cpio archives may follow each other.
    let data: Buffer;
    try {
      data = await decompress(buf.subarray(off), kind, log);
    } catch (e) {
      throw new InitrdFormatError(`cannot decompress the ${kind} segment at byte ${off}: ${(e as Error).message.split("\n")[0]}`);
    }
    const entries: CpioEntry[] = [];
    let p = 0;
    while (p < data.length) {
      while (p < data.length && data[p] === 0) p++;
      if (p >= data.length) break;
      const r = readCpio(data, p);
      entries.push(...r.entries);
      p = r.end;
    }
    segments.push({ compression: kind, entries });
    off = buf.length;
  }
  if (!segments.length) throw new InitrdFormatError("empty initrd");
  return segments;
}

/** Write segments back: each its own cpio, compressed as it was; concatenated as the kernel expects. */
export async function writeInitrd(segments: readonly InitrdSegment[], log?: Logger): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const [i, s] of segments.entries()) {
    const image = await compress(writeCpio(s.entries), s.compression, log);
    parts.push(image);
    // A segment followed by another ends on a 512-byte boundary, as dracut and initramfs-tools write them.
    if (i < segments.length - 1 && image.length % 512) parts.push(Buffer.alloc(512 - (image.length % 512)));
  }
  return Buffer.concat(parts);
}

export { CpioFormatError };
