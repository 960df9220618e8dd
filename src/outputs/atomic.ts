import fs from "node:fs";
import path from "node:path";
import { fileSha256 } from "../stages/master.ts";

/**
 * Write an output under a temporary directory beside it, with its final base name (a VMDK
 * names its own file inside), then fsync, rename into place and write its .sha256. A
 * failure leaves nothing behind.
 */
export async function writeAtomically(out: string, write: (tmpFile: string) => Promise<void>): Promise<{ file: string; bytes: number; sha256: string }> {
  const dir = fs.mkdtempSync(path.join(path.dirname(out), `.${path.basename(out)}.tmp-`));
  const tmp = path.join(dir, path.basename(out));
  try {
    await write(tmp);
    const fd = fs.openSync(tmp, "r");
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const sha = await fileSha256(out);
  fs.writeFileSync(`${out}.sha256`, `${sha}  ${path.basename(out)}\n`);
  return { file: out, bytes: fs.statSync(out).size, sha256: sha };
}
