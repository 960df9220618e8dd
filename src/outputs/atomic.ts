import fs from "node:fs";
import path from "node:path";
import { fileSha256, hashBehindWriter } from "../hash.ts";

export interface WrittenOutput {
  file: string;
  bytes: number;
  sha256: string;
}

/**
 * Write an output under a temporary directory beside it, with its final base name (a VMDK
 * names its own file inside), then fsync, rename into place and write its .sha256. A
 * failure leaves nothing behind. `hashWhileWriting`, for a writer that only appends
 * (xorriso), hashes the file behind it instead of reading it again afterwards.
 */
export async function writeAtomically(out: string, write: (tmpFile: string) => Promise<void>, options: { hashWhileWriting?: boolean } = {}): Promise<WrittenOutput> {
  const dir = fs.mkdtempSync(path.join(path.dirname(out), `.${path.basename(out)}.tmp-`));
  const tmp = path.join(dir, path.basename(out));
  let written = false;
  let hashing: Promise<{ sha256: string; bytes: number }> | undefined;
  try {
    if (options.hashWhileWriting) {
      fs.writeFileSync(tmp, ""); // the writer opens it without truncating; the hasher follows it from the start
      hashing = hashBehindWriter(tmp, () => written);
    }
    await write(tmp).finally(() => (written = true));
    const fd = fs.openSync(tmp, "r");
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const hashed = await hashing;
    fs.renameSync(tmp, out);
    const sha = hashed?.sha256 ?? (await fileSha256(out));
    fs.writeFileSync(`${out}.sha256`, `${sha}  ${path.basename(out)}\n`);
    return { file: out, bytes: fs.statSync(out).size, sha256: sha };
  } finally {
    written = true;
    await hashing?.catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
