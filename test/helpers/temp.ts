import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, onTestFinished } from "vitest";
import { removeTree } from "../../src/fsutil.ts";

/**
 * A fresh directory in the test run's temp dir (test/setup/temp-root.ts), removed as soon
 * as the test that made it ends, or, made while collecting a file, when its tests end: a
 * test build leaves ISOs and trees of hundreds of MB, and the suite's peak disk use must
 * stay small. One made in a hook goes with the run's temp dir. DEMOCD_KEEP_TEMP=1 keeps it.
 */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `democd-${prefix}-`));
  if (process.env.DEMOCD_KEEP_TEMP) return dir;
  try {
    onTestFinished(() => removeTree(dir));
  } catch {
    afterAll(() => removeTree(dir)); // ignored when called in a hook
  }
  return dir;
}
