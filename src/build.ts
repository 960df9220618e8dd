import fs from "node:fs";
import path from "node:path";
import type { Compression, Config } from "./config/schema.ts";
import { buildPaths, derivedEpoch, envSourceDateEpoch, type BuildContext } from "./context.ts";
import { requireTools } from "./exec.ts";
import { Logger } from "./log.ts";
import { assembleIrtree, installBootFiles, installKernelModules, overlayRootpatch, refuseHostKeys } from "./stages/assemble.ts";
import { fetchComponents } from "./stages/fetch.ts";
import { masterIso, writeIso } from "./stages/master.ts";
import { assembleUnpacked, copyUnpackedRoot, packUnpacked, unpackedIsoArgs } from "./sources/unpacked.ts";
import { DemocdError } from "./errors.ts";
import { bootstrapMode } from "./debian/bootstrap.ts";
import { checkRootless } from "./debian/rootless.ts";
import { packInitrd, packRoot, writeManifest } from "./stages/pack.ts";
import { renderBootFiles } from "./stages/render.ts";
import { makeMinimalRoot } from "./stages/root.ts";
import { makeDebianRoot } from "./stages/root-debian.ts";
import { stageDisk, writeDiskOutputs } from "./outputs/disk.ts";
import { writeInstallKit } from "./disk/install-kit.ts";
import { installedMotd } from "./stages/motd.ts";
import { OUTPUT_FORMATS, outputPath, type FormatName } from "./outputs/formats.ts";
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

export interface BuildOutput {
  format: FormatName;
  file: string;
  bytes: number;
  sha256: string;
}

/** The build, as a script of stages over one context; its source is a profile's root or an unpacked medium. */
export async function build(ctx: BuildContext): Promise<{ outputs: BuildOutput[]; iso?: string; sha256?: string; bytes?: number }> {
  const { log } = ctx;
  const from = ctx.unpacked;
  await checkWritersServe(ctx);
  // Told before fetching anything: what an ordinary user's bootstrap needs from the host.
  if (!from && ctx.config.profile === "debian" && bootstrapMode() === "unshare") await checkRootless();
  if (!from) {
    ctx.components = await log.stage("fetch", async () => {
      await requireTools("apt-cache", "apt-get", "dpkg-deb", "depmod");
      const c = await fetchComponents(ctx);
      if (!ctx.epochFromEnv) ctx.sourceDateEpoch = derivedEpoch([c.kernel.vmlinuz, c.xen.xenGz, c.busybox.binary]);
      return c;
    }, (c) => `linux ${c.kernel.pkg.version}, xen ${c.xen.pkg.version}, busybox ${c.busybox.pkg.version}`);
    ctx.bootVersions = { kernel: ctx.components.kernel.release, xen: ctx.components.xen.release };
  }
  if (from && from.info.kind !== "democd") {
    if (fs.readdirSync(path.join(from.dir, "rootpatch")).length) log.warn(`${from.dir}/rootpatch is not applied: this medium was not made by democd (edit ${from.dir}/usr instead)`);
  } else {
    await log.stage("root", async () => {
      await requireTools("openssl", "cp");
      if (from) return copyUnpackedRoot(ctx, from).then(() => ` from ${from.dir}`);
      if (ctx.config.profile === "minimal") return makeMinimalRoot(ctx);
      await requireTools("mmdebstrap");
      const r = await makeDebianRoot(ctx);
      return `, ${ctx.config.debian.suite} ${r.reused ? "bootstrap reused" : "bootstrapped"} (${ctx.rootPackages?.length} packages)`;
    }, (s) => (from ? `unpacked medium${s}` : `profile ${ctx.config.profile}${s ?? ""}`));
    await log.stage("assemble", async () => {
      if (from) {
        const patched = assembleUnpacked(ctx, from);
        refuseHostKeys(ctx);
        return `rootpatch ${patched} files`;
      }
      const patched = overlayRootpatch(ctx);
      refuseHostKeys(ctx);
      const modules = installKernelModules(ctx);
      installBootFiles(ctx);
      const ir = await assembleIrtree(ctx);
      ctx.guests = installGuests(ctx.config.guests, ctx.paths.usr, ctx.sourceDateEpoch);
      const guests = ctx.guests.length ? `, guests ${ctx.guests.map((g) => g.name).join(" ")}` : "";
      return `rootpatch ${patched} files, ${modules} kernel modules on the medium, ${ir.modules} in the initrd (+ sfdisk, resize2fs: ${mb(ir.growBytes)})${guests}`;
    }, (s) => s);
    if (!from) await log.stage("render", async () => renderBootFiles(ctx), () => `id ${ctx.mediaId}`);
    await log.stage("pack", async () => {
      if (from) {
        await requireTools(...(from.info.initrd?.segments ?? []).flatMap((s) => compressorTools(s.compression)));
        return `initrd.img ${mb(await packUnpacked(ctx, from))}`;
      }
      await requireTools(...compressorTools(ctx.config.initrd.compression));
      const root = await packRoot(ctx);
      const initrd = await packInitrd(ctx);
      writeManifest(ctx);
      return `root.tar.gz ${mb(root)}, initrd.img ${mb(initrd.bytes)} (${ctx.config.initrd.compression}${initrd.reused ? ", unchanged: reused" : ""})`;
    }, (s) => s);
    // democd-install's kit goes onto the medium once the root and initrd it installs are made.
    if (!from && ctx.config.profile === "debian") {
      await log.stage("installer", async () => {
        await requireTools("grub-mkimage");
        return writeInstallKit(ctx, installedMotd(ctx));
      }, (r) => `democd-install kit; it needs a disk of ${Math.ceil(r.minBytes / 2 ** 20)} MiB or more`);
    }
  }
  const outputs = await writeOutputs(ctx);
  log.info(`stage times: ${log.timingSummary()}`);
  const iso = outputs.find((o) => o.format === "iso");
  return { outputs, ...(iso && { iso: iso.file, sha256: iso.sha256, bytes: iso.bytes }) };
}

/** Every writer checked before any work: its tools, and for disk images a democd system to install. */
async function checkWritersServe(ctx: BuildContext): Promise<void> {
  const disks = ctx.config.formats.filter((f) => OUTPUT_FORMATS[f].disk);
  if (disks.length && ctx.unpacked && ctx.unpacked.info.kind !== "democd") {
    throw new DemocdError(`--format ${disks.join(",")}: ${ctx.unpacked.dir} holds another tool's medium, which only the iso writer can repack`, { hint: "--format iso" });
  }
  if (ctx.config.formats.includes("iso")) await requireTools("xorriso");
  if (disks.length) await requireTools("sfdisk", "grub-mkimage", "mformat", "mmd", "mcopy", "mkfs.ext4", "debugfs", ...(disks.some((f) => f !== "raw") ? ["qemu-img" as const] : []));
}

/** The writers: the ISO from the trees, disk images from one raw disk staged from the same trees. */
export async function writeOutputs(ctx: BuildContext): Promise<BuildOutput[]> {
  const { log } = ctx;
  const formats = ctx.config.formats;
  const outputs: BuildOutput[] = [];
  const disks = formats.filter((f) => OUTPUT_FORMATS[f].disk);
  // Staged first: a disk size too small or a full output directory fails before anything is written.
  const staged = disks.length ? await log.stage("stage-disk", async () => stageDisk(ctx), (s) => `installed-system tree, disk ${Math.ceil(s.layout.size / 1048576)} MiB`) : undefined;
  if (formats.includes("iso")) {
    const file = outputPath(path.resolve(ctx.config.out), "iso");
    const r = await log.stage("master", async () => {
      if (ctx.unpacked) {
        await requireTools("xorriso");
        return writeIso(ctx, unpackedIsoArgs(ctx, ctx.unpacked));
      }
      await requireTools("xorriso", "grub-mkimage", "mformat", "mmd", "mcopy");
      return masterIso(ctx);
    }, (r) => `${path.relative(process.cwd(), file)} ${mb(r.bytes)}`);
    outputs.push({ format: "iso", file, ...r });
  }
  if (staged) outputs.push(...(await writeDiskOutputs(ctx, disks, staged)));
  return outputs;
}
