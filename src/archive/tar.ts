import fs from "node:fs";
import { run } from "../exec.ts";
import type { Logger } from "../log.ts";
import { treeEntries, type CpioEntry } from "./cpio.ts";
import type { TreeRecord } from "./safe-tree.ts";
import { gzipTar, writeTar } from "./tar-writer.ts";

export interface TarOptions {
  /** Clamp mtimes to this (SOURCE_DATE_EPOCH). */
  mtime: number;
  /** Owners on disk mean something (a tree made or unpacked by root); otherwise 0:0. */
  ownersFromDisk: boolean;
  /** Owners and device nodes recorded when the tree was unpacked by an ordinary user. */
  record?: TreeRecord;
}

/** The members of root.tar.gz for a tree: sorted, clamped, with recorded owners and devices. */
export function rootEntries(dir: string, o: TarOptions): CpioEntry[] {
  const entries = treeEntries(dir, { mtimeClamp: o.mtime, ownersFromDisk: o.ownersFromDisk, owners: new Map(Object.entries(o.record?.owners ?? {})) });
  const names = new Set(entries.map((e) => e.name));
  for (const d of o.record?.devices ?? []) {
    if (!names.has(d.name)) entries.push({ ...d, mtime: Math.min(d.mtime, o.mtime), data: Buffer.alloc(0) });
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Pack a tree as a reproducible root.tar.gz, in-process. */
export function packTree(dir: string, out: string, o: TarOptions): number {
  const data = gzipTar(writeTar(rootEntries(dir, o)));
  fs.rmSync(out, { force: true });
  fs.writeFileSync(out, data, { flag: "wx" });
  return data.length;
}

/** Member listing `mode owner size path` lines, as GNU tar reads the archive (tests, checks). */
export async function listTar(file: string, log?: Logger): Promise<string[]> {
  const { stdout } = await run("tar", ["--list", "--verbose", "--numeric-owner", "--file", file], { log });
  return stdout.split("\n").filter(Boolean);
}
