import fs from "node:fs";
import path from "node:path";
import type { Component, ResolvedPackage } from "../debian/apt.ts";
import { DemocdError } from "../errors.ts";
import { binarySbat, sbatRefusals, shimSbatLevel } from "./sbat.ts";

/** Debian's signed UEFI boot chain, as fetched: every file is used byte for byte as the archive has it. */
export interface SignedEfi {
  packages: Component[];
  /** shim, signed by Microsoft's UEFI CA: the firmware starts it as \EFI\BOOT\BOOTX64.EFI. */
  shim: string;
  /** MokManager, which shim starts to enrol a user's key. */
  mokManager: string;
  /** GRUB signed by Debian for a CD (built-in prefix /boot/grub). */
  grubCd: string;
  /** GRUB signed by Debian for an installed system (it reads \EFI\debian\grub.cfg). */
  grubDisk: string;
  /** GRUB's x86_64-efi modules at exactly the signed GRUB's version (it loads them when Secure Boot is off). */
  modules: string;
}

export const EFI_PACKAGES = { shim: "shim-signed", helpers: "shim-helpers-amd64-signed", grub: "grub-efi-amd64-signed", grubModules: "grub-efi-amd64-bin" } as const;

/** The grub2 source version a signed GRUB was built from (its Built-Using), which names its modules' package version. */
export function grubSourceVersion(pkg: ResolvedPackage): string {
  const m = /\bgrub2 \(= ([^)\s]+)\)/.exec(pkg.builtUsing ?? "");
  if (!m) throw new DemocdError(`${pkg.name} ${pkg.version} does not say which grub2 it was built from (Built-Using)`);
  return m[1];
}

function existing(dir: string, rel: string, pkg: ResolvedPackage): string {
  const f = path.join(dir, rel);
  if (!fs.existsSync(f)) throw new DemocdError(`${pkg.name} ${pkg.version} has no /${rel}`);
  return f;
}

/**
 * The signed boot chain as fetched (shim, its helpers, the signed GRUB, GRUB's modules, in
 * EFI_PACKAGES' order), and the proof that it starts: each signed GRUB's SBAT generations
 * against the revocations the fetched shim carries. A GRUB shim would refuse fails the build
 * here, not a user's boot.
 */
export function signedEfiFrom(packages: Component[]): SignedEfi {
  const [shim, helpers, grub, modules] = packages;
  const efi: SignedEfi = {
    packages,
    shim: existing(shim.dir, "usr/lib/shim/shimx64.efi.signed", shim.pkg),
    mokManager: existing(helpers.dir, "usr/lib/shim/mmx64.efi.signed", helpers.pkg),
    grubCd: existing(grub.dir, "usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed", grub.pkg),
    grubDisk: existing(grub.dir, "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed", grub.pkg),
    modules: existing(modules.dir, "usr/lib/grub/x86_64-efi", modules.pkg),
  };
  checkSbat(efi, shim.pkg, grub.pkg, helpers.pkg);
  return efi;
}

/** Every binary shim starts from the medium against the stricter of the revocation policies the fetched shim carries. */
export function checkSbat(efi: Pick<SignedEfi, "shim" | "grubCd" | "grubDisk" | "mokManager">, shimPkg: ResolvedPackage, grubPkg: ResolvedPackage, helpersPkg: ResolvedPackage): void {
  const { latest } = shimSbatLevel(fs.readFileSync(efi.shim));
  for (const [file, pkg] of [[efi.grubCd, grubPkg], [efi.grubDisk, grubPkg], [efi.mokManager, helpersPkg]] as const) {
    const refused = sbatRefusals(binarySbat(fs.readFileSync(file)), latest);
    if (refused.length) {
      throw new DemocdError(`${pkg.name} ${pkg.version}: shim ${shimPkg.version} refuses its ${path.basename(file)} (SBAT ${refused.join(", ")})`, {
        hint: `apt-get update for a newer ${pkg.name}, or pin one shim starts: apt-cache policy ${pkg.name}`,
      });
    }
  }
}
