import path from "node:path";
import type { BuildContext } from "../context.ts";
import { isoSizeShortfall, notEnoughSpace } from "../diskspace.ts";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import { xorrisoArgs, type Graft } from "../iso/xorriso.ts";
import { zisofsTree } from "../iso/zisofs-tree.ts";
import { writeAtomically, type WrittenOutput } from "./atomic.ts";
import { outputPath } from "./formats.ts";

/**
 * The iso writer: one xorriso call over the source's layout (trees mapped in place, its boot
 * records), written atomically and hashed while xorriso writes.
 */
export async function writeIso(ctx: BuildContext): Promise<WrittenOutput> {
  const out = outputPath(path.resolve(ctx.config.out), "iso");
  const layout = await ctx.source.isoLayout(ctx);
  const grafts = await Promise.all(layout.grafts.map((g) => (g.zisofs ? compressedGraft(ctx, g) : g)));
  try {
    return await writeAtomically(out, async (tmp) => {
      await run("xorriso", xorrisoArgs({ ...layout, grafts, out: tmp, epoch: ctx.sourceDateEpoch }), {
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

/** A graft whose files go onto the medium zisofs-compressed: the tree as a view of links into the compressed cache. */
async function compressedGraft(ctx: BuildContext, g: Graft): Promise<Graft> {
  const view = path.join(ctx.paths.work, "zisofs", g.iso === "/" ? "root" : g.iso.replace(/\//g, "_"));
  const s = await zisofsTree(g.host, view, ctx.paths.cache, new Set(g.zisofs?.plain), ctx.log);
  ctx.log.record(`zisofs ${g.iso}: ${s.compressed} of ${s.files} files compressed (${s.made} now), ${s.keptPlain} kept plain as the boot reads them, ${(s.plainBytes / 1e6).toFixed(1)} -> ${(s.zisofsBytes / 1e6).toFixed(1)} MB`);
  return { ...g, host: view };
}
