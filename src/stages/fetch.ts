import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import { compressedModules, prunedModules } from "../kernel/compress-modules.ts";
import { aptListsStamp, fetchPackage, resolveCached, resolveKernelPackage, resolvePackage } from "../debian/apt.ts";
import type { BuildContext, Components } from "../context.ts";
import type { Component } from "../debian/apt.ts";
import { GROW_PACKAGES, growProgramFiles } from "../grow.ts";
import { fetchSignedEfi } from "../efi/signed.ts";
import { guestKernel } from "../kernel/vmlinux.ts";

/** The one kernel release an unpacked linux-image package holds. */
export function kernelRelease(pkgDir: string): string {
  const modules = path.join(pkgDir, "lib", "modules");
  const releases = fs.existsSync(modules) ? fs.readdirSync(modules) : [];
  if (releases.length !== 1) throw new DemocdError(`expected one kernel release under ${modules}, found ${releases.length}`);
  return releases[0];
}

/** Debian's kernel package ships no modules.dep: make it before the tree is cached. */
async function prepareKernel(dir: string, ctx: BuildContext): Promise<void> {
  const release = kernelRelease(dir);
  if (!fs.existsSync(path.join(dir, "lib", "modules", release, "modules.dep"))) {
    await run("depmod", ["-b", dir, release], { log: ctx.log });
  }
}

/** Kernel, hypervisor and busybox from Debian's archive, by exact name and version, cached by version. */
export async function fetchComponents(ctx: BuildContext): Promise<Components> {
  const { packages } = ctx.config;
  const cache = ctx.paths.cache;
  const log = ctx.log;
  const key = (p: { name: string; version?: string }) => `${p.name}=${p.version ?? ""}`;
  const stamp = aptListsStamp();
  // One after another: they share the cache file.
  const kpkg = await resolveCached(cache, `kernel:${key(packages.kernel)}`, () => resolveKernelPackage(packages.kernel.name, packages.kernel.version, log), stamp);
  const xpkg = await resolveCached(cache, key(packages.xen), () => resolvePackage(packages.xen.name, packages.xen.version, log), stamp);
  const bpkg = await resolveCached(cache, key(packages.busybox), () => resolvePackage(packages.busybox.name, packages.busybox.version, log), stamp);

  const k = await fetchPackage(kpkg, cache, { log, prepare: (dir) => prepareKernel(dir, ctx) });
  const release = kernelRelease(k.dir);
  const vmlinuz = path.join(k.dir, "boot", `vmlinuz-${release}`);
  if (!fs.existsSync(vmlinuz)) throw new DemocdError(`${kpkg.name} has no /boot/vmlinuz-${release}`, { hint: "choose a linux-image package" });

  // busybox modprobe (the minimal profile's) cannot read .ko.xz: that profile keeps plain modules.
  const modules = ctx.config.profile === "minimal" ? path.join(k.dir, "lib", "modules", release) : await compressedModules(k.dir, release, os.availableParallelism(), log);
  const mediumModulesDir = await prunedModules(modules, release, ctx.config.modules.exclude, log);
  // Only the debian profile starts Xen guests (xl create loads this one faster than the bzImage).
  const guest = ctx.config.profile === "debian" ? await guestKernel(vmlinuz, `${k.dir}.guest-vmlinux.gz`, log) : undefined;

  const x = await fetchPackage(xpkg, cache, { log });
  const xenGz = fs.readdirSync(path.join(x.dir, "boot")).find((f) => /^xen-.*\.gz$/.test(f));
  if (!xenGz) throw new DemocdError(`${xpkg.name} has no /boot/xen-*.gz`, { hint: "choose a xen-hypervisor-* package" });
  const xenEfi = fs.readdirSync(path.join(x.dir, "boot")).find((f) => /^xen-.*\.efi$/.test(f));

  const b = await fetchPackage(bpkg, cache, { log });
  const binary = path.join(b.dir, "bin", "busybox");
  if (!fs.existsSync(binary)) throw new DemocdError(`${bpkg.name} has no /bin/busybox`, { hint: "use busybox-static" });

  // sfdisk, resize2fs and their libraries, at the versions apt resolves now (cached like the rest).
  const grow: Component[] = [];
  for (const name of GROW_PACKAGES) {
    const pkg = await resolveCached(cache, `grow:${name}`, () => resolvePackage(name, undefined, log), stamp);
    grow.push({ pkg, dir: (await fetchPackage(pkg, cache, { log })).dir });
  }

  const efi = await fetchSignedEfi(cache, log);

  return {
    efi,
    grow: { packages: grow, programs: growProgramFiles(grow) },
    kernel: { pkg: kpkg, dir: k.dir, release, vmlinuz, modulesDir: path.join(k.dir, "lib", "modules", release), mediumModulesDir, guestKernel: guest },
    xen: { pkg: xpkg, dir: x.dir, release: xpkg.version.replace(/[+-].*$/, ""), xenGz: path.join(x.dir, "boot", xenGz), xenEfi: xenEfi && path.join(x.dir, "boot", xenEfi) },
    busybox: { pkg: bpkg, dir: b.dir, binary },
  };
}
