import fs from "node:fs";
import { DemocdError } from "./errors.ts";

export const DISK_FULL_HINT = "free some space (df -h), or write to a larger disk with --out or --build-dir";

/** How tools say the disk filled up; xorriso checks before writing and says it its own way. */
const DISK_FULL = /No space left on device|exceeds free space on media|Disk quota exceeded/i;

/** The line of a tool's output that says the disk is full, if one does. */
export function diskFullLine(output: string): string | undefined {
  return output.split(/\r?\n/).find((l) => DISK_FULL.test(l))?.trim();
}

/** Bytes an unprivileged writer may still use on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

const MB = 1e6;

/**
 * Fail before a long write that cannot fit, naming the directory and both sizes: a
 * half-written ISO or tree helps nobody, and the tool's own message would not say where.
 */
export function checkFreeSpace(dir: string, neededBytes: number, what: string, free = freeBytes(dir)): void {
  if (neededBytes > free) throw notEnoughSpace(dir, neededBytes, free, what);
}

export function notEnoughSpace(dir: string, neededBytes: number, freeBytes: number, what: string): DemocdError {
  const mb = (n: number) => Math.ceil(n / MB);
  return new DemocdError(`not enough free space in ${dir} for ${what}: needs about ${mb(neededBytes)} MB, ${mb(freeBytes)} MB free`, { hint: DISK_FULL_HINT });
}

/**
 * xorriso's own check before it writes an image, in 2048-byte sectors ("Image size 142520s
 * exceeds free space on media 20480s"): the exact size, where democd could only estimate it.
 */
export function isoSizeShortfall(output: string): { neededBytes: number; freeBytes: number } | undefined {
  const m = /Image size (\d+)s exceeds free space on media (\d+)s/.exec(output);
  return m ? { neededBytes: Number(m[1]) * 2048, freeBytes: Number(m[2]) * 2048 } : undefined;
}

/** Node's own "disk full" while democd writes a file, as the one line a user can act on. */
export function diskFullError(e: unknown): DemocdError | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err?.code !== "ENOSPC" && err?.code !== "EDQUOT") return undefined;
  return new DemocdError(`the disk is full: cannot write ${err.path ?? "a file"}`, { hint: DISK_FULL_HINT, debug: err.stack });
}
