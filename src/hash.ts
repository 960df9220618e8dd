import crypto from "node:crypto";
import fs from "node:fs";

export function sha256(data: string | Buffer): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

/**
 * A file's sha256, read in large blocks (a stream's small chunks cost twice the time on a large
 * image), but no larger than the file: a 4 MiB buffer for each of a tree's thousands of small
 * files made hashing a bootstrap 5× slower than sha256sum.
 */
export async function fileSha256(file: string): Promise<string> {
  const hash = crypto.createHash("sha256");
  const fh = await fs.promises.open(file, "r");
  try {
    const { size } = await fh.stat();
    const buf = Buffer.allocUnsafe(Math.min(4 << 20, Math.max(64 << 10, size + 1)));
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}

/**
 * Hash a file while another process appends to it, until `done()` and nothing is left to
 * read. Only valid for a sequential writer: xorriso writes a regular file front to back in
 * 32 KiB writes and never goes back (measured with strace: one lseek to 0, then writes only),
 * and the kernel shows a reader no byte before it is written.
 */
export async function hashBehindWriter(file: string, done: () => boolean): Promise<{ sha256: string; bytes: number }> {
  const hash = crypto.createHash("sha256");
  const fh = await fs.promises.open(file, "r");
  const buf = Buffer.allocUnsafe(4 << 20);
  let bytes = 0;
  try {
    for (;;) {
      const finished = done(); // read before the read: once finished, a short read is the end
      const { bytesRead } = await fh.read(buf, 0, buf.length, bytes);
      if (bytesRead) {
        hash.update(buf.subarray(0, bytesRead));
        bytes += bytesRead;
      } else if (finished) break;
      else await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest("hex"), bytes };
}
