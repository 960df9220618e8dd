import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { BuildContext } from "../context.ts";
import { isoSizeShortfall, notEnoughSpace } from "../diskspace.ts";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import { BIOS_PLATFORM, EFI_PLATFORM, GRUB_LIB, makeGrubImages } from "../iso/grub-images.ts";
import { outputPath } from "../outputs/formats.ts";
import { volumeId, xorrisoArgs, type Graft, type MasterArgs } from "../iso/xorriso.ts";

/** The trees that make the medium, mapped in place. */
export function mediumGrafts(ctx: BuildContext): Graft[] {
  return [
    { iso: "/", host: ctx.paths.usr },
    { iso: "/boot", host: ctx.paths.boot },
    { iso: "/democd", host: ctx.paths.democd },
    { iso: `/boot/grub/${BIOS_PLATFORM}`, host: path.join(GRUB_LIB, BIOS_PLATFORM) },
    { iso: `/boot/grub/${EFI_PLATFORM}`, host: path.join(GRUB_LIB, EFI_PLATFORM) },
  ];
}

/**
 * Master the ISO with one xorriso call, under a temporary name beside the output; only a
 * complete, synced image is renamed into place, with its sha256 next to it.
 */
export async function masterIso(ctx: BuildContext): Promise<{ bytes: number; sha256: string }> {
  return writeIso(ctx, await mediumArgs(ctx));
}

/** What the medium's xorriso call masters: the trees and both boot modes (the bench times xorriso alone with them). */
export async function mediumArgs(ctx: BuildContext): Promise<Omit<MasterArgs, "out" | "epoch">> {
  const images = await makeGrubImages(ctx.paths.cache, ctx.sourceDateEpoch, ctx.log);
  return {
    volid: volumeId(ctx.config.version),
    grafts: mediumGrafts(ctx),
    bios: { eltorito: images.eltorito, mbr: images.mbr },
    efi: { image: images.efiImg },
  };
}

/**
 * The one xorriso call, atomically: shared by fresh builds and rebuilds of unpacked media.
 * The sha256 is computed while xorriso writes, by reading the image behind it: no second
 * read of the whole ISO afterwards, and no pipe (handing 64 KiB chunks through a pipe cost
 * more than the re-read on a busy machine).
 */
export async function writeIso(ctx: BuildContext, m: Omit<MasterArgs, "out" | "epoch">): Promise<{ bytes: number; sha256: string }> {
  const out = outputPath(path.resolve(ctx.config.out), "iso");
  const tmp = `${out}.tmp-${process.pid}`;
  const args = xorrisoArgs({ ...m, out: tmp, epoch: ctx.sourceDateEpoch });
  let written = false;
  let hashing: Promise<{ sha256: string; bytes: number }> | undefined;
  try {
    fs.writeFileSync(tmp, ""); // xorriso opens it without truncating; the hasher can follow it from the start
    hashing = hashBehindWriter(tmp, () => written);
    await run("xorriso", args, {
      log: ctx.log,
      env: { SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch) },
      onLine: (line) => {
        const p = /UPDATE :\s+([\d.]+)% done/.exec(line);
        if (p) ctx.log.progress(`mastering ${path.basename(out)}: ${p[1]}%`);
      },
    }).finally(() => (written = true));
    const fd = fs.openSync(tmp, "r");
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const r = await hashing;
    fs.renameSync(tmp, out);
    fs.writeFileSync(`${out}.sha256`, `${r.sha256}  ${path.basename(out)}\n`);
    return r;
  } catch (e) {
    written = true;
    await hashing?.catch(() => undefined);
    fs.rmSync(tmp, { force: true });
    const short = e instanceof DemocdError ? isoSizeShortfall(e.debug ?? "") : undefined;
    if (short) throw notEnoughSpace(path.dirname(out), short.neededBytes, short.freeBytes, `the ISO ${path.basename(out)}`);
    throw e instanceof DemocdError ? e : new DemocdError(`mastering ${out} failed: ${(e as Error).message}`, { cause: e });
  }
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

/** A file's sha256, read in large blocks (a stream's small chunks cost twice the time on a large image). */
export async function fileSha256(file: string): Promise<string> {
  const hash = crypto.createHash("sha256");
  const fh = await fs.promises.open(file, "r");
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
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
