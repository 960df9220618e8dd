import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { removeTree } from "../../src/fsutil.ts";

/**
 * Every temporary file of a test run, the tools' own included, goes under one directory
 * (TMPDIR, which the workers and the tools they start inherit) that is removed when the
 * run ends: test builds leave ISOs and trees of hundreds of MB, and a machine that runs
 * the suite again must not fill its disk with them. DEMOCD_KEEP_TEMP=1 keeps it.
 */
export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "democd-test-run-"));
  // The rootless tests run as nobody inside it.
  fs.chmodSync(root, 0o755);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (process.env.DEMOCD_KEEP_TEMP) process.stderr.write(`kept the test run's temporary files in ${root}\n`);
    else removeTree(root);
  };
}
