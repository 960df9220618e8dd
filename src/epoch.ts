import fs from "node:fs";

/** SOURCE_DATE_EPOCH from the environment, if set. */
export function envSourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * Without SOURCE_DATE_EPOCH, the newest date among the files democd builds from: the kernel,
 * hypervisor and busybox as their Debian packages carry them. The same inputs give the same
 * epoch, so reproducibility needs no action from the user.
 */
export function derivedEpoch(files: readonly string[]): number {
  return Math.max(...files.map((f) => Math.floor(fs.statSync(f).mtimeMs / 1000)));
}
