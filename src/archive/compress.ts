import zlib from "node:zlib";
import { runFilter } from "../exec.ts";
import type { Logger } from "../log.ts";

/** How an initrd segment may be compressed (the kernel reads each of these). */
export const COMPRESSIONS = ["gzip", "zstd", "xz", "lz4", "none"] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/**
 * Compress an initrd image. gzip runs in-process (Node's header has no name and mtime 0,
 * so it is reproducible); xz must use CRC32 because the kernel's unpacker knows no other.
 */
export async function compress(data: Buffer, kind: Compression, log?: Logger): Promise<Buffer> {
  switch (kind) {
    case "none":
      return data;
    case "gzip":
      return zlib.gzipSync(data, { level: 6 });
    case "zstd":
      return runFilter("zstd", ["-q", "-19", "-c", "-"], data, log);
    case "xz":
      return runFilter("xz", ["--check=crc32", "-9", "-c", "-"], data, log);
    case "lz4":
      // The kernel reads only lz4's legacy frame format.
      return runFilter("lz4", ["-l", "-9", "-c", "-"], data, log);
  }
}

/** What an initrd segment starts with. */
export type Detected = Compression | "bzip2" | "lzma" | "unknown";

export function detectCompression(b: Buffer): Detected {
  const starts = (...bytes: number[]) => bytes.every((x, i) => b[i] === x);
  if (b.subarray(0, 6).toString("latin1") === "070701" || b.subarray(0, 6).toString("latin1") === "070702") return "none";
  if (starts(0x1f, 0x8b)) return "gzip";
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return "xz";
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return "zstd";
  if (starts(0x02, 0x21, 0x4c, 0x18) || starts(0x04, 0x22, 0x4d, 0x18)) return "lz4";
  if (starts(0x42, 0x5a, 0x68)) return "bzip2";
  if (starts(0x5d, 0x00, 0x00)) return "lzma";
  return "unknown";
}

/**
 * Decompress one initrd segment. The kernel allows zero padding after it, which zstd and
 * lz4 reject. A stream may itself end in a few zero bytes (a gzip size, lz4's last
 * literals: the cpio trailer's padding), so on failure try the lengths just past the last
 * non-zero byte.
 */
export async function decompress(data: Buffer, kind: Detected, log?: Logger): Promise<Buffer> {
  try {
    return await decompressExactly(data, kind, log);
  } catch (e) {
    let end = data.length;
    while (end > 0 && data[end - 1] === 0) end--;
    for (let len = end; len < Math.min(data.length, end + 16); len++) {
      try {
        return await decompressExactly(data.subarray(0, len), kind, log);
      } catch {
        /* try one more byte of the zeros */
      }
    }
    throw e;
  }
}

async function decompressExactly(body: Buffer, kind: Detected, log?: Logger): Promise<Buffer> {
  switch (kind) {
    case "none":
      return body;
    case "gzip":
      return zlib.gunzipSync(body);
    case "xz":
      return runFilter("xz", ["-dc", "--single-stream"], body, log);
    case "lzma":
      return runFilter("xz", ["--format=lzma", "-dc"], body, log);
    case "zstd":
      return runFilter("zstd", ["-dc"], body, log);
    case "lz4":
      return runFilter("lz4", ["-dc"], body, log);
    default:
      throw new Error(`unsupported compression (${kind})`);
  }
}

/** The external compressor a compression needs (gzip runs in-process). */
export function compressorTools(c: Compression): ("zstd" | "xz" | "lz4")[] {
  return c === "zstd" || c === "xz" || c === "lz4" ? [c] : [];
}
