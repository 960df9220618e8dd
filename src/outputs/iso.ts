import path from "node:path";
import type { BuildContext } from "../context.ts";
import { isoSizeShortfall, notEnoughSpace } from "../diskspace.ts";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import { xorrisoArgs } from "../iso/xorriso.ts";
import { writeAtomically, type WrittenOutput } from "./atomic.ts";
import { outputPath } from "./formats.ts";

/**
 * The iso writer: one xorriso call over the source's layout (trees mapped in place, its boot
 * records), written atomically and hashed while xorriso writes.
 */
export async function writeIso(ctx: BuildContext): Promise<WrittenOutput> {
  const out = outputPath(path.resolve(ctx.config.out), "iso");
  const layout = await ctx.source.isoLayout(ctx);
  try {
    return await writeAtomically(out, async (tmp) => {
      await run("xorriso", xorrisoArgs({ ...layout, out: tmp, epoch: ctx.sourceDateEpoch }), {
        log: ctx.log,
        env: { SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch) },
        onLine: (line) => {
          const p = /UPDATE :\s+([\d.]+)% done/.exec(line);
          if (p) ctx.log.progress(`mastering ${path.basename(out)}: ${p[1]}%`);
        },
      });
    }, { hashWhileWriting: true });
  } catch (e) {
    const short = e instanceof DemocdError ? isoSizeShortfall(e.debug ?? "") : undefined;
    if (short) throw notEnoughSpace(path.dirname(out), short.neededBytes, short.freeBytes, `the ISO ${path.basename(out)}`);
    throw e instanceof DemocdError ? e : new DemocdError(`mastering ${out} failed: ${(e as Error).message}`, { cause: e });
  }
}
