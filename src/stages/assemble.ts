import fs from "node:fs";
import path from "node:path";
import { busyboxApplets, installBusybox } from "../busybox.ts";
import { need, type BuildContext } from "../context.ts";
import { DemocdError } from "../errors.ts";
import { freshDir, linkAsCopy, mirrorTree } from "../fsutil.ts";
import { installGrowTools } from "../grow.ts";
import { LIVE_MODULES, MEDIA_MODULES, NET_MODULES, ROOTFS_MODULES, XEN_GUEST_MODULES, moduleClosure, parseModulesBuiltin, parseModulesDep, renderModulesDep } from "../kernel/modules.ts";
import { overlayTree } from "../overlay.ts";
import { findHostKeys } from "../ssh/root.ts";
import { GZIP_KERNEL } from "../kernel/vmlinux.ts";
import { installGuests } from "../xenguest/medium.ts";

/**
 * The assemble stage, for every source: its rootpatch/ over the root, no ssh host key on the
 * medium, its kernel, hypervisor and initrd tree, and the xenguest images onto the medium.
 */
export async function assemble(ctx: BuildContext): Promise<string> {
  const patched = overlayTree(ctx.source.rootpatch, ctx.paths.root, { label: path.relative(process.cwd(), ctx.source.rootpatch) || ctx.source.rootpatch });
  refuseHostKeys(ctx);
  const boot = await ctx.source.boot(ctx);
  ctx.guests = installGuests(ctx.config.guests, ctx.paths.usr, ctx.sourceDateEpoch);
  const guests = ctx.guests.length ? `, guests ${ctx.guests.map((g) => g.name).join(" ")}` : "";
  return `rootpatch ${patched} files${boot}${guests}`;
}

/** No ssh host private key goes onto a medium (a rootpatch/ or an unpacked tree could bring one). */
export function refuseHostKeys(ctx: BuildContext): void {
  const found = findHostKeys(ctx.paths.root, ctx.paths.usr);
  if (found.length) {
    throw new DemocdError(`${found.join(", ")}: an ssh host private key would be on the medium, readable by anyone who has it`, {
      hint: "remove it from rootpatch/ (or the unpacked tree): each democd boot makes its own host keys",
    });
  }
}

/** Where the medium's kernel modules sit in the usr tree: filled by installKernelModules, left alone by the root stage. */
export function mediumModulesPath(ctx: BuildContext): string {
  return `lib/modules/${need(ctx.components, "components").kernel.release}`;
}

/**
 * The full module tree, xz-compressed, on the medium (/usr/lib/modules), hard-linked from
 * the cache; a warm rebuild finds the links in place and keeps them.
 */
export function installKernelModules(ctx: BuildContext): number {
  const k = need(ctx.components, "components").kernel;
  return mirrorTree(k.mediumModulesDir, path.join(ctx.paths.usr, mediumModulesPath(ctx)));
}

/**
 * The initrd tree: the profile's irtree/, busybox, sfdisk and resize2fs with their libraries
 * (to grow an installed root), and the module closure that finds the medium or the root disk.
 */
export async function assembleIrtree(ctx: BuildContext): Promise<{ modules: number; growBytes: number }> {
  const c = need(ctx.components, "components");
  const ir = ctx.paths.irtree;
  freshDir(ir);
  for (const d of ["dev", "proc", "sys", "newroot", "media", "etc", "tmp"]) fs.mkdirSync(path.join(ir, d), { recursive: true });
  overlayTree(path.join(ctx.config.profileDir, "irtree"), ir, { label: "irtree" });
  installBusybox(c.busybox.binary, await busyboxApplets(c.busybox.binary, ctx.log), ir, false);
  const grow = installGrowTools(c.grow, ir);

  const kdir = c.kernel.modulesDir;
  const modules = parseModulesDep(fs.readFileSync(path.join(kdir, "modules.dep"), "utf8"));
  const builtinFile = path.join(kdir, "modules.builtin");
  const builtin = parseModulesBuiltin(fs.existsSync(builtinFile) ? fs.readFileSync(builtinFile, "utf8") : "");
  const closure = moduleClosure(modules, builtin, [...MEDIA_MODULES, ...LIVE_MODULES, ...ROOTFS_MODULES, ...NET_MODULES, ...ctx.config.initrd.extraModules]);
  const missingExtras = closure.missing.filter((m) => ctx.config.initrd.extraModules.some((e) => e.replace(/-/g, "_") === m));
  if (missingExtras.length) {
    throw new DemocdError(`initrd.extraModules: kernel ${c.kernel.release} has no module ${missingExtras.join(", ")}`, { hint: "check the name with modinfo, or drop it" });
  }
  if (closure.missing.length) ctx.log.warn(`kernel ${c.kernel.release} lacks ${closure.missing.join(", ")}; the initrd goes without`);

  const irModules = path.join(ir, "lib", "modules", c.kernel.release);
  for (const m of closure.load) {
    fs.mkdirSync(path.dirname(path.join(irModules, m.path)), { recursive: true });
    fs.copyFileSync(path.join(kdir, m.path), path.join(irModules, m.path));
  }
  fs.writeFileSync(path.join(irModules, "modules.dep"), renderModulesDep(closure.load));
  ctx.initrdModules = closure.load.map((m) => m.path);
  ctx.initrdGuestModules = moduleClosure(modules, builtin, XEN_GUEST_MODULES).load.map((m) => m.path);
  const live = new Set(moduleClosure(modules, builtin, [...MEDIA_MODULES, ...LIVE_MODULES, ...NET_MODULES, ...ctx.config.initrd.extraModules]).load.map((m) => m.path));
  ctx.initrdRootOnlyModules = moduleClosure(modules, builtin, ROOTFS_MODULES).load.map((m) => m.path).filter((p) => !live.has(p));
  return { modules: closure.load.length, growBytes: grow.bytes };
}

/** Kernel (and the demo guests' vmlinux.gz) and hypervisor into the medium's /boot. */
export function installBootFiles(ctx: BuildContext): void {
  const c = need(ctx.components, "components");
  freshDir(ctx.paths.work);
  fs.mkdirSync(path.join(ctx.paths.boot, "grub"), { recursive: true });
  fs.mkdirSync(ctx.paths.democd, { recursive: true });
  // Hard links into the cache: 20 MB less to write (and sync) at every build.
  linkAsCopy(c.kernel.vmlinuz, path.join(ctx.paths.boot, "vmlinuz"));
  if (c.kernel.guestKernel) linkAsCopy(c.kernel.guestKernel, path.join(ctx.paths.boot, GZIP_KERNEL));
  linkAsCopy(c.xen.xenGz, path.join(ctx.paths.boot, "xen.gz"));
}
