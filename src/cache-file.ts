import fs from "node:fs";
import path from "node:path";
import { fileSha256 } from "./hash.ts";
import type { Logger } from "./log.ts";

/**
 * A cache entry of one file, with its sha256 beside it (`FILE.sha256`, written before the file
 * is renamed into place). It is used only while it still matches: a file cut short or changed
 * on disk is said in one line and made again, never used. (Entries that are trees, like the
 * unpacked packages and the bootstrap, are renamed into place whole: a killed build leaves
 * only a temporary name, which the next build removes.)
 */
export async function cachedFile(file: string, make: (tmp: string) => Promise<void>, log?: Logger): Promise<{ file: string; reused: boolean }> {
  const sidecar = `${file}.sha256`;
  if (fs.existsSync(file)) {
    const want = fs.existsSync(sidecar) ? fs.readFileSync(sidecar, "utf8").trim() : undefined;
    if (want !== undefined && (await fileSha256(file)) === want) return { file, reused: true };
    if (want !== undefined) log?.warn(`cache: ${file} is damaged (its sha256 is not the one recorded when it was made): making it again`);
    else log?.record(`cache: ${file} has no recorded sha256 (made by an older democd): making it again`);
    fs.rmSync(file, { force: true });
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await make(tmp);
    fs.writeFileSync(`${sidecar}.tmp-${process.pid}`, `${await fileSha256(tmp)}\n`);
    fs.renameSync(`${sidecar}.tmp-${process.pid}`, sidecar);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(`${sidecar}.tmp-${process.pid}`, { force: true });
  }
  return { file, reused: false };
}
