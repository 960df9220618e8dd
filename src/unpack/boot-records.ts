import fs from "node:fs";
import path from "node:path";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import type { Logger } from "../log.ts";

/**
 * A medium's boot equipment (El Torito images, hybrid MBR, GPT, boot-info tables) as
 * xorriso reports it in mkisofs options. Byte ranges it copies from the original image
 * are saved beside the unpacked tree, so a rebuild replays them without the original.
 */
export interface BootRecords {
  /** mkisofs options; interval sources are paths relative to the records directory. */
  options: string[];
  volid?: string;
  modificationDate?: string;
  /** The boot catalog's path in the tree (xorriso writes it anew). */
  catalog?: string;
}

/** Split xorriso's option lines: words, with '...' quoting ('"'"' for a quote). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error("unbalanced quote in xorriso output");
      cur = (cur ?? "") + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      cur = (cur ?? "") + text.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(c)) {
      if (cur !== null) words.push(cur);
      cur = null;
    } else cur = (cur ?? "") + c;
  }
  if (cur !== null) words.push(cur);
  return words;
}

const UNIT: Record<string, number> = { "": 1, s: 512, d: 2048, k: 1024, m: 1024 * 1024 };
const INTERVAL = /^(.*--interval:local_fs:)(\d+)([sdkm]?)-(\d+)([sdkm]?):([^:]*):(.*)$/;

/** Read the boot records of `iso`, saving the byte ranges they need into `recordsDir`. */
export async function saveBootRecords(iso: string, recordsDir: string, log?: Logger): Promise<BootRecords> {
  const { stdout } = await run("xorriso", ["-indev", iso, "-report_el_torito", "as_mkisofs"], { log });
  const words = splitWords(stdout);
  const records: BootRecords = { options: [] };
  fs.mkdirSync(recordsDir, { recursive: true });
  let n = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === "-V") {
      records.volid = words[++i];
      continue;
    }
    if (w.startsWith("--modification-date=")) {
      records.modificationDate = w.slice("--modification-date=".length);
      continue;
    }
    if (w === "-c") records.catalog = words[i + 1];
    const m = INTERVAL.exec(w);
    if (m) {
      const [, prefix, a, ua, b, ub, flags] = m;
      const start = Number(a) * UNIT[ua];
      const end = (Number(b) + 1) * UNIT[ub];
      if (end <= start || end - start > 64 * 1024 * 1024) throw new DemocdError(`unexpected boot record interval ${w}`);
      const name = `interval-${++n}.img`;
      const fd = fs.openSync(iso, "r");
      const buf = Buffer.alloc(end - start);
      const got = fs.readSync(fd, buf, 0, buf.length, start);
      fs.closeSync(fd);
      if (got !== buf.length) throw new DemocdError(`${iso} is truncated: its boot records reach byte ${end}`);
      fs.writeFileSync(path.join(recordsDir, name), buf);
      records.options.push(`${prefix}0-${end - start - 1}:${flags}:${name}`);
      continue;
    }
    records.options.push(w);
  }
  return records;
}

/** The saved options with interval sources made absolute again. */
export function replayOptions(records: BootRecords, recordsDir: string): string[] {
  return records.options.map((w) => {
    const m = INTERVAL.exec(w);
    return m ? `${m[1]}${m[2]}${m[3]}-${m[4]}${m[5]}:${m[6]}:${path.join(recordsDir, m[7])}` : w;
  });
}
