import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { BuildContext } from "../context.ts";
import { diskFullLine, freeBytes, notEnoughSpace } from "../diskspace.ts";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import { BIOS_PLATFORM, EFI_PLATFORM, GRUB_LIB, makeGrubImages } from "../iso/grub-images.ts";
import { outputPath } from "../outputs/formats.ts";
import { XORRISO_STDOUT, volumeId, xorrisoArgs, type Graft, type MasterArgs } from "../iso/xorriso.ts";

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
  const images = await makeGrubImages(ctx.paths.cache, ctx.sourceDateEpoch, ctx.log);
  return writeIso(ctx, {
    volid: volumeId(ctx.config.version),
    grafts: mediumGrafts(ctx),
    bios: { eltorito: images.eltorito, mbr: images.mbr },
    efi: { image: images.efiImg },
  });
}

/**
 * The one xorriso call, atomically: shared by fresh builds and rebuilds of unpacked media.
 * xorriso writes the image to a pipe and democd hashes each chunk as it writes it to the
 * temporary file, so the sha256 costs no second read of the whole ISO.
 */
export async function writeIso(ctx: BuildContext, m: Omit<MasterArgs, "out" | "epoch">): Promise<{ bytes: number; sha256: string }> {
  const out = outputPath(path.resolve(ctx.config.out), "iso");
  const tmp = `${out}.tmp-${process.pid}`;
  const args = xorrisoArgs({ ...m, out: XORRISO_STDOUT, epoch: ctx.sourceDateEpoch });
  const env = { SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch) };
  const hash = crypto.createHash("sha256");
  let bytes = 0;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "w");
    const file = fd;
    await run("xorriso", args, {
      log: ctx.log,
      env,
      stdoutSink: (chunk) => {
        hash.update(chunk);
        for (let off = 0; off < chunk.length; ) off += fs.writeSync(file, chunk, off);
        bytes += chunk.length;
      },
      onLine: (line) => {
        const p = /UPDATE :\s+([\d.]+)% done/.exec(line);
        if (p) ctx.log.progress(`mastering ${path.basename(out)}: ${p[1]}%`);
      },
    });
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, out);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if (isDiskFull(e)) {
      // The pipe hides the free space from xorriso: ask it for the image's size instead.
      const size = await run("xorriso", [...args.slice(0, 2), "-print-size", ...args.slice(2)], { log: ctx.log, env });
      const sectors = Number(/(\d+)\s*$/.exec(size.stdout.trim())?.[1] ?? NaN);
      if (sectors) throw notEnoughSpace(path.dirname(out), sectors * 2048, freeBytes(path.dirname(out)), `the ISO ${path.basename(out)}`);
    }
    throw e instanceof DemocdError ? e : new DemocdError(`mastering ${out} failed: ${(e as Error).message}`, { cause: e });
  }
  const sha = hash.digest("hex");
  fs.writeFileSync(`${out}.sha256`, `${sha}  ${path.basename(out)}\n`);
  return { bytes, sha256: sha };
}

function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || (e instanceof DemocdError && diskFullLine(e.debug ?? "") !== undefined);
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
