/**
 * The demo guests' kernel (and domain 0's, see xenKernelFile): the ELF vmlinux inside
 * Debian's bzImage, gzip-compressed.
 *
 * Why: `xl create` loads a PV guest's kernel in domain 0's userspace. From a bzImage, libxc
 * xz-decompresses 66 MB there (5 s idle under emulation, 10 s on a loaded host); the plain
 * ELF costs no decompression but 66 MB read off the CD (8 MB/s measured under load). libxc
 * gunzips a gzip-compressed ELF kernel itself (xc_dom_kernel_file), and inflate is several
 * times faster than xz: 12 MB on the medium, read and inflated in a fraction of the time.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { cachedFile } from "../cache-file.ts";
import { DemocdError } from "../errors.ts";
import { runFilter } from "../exec.ts";
import type { Logger } from "../log.ts";

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/**
 * The compressed payload of an x86 bzImage (boot protocol >= 2.08): setup_sects at 0x1f1
 * (0 means 4), payload_offset at 0x248 and payload_length at 0x24c, counted from the start
 * of the protected-mode part.
 */
export function bzImagePayload(image: Buffer, name: string): Buffer {
  if (image.length < 0x250 || image.toString("latin1", 0x202, 0x206) !== "HdrS" || image.readUInt16LE(0x206) < 0x208) {
    throw new DemocdError(`${name} is not an x86 bzImage with boot protocol 2.08 or later`, { hint: "use a Debian linux-image-*-amd64 package" });
  }
  const setupSects = image[0x1f1] || 4;
  const start = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  const end = start + image.readUInt32LE(0x24c);
  if (end > image.length) throw new DemocdError(`${name}: its payload runs past the end of the file`, { hint: "the kernel package is damaged: remove it from build/cache" });
  return image.subarray(start, end);
}

/** The ELF vmlinux a bzImage carries, decompressed with whatever the kernel was built with. */
export async function extractVmlinux(image: Buffer, name: string, log?: Logger): Promise<Buffer> {
  const payload = bzImagePayload(image, name);
  const starts = (magic: Buffer) => payload.subarray(0, magic.length).equals(magic);
  // The kernel appends the uncompressed size after the stream: decompress one stream, ignore the rest.
  let elf: Buffer;
  if (starts(XZ_MAGIC)) elf = await runFilter("xz", ["-dc", "--single-stream"], payload, log);
  else if (starts(ZSTD_MAGIC)) elf = await runFilter("zstd", ["-dc"], payload, log);
  else if (starts(GZIP_MAGIC)) elf = zlib.gunzipSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  else if (starts(ELF_MAGIC)) elf = Buffer.from(payload);
  else throw new DemocdError(`${name}: its payload is compressed with something other than xz, zstd or gzip`, { hint: "use a Debian linux-image-*-amd64 package" });
  if (!elf.subarray(0, 4).equals(ELF_MAGIC)) throw new DemocdError(`${name}: its payload is not an ELF kernel`, { hint: "use a Debian linux-image-*-amd64 package" });
  return elf;
}

/**
 * The ELF with the zeros at its end dropped: the last loadable segment's trailing zero bytes
 * (Linux's .bss and .brk stored as file bytes because .init.scratch follows them, 25 of 66 MB)
 * become memory the loader zero-fills (p_filesz < p_memsz, as ELF defines), and the section
 * headers after them go (libxc reads program headers and PT_NOTE only). The image loads the
 * same; xl inflates 40% less. An ELF this does not understand is returned as it is.
 */
export function trimElf(elf: Buffer): Buffer {
  if (elf.length < 64 || !elf.subarray(0, 4).equals(ELF_MAGIC) || elf[4] !== 2 || elf[5] !== 1) return elf; // ELF64 little-endian only
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  if (phentsize < 56 || phoff + phentsize * phnum > elf.length) return elf;
  const phdrs = Array.from({ length: phnum }, (_, i) => {
    const at = phoff + i * phentsize;
    return { at, type: elf.readUInt32LE(at), offset: Number(elf.readBigUInt64LE(at + 8)), filesz: Number(elf.readBigUInt64LE(at + 32)) };
  });
  const loads = phdrs.filter((p) => p.type === 1 && p.filesz > 0);
  if (!loads.length) return elf;
  const last = loads.reduce((a, b) => (b.offset > a.offset ? b : a));
  let end = last.offset + last.filesz;
  if (end > elf.length) return elf;
  while (end > last.offset && elf[end - 1] === 0) end--;
  // Everything else the file describes must lie before the cut.
  const others = phdrs.filter((p) => p !== last && p.filesz > 0);
  if (others.some((p) => p.offset + p.filesz > end) || phoff + phentsize * phnum > end) return elf;
  const out = Buffer.from(elf.subarray(0, end));
  out.writeBigUInt64LE(BigInt(end - last.offset), last.at + 32);
  out.writeBigUInt64LE(0n, 0x28); // e_shoff
  out.writeUInt16LE(0, 0x3c); // e_shnum
  out.writeUInt16LE(0, 0x3e); // e_shstrndx
  return out;
}

/** Its name in the medium's /boot. */
export const GZIP_KERNEL = "vmlinux.gz";

/**
 * The kernel Xen's entries load as domain 0: the gzip'd ELF where /boot has it. Xen builds
 * domain 0 from it in 0.7 s under TCG, where it spent 2.7 s xz-decompressing the bzImage's
 * payload (measured from "d0 has maximum 416 PIRQs" to "Xen kernel: 64-bit"). Else the bzImage.
 */
export function xenKernelFile(bootDir: string): string {
  return fs.existsSync(path.join(bootDir, GZIP_KERNEL)) ? GZIP_KERNEL : "vmlinuz";
}

/**
 * vmlinux.gz beside the cached kernel package, made once (a verified cache file: cachedFile). gzip from zlib with no name and no date: the same bytes every time.
 */
export async function guestKernel(vmlinuz: string, cached: string, log?: Logger): Promise<string> {
  const r = await cachedFile(cached, async (tmp) => {
    const elf = await extractVmlinux(fs.readFileSync(vmlinuz), vmlinuz, log);
    fs.writeFileSync(tmp, zlib.gzipSync(trimElf(elf), { level: 9 }));
  }, log);
  return r.file;
}
