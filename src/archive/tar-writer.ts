import zlib from "node:zlib";
import type { CpioEntry } from "./cpio.ts";

/**
 * POSIX (pax) tar written in-process, like the initrd's cpio: every field is ours, so a
 * root packed by an ordinary user carries the owners and device nodes recorded at unpack,
 * and the bytes do not depend on who packs it. Members are named "./x" like `tar -C dir .`.
 */
const BLOCK = 512;
const TYPEFLAG: Record<CpioEntry["type"], string> = { file: "0", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6", socket: "" };

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

/** One pax record: "<len> key=value\n", where len counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function header(name: string, e: { perm: number; uid: number; gid: number; mtime: number; size: number; type: string; link?: string; rdevMajor?: number; rdevMinor?: number }): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  h.write(octal(e.perm & 0o7777, 8), 100, "ascii");
  h.write(octal(e.uid, 8), 108, "ascii");
  h.write(octal(e.gid, 8), 116, "ascii");
  h.write(octal(e.size, 12), 124, "ascii");
  h.write(octal(e.mtime, 12), 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write(e.type, 156, "ascii");
  if (e.link) h.write(e.link, 157, 100, "utf8");
  h.write("ustar\0" + "00", 257, "ascii");
  h.write(octal(e.rdevMajor ?? 0, 8), 329, "ascii");
  h.write(octal(e.rdevMinor ?? 0, 8), 337, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, "ascii");
  return h;
}

const pad = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);
const fits = (s: string) => Buffer.byteLength(s) <= 100 && /^[\x20-\x7e]*$/.test(s);

export function writeTar(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const top = { perm: 0o755, uid: 0, gid: 0, mtime: entries.reduce((m, e) => Math.max(m, e.mtime), 0) };
  const all = [{ ...top, name: "", type: "dir" as const, data: Buffer.alloc(0) }, ...entries.filter((e) => e.name !== "")];
  for (const e of all) {
    if (e.type === "socket") continue;
    const name = e.name === "" ? "./" : `./${e.name}${e.type === "dir" ? "/" : ""}`;
    const link = e.type === "symlink" ? e.data.toString() : undefined;
    const size = e.type === "file" ? e.data.length : 0;
    if (!fits(name) || (link !== undefined && !fits(link))) {
      const records = Buffer.from((fits(name) ? "" : paxRecord("path", name)) + (link === undefined || fits(link) ? "" : paxRecord("linkpath", link)));
      parts.push(header(`./PaxHeaders/${e.name.split("/").pop()!.slice(0, 80)}`, { ...e, size: records.length, type: "x" }), records, pad(records.length));
    }
    parts.push(header(name, { ...e, size, type: TYPEFLAG[e.type], link }));
    if (size) parts.push(e.data, pad(size));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/** gzip with no name and mtime 0 (Node's default header): reproducible. */
export function gzipTar(tar: Buffer): Buffer {
  return zlib.gzipSync(tar, { level: 6 });
}
