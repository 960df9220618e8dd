import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../exec.ts";
import type { Logger } from "../log.ts";

/** A file on a FAT file system (an ESP): a host file copied byte for byte, or a text democd writes. */
export interface EspFile {
  /** Its path on the FAT file system, without a leading slash. */
  path: string;
  from?: string;
  text?: string;
}

/** The directories a file list needs, parents first (mtools' mmd makes one level at a time). */
export function espDirectories(files: EspFile[]): string[] {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return [...dirs].sort((a, b) => a.split("/").length - b.split("/").length || (a < b ? -1 : a > b ? 1 : 0));
}

export interface FatSpec {
  /** The image file, or `file@@offset` for a partition inside a disk image. */
  at: string;
  sectors: number;
  serial: string;
  label: string;
  heads: number;
}

/**
 * A FAT file system made and filled by mtools (no mount, no root), with a fixed serial and
 * every date SOURCE_DATE_EPOCH (mtools honours it; TZ is pinned to UTC).
 */
export async function makeFat(fat: FatSpec, files: EspFile[], epoch: number, log?: Logger): Promise<void> {
  const env = { MTOOLS_SKIP_CHECK: "1", SOURCE_DATE_EPOCH: String(epoch) };
  await run("mformat", ["-i", fat.at, "-N", fat.serial, "-v", fat.label, "-T", String(fat.sectors), "-h", String(fat.heads), "-s", "32", "::"], { log, env });
  const dirs = espDirectories(files);
  if (dirs.length) await run("mmd", ["-i", fat.at, ...dirs.map((d) => `::/${d}`)], { log, env });
  const texts = fs.mkdtempSync(path.join(os.tmpdir(), "democd-esp-"));
  try {
    for (const f of files) {
      let from = f.from;
      if (from === undefined) {
        from = path.join(texts, f.path.replace(/\//g, "_"));
        fs.writeFileSync(from, f.text ?? "");
      }
      await run("mcopy", ["-i", fat.at, from, `::/${f.path}`], { log, env });
    }
  } finally {
    fs.rmSync(texts, { recursive: true, force: true });
  }
}
