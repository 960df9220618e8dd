import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";
import { compressedModules, prunedModules } from "../kernel/compress-modules.ts";
import { aptListsStamp, fetchPackages, kernelImageSpec, resolveAllCached, type PackageSpec } from "../debian/apt.ts";
import type { BuildContext, Components } from "../context.ts";
import type { Component, ResolvedPackage } from "../debian/apt.ts";
import { GROW_PACKAGES, growProgramFiles } from "../grow.ts";
import { EFI_PACKAGES, grubSourceVersion, signedEfiFrom } from "../efi/signed.ts";
import { guestKernel } from "../kernel/vmlinux.ts";
import { packagesEpoch } from "../epoch.ts";

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
    await run("depmod", ["-b", dir, release], { log: ctx.log, background: true });
  }
}

const keyed = (prefix: string, p: PackageSpec) => ({ ...p, key: `${prefix}${p.name}=${p.version ?? ""}` });

/** The kernel, hypervisor and busybox files a medium boots, found in their unpacked packages. */
function bootFiles(k: Component, x: Component, b: Component) {
  const release = kernelRelease(k.dir);
  const vmlinuz = path.join(k.dir, "boot", `vmlinuz-${release}`);
  if (!fs.existsSync(vmlinuz)) throw new DemocdError(`${k.pkg.name} has no /boot/vmlinuz-${release}`, { hint: "choose a linux-image package" });
  const xenGz = fs.readdirSync(path.join(x.dir, "boot")).find((f) => /^xen-.*\.gz$/.test(f));
  if (!xenGz) throw new DemocdError(`${x.pkg.name} has no /boot/xen-*.gz`, { hint: "choose a xen-hypervisor-* package" });
  const xenEfi = fs.readdirSync(path.join(x.dir, "boot")).find((f) => /^xen-.*\.efi$/.test(f));
  const binary = path.join(b.dir, "bin", "busybox");
  if (!fs.existsSync(binary)) throw new DemocdError(`${b.pkg.name} has no /bin/busybox`, { hint: "use busybox-static" });
  return { release, vmlinuz, xenGz: path.join(x.dir, "boot", xenGz), xenEfi: xenEfi && path.join(x.dir, "boot", xenEfi), busybox: binary };
}

/** What is known once the kernel, hypervisor and busybox are downloaded, before the rest of fetch is done. */
export interface BootInputs {
  xen: ResolvedPackage;
  /** The build's date as those packages give it (packagesEpoch), used when SOURCE_DATE_EPOCH is not set. */
  epoch: number;
}

/**
 * Kernel, hypervisor, busybox, the grow tools and the signed boot chain from Debian's archive,
 * by exact name and version, cached by version. apt is asked twice at most (what the names mean;
 * then the kernel image a metapackage names and the GRUB modules the signed GRUB was built with)
 * and downloads once; the kernel's modules are compressed while its guest kernel is made.
 * `early` is told as soon as the kernel, hypervisor and busybox are downloaded: the debian
 * profile's bootstrap starts then, beside the rest of fetch.
 */
export async function fetchComponents(ctx: BuildContext, early?: (inputs: BootInputs) => void): Promise<Components> {
  const { packages } = ctx.config;
  const cache = ctx.paths.cache;
  const log = ctx.log;
  const stamp = aptListsStamp();
  const first = [
    keyed("named-kernel:", packages.kernel), keyed("", packages.xen), keyed("", packages.busybox),
    ...GROW_PACKAGES.map((name) => keyed("grow:", { name })),
    ...[EFI_PACKAGES.shim, EFI_PACKAGES.helpers, EFI_PACKAGES.grub].map((name) => keyed("efi:", { name })),
  ];
  const [named, xpkg, bpkg, ...rest] = await resolveAllCached(cache, first, stamp, log);
  const growPkgs = rest.slice(0, GROW_PACKAGES.length);
  const [shimPkg, helpersPkg, grubPkg] = rest.slice(GROW_PACKAGES.length);
  const image = kernelImageSpec(named);
  const [modulesPkg, kimage] = await resolveAllCached(cache, [keyed("efi:", { name: EFI_PACKAGES.grubModules, version: grubSourceVersion(grubPkg) }), ...(image ? [keyed("kernel:", image)] : [])], stamp, log);
  const kpkg = kimage ?? named;

  // The kernel, Xen and busybox .debs as each is in the cache; `early` once all three are.
  const bootDebs: (string | undefined)[] = [undefined, undefined, undefined];
  let told = !early;
  const debReady = (i: number) => (deb: string) => {
    bootDebs[i] = deb;
    if (told || bootDebs.some((d) => !d)) return;
    told = true;
    early?.({ xen: xpkg, epoch: packagesEpoch(bootDebs as string[]) });
  };
  const efiPkgs = [shimPkg, helpersPkg, grubPkg, modulesPkg];
  // The kernel first: its modules are compressed and its guest kernel made after it is unpacked.
  const fetched = await fetchPackages(
    [
      { pkg: kpkg, prepare: (dir: string) => prepareKernel(dir, ctx), debReady: debReady(0) },
      { pkg: xpkg, debReady: debReady(1) },
      { pkg: bpkg, debReady: debReady(2) },
      ...[...growPkgs, ...efiPkgs].map((pkg) => ({ pkg })),
    ],
    cache,
    log,
  );
  const [kDir, xDir, bDir, ...others] = fetched;
  const grow: Component[] = growPkgs.map((pkg, i) => ({ pkg, dir: others[i] }));
  const efi = signedEfiFrom(efiPkgs.map((pkg, i) => ({ pkg, dir: others[GROW_PACKAGES.length + i] })));
  const { release, vmlinuz, xenGz, xenEfi, busybox: binary } = bootFiles({ pkg: kpkg, dir: kDir }, { pkg: xpkg, dir: xDir }, { pkg: bpkg, dir: bDir });

  // busybox modprobe (the minimal profile's) cannot read .ko.xz: that profile keeps plain modules.
  // Only the debian profile starts Xen guests (xl create loads this one faster than the bzImage).
  const exclude = ctx.config.modules.exclude;
  const [mediumModulesDir, guest] = await Promise.all([
    ctx.config.profile === "minimal" ? prunedModules(path.join(kDir, "lib", "modules", release), release, exclude, log) : compressedModules(kDir, release, exclude, os.availableParallelism(), log),
    ctx.config.profile === "debian" ? guestKernel(vmlinuz, `${kDir}.guest-vmlinux.gz`, log) : undefined,
  ]);

  return {
    efi,
    grow: { packages: grow, programs: growProgramFiles(grow) },
    kernel: { pkg: kpkg, dir: kDir, release, vmlinuz, modulesDir: path.join(kDir, "lib", "modules", release), mediumModulesDir, guestKernel: guest },
    xen: { pkg: xpkg, dir: xDir, release: xpkg.version.replace(/[+-].*$/, ""), xenGz, xenEfi },
    busybox: { pkg: bpkg, dir: bDir, binary },
  };
}
