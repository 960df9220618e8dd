/**
 * Just enough ELF to copy a dynamically linked program into the initrd with exactly the
 * shared libraries it needs: its program interpreter (PT_INTERP) and DT_NEEDED entries,
 * read from the file itself (no ldd: that would run the program, and on the host's libraries).
 */
import fs from "node:fs";
import path from "node:path";
import { DemocdError } from "./errors.ts";

export interface ElfDynamicInfo {
  /** PT_INTERP: the dynamic loader's absolute path, e.g. /lib64/ld-linux-x86-64.so.2 (none for a static or shared library). */
  interp?: string;
  /** DT_NEEDED, in file order. */
  needed: string[];
  /** DT_SONAME, for a shared library. */
  soname?: string;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_SONAME = 14n;

/** The dynamic-linking facts of a little-endian ELF64 file (x86-64, arm64, riscv64 ...). */
export function readElfDynamic(buf: Buffer, name = "file"): ElfDynamicInfo {
  const bad = (why: string) => new DemocdError(`${name} is not a usable ELF64 file: ${why}`);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw bad("no ELF magic");
  if (buf[4] !== 2) throw bad("not 64-bit (EI_CLASS)");
  if (buf[5] !== 1) throw bad("not little-endian (EI_DATA)");
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  if (phentsize < 56 || phoff + phnum * phentsize > buf.length) throw bad("program headers out of range");

  const loads: { vaddr: bigint; offset: bigint; filesz: bigint }[] = [];
  let dynamic: { offset: number; size: number } | undefined;
  let interp: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const type = buf.readUInt32LE(ph);
    const offset = buf.readBigUInt64LE(ph + 8);
    const vaddr = buf.readBigUInt64LE(ph + 16);
    const filesz = buf.readBigUInt64LE(ph + 32);
    if (offset + filesz > BigInt(buf.length)) throw bad(`segment ${i} out of range`);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_DYNAMIC) dynamic = { offset: Number(offset), size: Number(filesz) };
    else if (type === PT_INTERP) interp = cString(buf, Number(offset), Number(offset + filesz));
  }
  if (!dynamic) return { interp, needed: [] };

  const entries: [bigint, bigint][] = [];
  for (let p = dynamic.offset; p + 16 <= dynamic.offset + dynamic.size; p += 16) {
    const tag = buf.readBigInt64LE(p);
    if (tag === DT_NULL) break;
    entries.push([tag, buf.readBigUInt64LE(p + 8)]);
  }
  const strtabAddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
  const strsz = entries.find(([t]) => t === DT_STRSZ)?.[1];
  if (strtabAddr === undefined) throw bad("dynamic section without DT_STRTAB");
  // DT_STRTAB is an address: find the loaded segment that holds it.
  const seg = loads.find((l) => strtabAddr >= l.vaddr && strtabAddr < l.vaddr + l.filesz);
  if (!seg) throw bad("DT_STRTAB outside every PT_LOAD segment");
  const strtab = Number(strtabAddr - seg.vaddr + seg.offset);
  const strEnd = strsz === undefined ? buf.length : Math.min(buf.length, strtab + Number(strsz));
  const str = (off: bigint) => {
    if (strtab + Number(off) >= strEnd) throw bad("string offset out of range");
    return cString(buf, strtab + Number(off), strEnd);
  };
  const needed = entries.filter(([t]) => t === DT_NEEDED).map(([, v]) => str(v));
  const sonameOff = entries.find(([t]) => t === DT_SONAME)?.[1];
  return { interp, needed, soname: sonameOff === undefined ? undefined : str(sonameOff) };
}

function cString(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString("latin1", start, nul < 0 || nul > end ? end : nul);
}

export function readElfDynamicFile(file: string): ElfDynamicInfo {
  return readElfDynamic(fs.readFileSync(file), file);
}

/**
 * Follow symlinks of `file` inside `dir` only: a relative link is followed, an absolute one
 * (which would point into the build host) is not. The real file, or undefined.
 */
function realFileIn(file: string): string | undefined {
  let p = file;
  for (let n = 0; n < 20; n++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return undefined;
    }
    if (st.isFile()) return p;
    if (!st.isSymbolicLink()) return undefined;
    const target = fs.readlinkSync(p);
    if (path.isAbsolute(target)) return undefined;
    p = path.join(path.dirname(p), target);
  }
  return undefined;
}

export interface LibraryClosure {
  /** Every library the programs need, directly or through other libraries: soname -> the real file. */
  libs: Map<string, string>;
  /** The programs' PT_INTERP (all must agree), with the file found for it among the libraries. */
  interp?: { path: string; file: string };
}

/**
 * The shared libraries `programs` need, looked up by soname in `libDirs` (in order, the way
 * the loader searches its default directories). A soname found nowhere is an error naming it
 * and who needs it, so a package missing from the list is said plainly at build time.
 */
export function libraryClosure(programs: readonly string[], libDirs: readonly string[]): LibraryClosure {
  const libs = new Map<string, string>();
  const missing: string[] = [];
  const find = (soname: string) => {
    for (const d of libDirs) {
      const f = realFileIn(path.join(d, soname));
      if (f) return f;
    }
    return undefined;
  };
  let interp: { path: string; file: string } | undefined;
  const queue: { file: string; needed: string[] }[] = [];
  for (const prog of programs) {
    const info = readElfDynamicFile(prog);
    if (info.interp) {
      if (interp && interp.path !== info.interp) throw new DemocdError(`${prog} wants the loader ${info.interp}, another program ${interp.path}`);
      const file = find(path.basename(info.interp));
      if (!file) throw new DemocdError(`no dynamic loader ${path.basename(info.interp)} (for ${prog}) in ${libDirs.join(", ")}`, { hint: "the loader comes with libc6" });
      interp = { path: info.interp, file };
    }
    queue.push({ file: prog, needed: info.needed });
  }
  while (queue.length) {
    const { file, needed } = queue.shift()!;
    for (const soname of needed) {
      if (libs.has(soname)) continue;
      const found = find(soname);
      if (!found) {
        missing.push(`${soname} (needed by ${path.basename(file)})`);
        continue;
      }
      libs.set(soname, found);
      queue.push({ file: found, needed: readElfDynamicFile(found).needed });
    }
  }
  if (missing.length) {
    throw new DemocdError(`shared libraries not found: ${[...new Set(missing)].join(", ")}`, { hint: `searched ${libDirs.join(", ")}: add the package that ships them` });
  }
  return { libs, interp };
}
