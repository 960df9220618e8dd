import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { publicConfig, type Config } from "../config/schema.ts";
import { need, type BuildContext } from "../context.ts";
import { writeFile } from "../fsutil.ts";
import { sha256 } from "../hash.ts";
import { xenKernelFile } from "../kernel/vmlinux.ts";
import { renderFile } from "../render/ejs.ts";
import { grubVars, type GrubTarget } from "../render/grub.ts";

/** The medium's id: what /linuxrc looks for in /democd/id. Derived from what the build is made of. */
export function mediaId(ctx: BuildContext): string {
  const c = need(ctx.components, "components");
  const inputs = JSON.stringify({
    config: publicConfig(ctx.config),
    packages: [c.kernel.pkg, c.xen.pkg, c.busybox.pkg, ...c.grow.packages.map((g) => g.pkg), ...c.efi.packages.map((g) => g.pkg)].map((p) => `${p.name}=${p.version}`),
    epoch: ctx.sourceDateEpoch,
    root: ctx.rootSource?.bootstrap,
  });
  return `democd-${ctx.config.version}-${sha256(inputs).slice(0, 16)}`;
}

export function linuxrcVars(ctx: BuildContext): Record<string, unknown> {
  const c = need(ctx.components, "components");
  return {
    version: ctx.config.version,
    mediaId: need(ctx.mediaId, "mediaId"),
    kernelVersion: c.kernel.release,
    mediaTimeout: ctx.config.initrd.mediaTimeout,
    tmpfsSize: ctx.config.initrd.tmpfsSize,
    modules: need(ctx.initrdModules, "initrdModules"),
    guestModules: ctx.initrdGuestModules ?? [],
    rootOnlyModules: ctx.initrdRootOnlyModules ?? [],
  };
}

/**
 * The boot menu for a target (the live medium, a disk, democd-install's kit), from the config
 * and the build's versions: the ISO and the disk images of one build render the same entries.
 */
export function renderGrubCfg(ctx: BuildContext, target: GrubTarget): string {
  return grubCfgFor(ctx.config, need(ctx.bootVersions, "bootVersions"), target, ctx.paths.boot);
}

/** The same from its parts (an unpacked medium's menu is compared with it before the build). */
export function grubCfgFor(config: Config, versions: { kernel: string; xen: string }, target: GrubTarget, bootDir: string): string {
  return renderFile(path.join(config.profileDir, "templates"), "grub.cfg.ejs", grubVars(config, versions.kernel, versions.xen, target, xenKernelFile(bootDir)));
}

/** grub.cfg onto the medium, /linuxrc (and /init) into the initrd tree. */
export function renderBootFiles(ctx: BuildContext): void {
  const templates = path.join(ctx.config.profileDir, "templates");
  ctx.mediaId = mediaId(ctx);
  writeFile(path.join(ctx.paths.boot, "grub", "grub.cfg"), renderGrubCfg(ctx, { kind: "live" }));
  writeFile(path.join(ctx.paths.irtree, "linuxrc"), renderFile(templates, "linuxrc.ejs", linuxrcVars(ctx)), 0o755);
  fs.rmSync(path.join(ctx.paths.irtree, "init"), { force: true });
  fs.symlinkSync("linuxrc", path.join(ctx.paths.irtree, "init"));
}

/** The user's Secure Boot certificate on the medium (/democd), DER, as mokutil --import and MokManager read it. */
export const SECURE_BOOT_DER = "secure-boot.der";

/**
 * /democd/id and /democd/build.json: who made this medium, from what. With the user's Secure Boot
 * key, its certificate beside them (the key itself goes nowhere), and its fingerprint in the manifest.
 */
export function writeManifest(ctx: BuildContext): void {
  const certFile = ctx.config.secureBoot.cert;
  const cert = certFile ? new X509Certificate(fs.readFileSync(certFile)) : undefined;
  const c = need(ctx.components, "components");
  const manifest = {
    democd: 1,
    id: need(ctx.mediaId, "mediaId"),
    version: ctx.config.version,
    builder: ctx.config.builder,
    date: new Date(ctx.sourceDateEpoch * 1000).toISOString(),
    sourceDateEpoch: ctx.sourceDateEpoch,
    kernel: c.kernel.release,
    xen: c.xen.release,
    components: Object.fromEntries(
      (["kernel", "xen", "busybox"] as const).map((k) => [k, { package: c[k].pkg.name, version: c[k].pkg.version, arch: c[k].pkg.arch }]),
    ),
    /** What the initrd grows an installed root with: sfdisk, resize2fs and their libraries' packages. */
    initrdTools: c.grow.packages.map((g) => ({ package: g.pkg.name, version: g.pkg.version, arch: g.pkg.arch })),
    /** The UEFI boot chain, Debian's signed binaries as fetched (shim, MokManager, GRUB) and GRUB's modules. */
    uefi: c.efi.packages.map((g) => ({ package: g.pkg.name, version: g.pkg.version, arch: g.pkg.arch })),
    ...(ctx.rootSource && { root: { ...ctx.rootSource, packages: ctx.rootPackages } }),
    ...(ctx.guests?.length && { guests: ctx.guests }),
    ...(cert && { secureBoot: { xen: "signed with the user's key", certificate: `/democd/${SECURE_BOOT_DER}`, subject: cert.subject, sha256: cert.fingerprint256 } }),
    config: publicConfig(ctx.config),
  };
  writeFile(path.join(ctx.paths.democd, "id"), manifest.id + "\n");
  writeFile(path.join(ctx.paths.democd, "build.json"), JSON.stringify(manifest, null, 2) + "\n");
  const der = path.join(ctx.paths.democd, SECURE_BOOT_DER);
  if (cert) fs.writeFileSync(der, cert.raw);
  else fs.rmSync(der, { force: true });
}
