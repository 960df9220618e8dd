import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { espDirectories, type EspFile } from "../efi/esp-files.ts";
import { run } from "../exec.ts";
import type { Logger } from "../log.ts";

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
