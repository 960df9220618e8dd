import fs from "node:fs";
import type { Compression, Config } from "./config/schema.ts";
import { buildPaths, derivedEpoch, envSourceDateEpoch, type BuildContext } from "./context.ts";
import { requireTools } from "./exec.ts";
import { Logger } from "./log.ts";
import { assembleIrtree, installBootFiles, installKernelModules, overlayRootpatch } from "./stages/assemble.ts";
import { fetchComponents } from "./stages/fetch.ts";
import { masterIso } from "./stages/master.ts";
import { packInitrd, packRoot, writeManifest } from "./stages/pack.ts";
import { renderBootFiles } from "./stages/render.ts";
import { makeMinimalRoot } from "./stages/root.ts";
import { makeDebianRoot } from "./stages/root-debian.ts";
import { installGuests } from "./xenguest/medium.ts";

/** The external compressor an initrd compression needs (gzip runs in-process). */
export function compressorTools(c: Compression): ("zstd" | "xz" | "lz4")[] {
  return c === "zstd" || c === "xz" || c === "lz4" ? [c] : [];
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export function createContext(config: Config, options: { verbose?: boolean; quiet?: boolean } = {}): BuildContext {
  // Modes of what democd creates must not depend on the caller's umask.
  process.umask(0o022);
  const paths = buildPaths(config.buildDir);
  fs.mkdirSync(paths.build, { recursive: true });
  const log = new Logger({ verbose: options.verbose, quiet: options.quiet, file: paths.log });
  log.record(`\n===== democd build ${new Date().toISOString()} =====`);
  const fromEnv = envSourceDateEpoch();
  return { config, log, paths, sourceDateEpoch: fromEnv ?? 0, epochFromEnv: fromEnv !== undefined };
}

/** The build, as a script of stages over one context. */
export async function build(ctx: BuildContext): Promise<{ iso: string; sha256: string; bytes: number }> {
  const { log } = ctx;
  ctx.components = await log.stage("fetch", async () => {
    await requireTools("apt-cache", "apt-get", "dpkg-deb", "depmod");
    const c = await fetchComponents(ctx);
    if (!ctx.epochFromEnv) ctx.sourceDateEpoch = derivedEpoch([c.kernel.vmlinuz, c.xen.xenGz, c.busybox.binary]);
    return c;
  }, (c) => `linux ${c.kernel.pkg.version}, xen ${c.xen.pkg.version}, busybox ${c.busybox.pkg.version}`);
  await log.stage("root", async () => {
    await requireTools("openssl", "cp");
    if (ctx.config.profile === "minimal") return makeMinimalRoot(ctx);
    await requireTools("mmdebstrap");
    const r = await makeDebianRoot(ctx);
    return `, ${ctx.config.debian.suite} ${r.reused ? "bootstrap reused" : "bootstrapped"} (${ctx.rootPackages?.length} packages)`;
  }, (s) => `profile ${ctx.config.profile}${s ?? ""}`);
  await log.stage("assemble", async () => {
    const patched = overlayRootpatch(ctx);
    const modules = installKernelModules(ctx);
    installBootFiles(ctx);
    const ir = await assembleIrtree(ctx);
    ctx.guests = installGuests(ctx.config.guests, ctx.paths.usr, ctx.sourceDateEpoch);
    const guests = ctx.guests.length ? `, guests ${ctx.guests.map((g) => g.name).join(" ")}` : "";
    return `rootpatch ${patched} files, ${modules} kernel modules on the medium, ${ir.modules} in the initrd${guests}`;
  }, (s) => s);
  await log.stage("render", async () => renderBootFiles(ctx), () => `id ${ctx.mediaId}`);
  await log.stage("pack", async () => {
    await requireTools(...compressorTools(ctx.config.initrd.compression));
    const root = await packRoot(ctx);
    const initrd = await packInitrd(ctx);
    writeManifest(ctx);
    return `root.tar.gz ${mb(root)}, initrd.img ${mb(initrd.bytes)} (${ctx.config.initrd.compression}${initrd.reused ? ", unchanged: reused" : ""})`;
  }, (s) => s);
  const iso = await log.stage("master", async () => {
    await requireTools("xorriso", "grub-mkimage", "mformat", "mmd", "mcopy");
    return masterIso(ctx);
  }, (r) => `${ctx.config.out} ${mb(r.bytes)}`);
  log.info(`stage times: ${log.timingSummary()}`);
  return { iso: ctx.config.out, ...iso };
}
