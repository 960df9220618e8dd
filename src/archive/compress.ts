import zlib from "node:zlib";
import type { Compression } from "../config/schema.ts";
import { runFilter } from "../exec.ts";
import type { Logger } from "../log.ts";

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
  }
}
