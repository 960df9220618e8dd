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
  const images = await makeGrubImages(ctx.paths.cache, ctx.sourceDateEpoch, ctx.log);
  return writeIso(ctx, {
    volid: volumeId(ctx.config.version),
    grafts: mediumGrafts(ctx),
    bios: { eltorito: images.eltorito, mbr: images.mbr },
    efi: { image: images.efiImg },
  });
}

/** The one xorriso call, atomically: shared by fresh builds and rebuilds of unpacked media. */
export async function writeIso(ctx: BuildContext, m: Omit<MasterArgs, "out" | "epoch">): Promise<{ bytes: number; sha256: string }> {
  const out = outputPath(path.resolve(ctx.config.out), "iso");
  const tmp = `${out}.tmp-${process.pid}`;
  const args = xorrisoArgs({ ...m, out: tmp, epoch: ctx.sourceDateEpoch });
  try {
    await run("xorriso", args, {
      log: ctx.log,
      env: { SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch) },
      onLine: (line) => {
        const m = /UPDATE :\s+([\d.]+)% done/.exec(line);
        if (m) ctx.log.progress(`mastering ${path.basename(out)}: ${m[1]}%`);
      },
    });
    const fd = fs.openSync(tmp, "r");
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    const short = e instanceof DemocdError ? isoSizeShortfall(e.debug ?? "") : undefined;
    if (short) throw notEnoughSpace(path.dirname(out), short.neededBytes, short.freeBytes, `the ISO ${path.basename(out)}`);
    throw e instanceof DemocdError ? e : new DemocdError(`mastering ${out} failed: ${(e as Error).message}`, { cause: e });
  }
  const sha = await fileSha256(out);
  fs.writeFileSync(`${out}.sha256`, `${sha}  ${path.basename(out)}\n`);
  return { bytes: fs.statSync(out).size, sha256: sha };
}

export async function fileSha256(file: string): Promise<string> {
  const hash = crypto.createHash("sha256");
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return hash.digest("hex");
}
