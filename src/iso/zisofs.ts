/**
 * zisofs version 1: a file stored zlib-compressed in independent blocks, which Linux's isofs
 * inflates as it reads (fs/isofs/compress.c) once Rock Ridge marks it (a ZF entry: xorriso's
 * -z writes one for each file that starts with this header, as mkzftree made them). The medium
 * stays a plain ISO: the files keep their names, other readers (xorriso, unpack-iso) inflate
 * them too; GRUB cannot, so nothing it reads is ever compressed.
 *
 * Why democd compresses and not xorriso's own --zisofs filter: xorriso compresses every file
 * twice (once to learn its size, once to write it) on one core: 79 s for this medium's /usr here.
 * Here each file is compressed once, on every core, and kept in the cache by its content.
 */
import zlib from "node:zlib";
import { promisify } from "node:util";

const deflate = promisify(zlib.deflate);

export const ZISOFS_MAGIC = Buffer.from([0x37, 0xe4, 0x53, 0x96, 0xc9, 0xdb, 0xd6, 0x07]);

/**
 * 32 KiB blocks, the smallest Linux reads (2^15..2^17). Under read-ahead Linux inflates a whole
 * block for each page it is asked for (the block's other pages are locked by the read-ahead), so
 * larger blocks cost more: domain 0's login took 33 s with 32 KiB, far more with 128 KiB, for a
 * medium 1 % smaller.
 */
export const ZISOFS_BLOCK_LOG2 = 15;
/** zlib's default: on Debian's libraries level 9 took 3.5x as long for 0.3 % less (measured, 88 MB). */
export const ZISOFS_LEVEL = 6;

/** A file's size in the ISO's 2 KiB sectors: what compression has to save to be worth it. */
export const sectors = (bytes: number) => Math.ceil(bytes / 2048);

/**
 * The zisofs form of `data`: a 16-byte header (magic, size, header size in 4-byte words, block
 * size as log2), a table of n+1 block offsets, then each block deflated on its own; a block of
 * zeros is stored as nothing (the reader zero-fills it). Undefined where it would not take fewer
 * sectors than the plain file, or the size does not fit version 1's 32 bits.
 */
export async function zisofsEncode(data: Buffer, level = ZISOFS_LEVEL, blockLog2 = ZISOFS_BLOCK_LOG2): Promise<Buffer | undefined> {
  if (data.length === 0 || data.length >= 2 ** 32) return undefined;
  const blockSize = 1 << blockLog2;
  const n = Math.ceil(data.length / blockSize);
  const header = Buffer.alloc(16);
  ZISOFS_MAGIC.copy(header, 0);
  header.writeUInt32LE(data.length, 8);
  header[12] = 16 / 4;
  header[13] = blockLog2;
  const pointers = Buffer.alloc(4 * (n + 1));
  const blocks = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const block = data.subarray(i * blockSize, (i + 1) * blockSize);
      return block.every((b) => b === 0) ? Buffer.alloc(0) : deflate(block, { level });
    }),
  );
  let offset = header.length + pointers.length;
  blocks.forEach((b, i) => {
    pointers.writeUInt32LE(offset, 4 * i);
    offset += b.length;
  });
  pointers.writeUInt32LE(offset, 4 * n);
  if (sectors(offset) >= sectors(data.length)) return undefined;
  return Buffer.concat([header, pointers, ...blocks], offset);
}

/** The plain content of a zisofs file (for tests and checks; Linux and xorriso have their own). */
export function zisofsDecode(file: Buffer): Buffer {
  if (!file.subarray(0, 8).equals(ZISOFS_MAGIC)) throw new Error("not a zisofs file");
  const size = file.readUInt32LE(8);
  const start = file[12] * 4;
  const blockSize = 1 << file[13];
  const n = Math.ceil(size / blockSize);
  const out = Buffer.alloc(size);
  for (let i = 0; i < n; i++) {
    const from = file.readUInt32LE(start + 4 * i);
    const to = file.readUInt32LE(start + 4 * (i + 1));
    if (to > from) zlib.inflateSync(file.subarray(from, to)).copy(out, i * blockSize);
  }
  return out;
}
