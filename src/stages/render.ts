import fs from "node:fs";
import path from "node:path";
import { publicConfig } from "../config/load.ts";
import { need, sha256, type BuildContext } from "../context.ts";
import { writeFile } from "../fsutil.ts";
import { renderFile } from "../render/ejs.ts";
import { grubVars } from "../render/grub.ts";
import { xenKernelFile } from "../kernel/vmlinux.ts";

/** The medium's id: what /linuxrc looks for in /democd/id. Derived from what the build is made of. */
export function mediaId(ctx: BuildContext): string {
  const c = need(ctx.components, "components");
  const inputs = JSON.stringify({
    config: publicConfig(ctx.config),
    packages: [c.kernel.pkg, c.xen.pkg, c.busybox.pkg, ...c.grow.packages.map((g) => g.pkg)].map((p) => `${p.name}=${p.version}`),
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

/** grub.cfg onto the medium, /linuxrc (and /init) into the initrd tree. */
export function renderBootFiles(ctx: BuildContext): void {
  const c = need(ctx.components, "components");
  const templates = path.join(ctx.config.profileDir, "templates");
  ctx.mediaId = mediaId(ctx);
  writeFile(path.join(ctx.paths.boot, "grub", "grub.cfg"), renderFile(templates, "grub.cfg.ejs", grubVars(ctx.config, c.kernel.release, c.xen.release, { kind: "live" }, xenKernelFile(ctx.paths.boot))));
  writeFile(path.join(ctx.paths.irtree, "linuxrc"), renderFile(templates, "linuxrc.ejs", linuxrcVars(ctx)), 0o755);
  fs.rmSync(path.join(ctx.paths.irtree, "init"), { force: true });
  fs.symlinkSync("linuxrc", path.join(ctx.paths.irtree, "init"));
}
