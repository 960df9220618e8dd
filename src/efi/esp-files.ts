import { diskEarlyConfig } from "../disk/grub.ts";
import type { EspFile } from "../disk/esp.ts";
import { EARLY_CONFIG } from "../iso/grub-images.ts";
import type { SignedEfi } from "./signed.ts";

/**
 * Xen signed with the user's key, on the ESP: Xen 4.17's EFI loader opens the file system it was
 * started from even when everything it needs is inside it, and the firmware reads FAT, not ISO
 * 9660. Its certificate beside it, for MokManager's "Enroll key from disk" (FAT only too).
 */
export const ESP_USER_XEN = "EFI/democd/xen.efi";
export const ESP_CERT = "EFI/democd/secure-boot.der";

/**
 * Read by the CD's signed GRUB (its built-in prefix is /boot/grub on the device it started
 * from: the ESP image): find the medium by its id wherever it is (a CD, or the ISO written
 * to a USB stick) and show its menu.
 */
export const CD_STUB_CFG = `${EARLY_CONFIG}configfile $prefix/grub.cfg\n`;

/** Read by an installed system's signed GRUB (built-in prefix /EFI/debian on the ESP): the root by its UUID, then its menu. */
export function diskStubCfg(rootUuid: string): string {
  return `${diskEarlyConfig(rootUuid)}configfile $prefix/grub.cfg\n`;
}

/**
 * shim where the firmware looks (\EFI\BOOT\BOOTX64.EFI), the signed GRUB and MokManager beside
 * it, where shim looks for them. Never shim's fallback (fbx64.efi): beside shim in \EFI\BOOT it
 * would run instead of GRUB.
 */
function chain(efi: SignedEfi, grub: string): EspFile[] {
  return [
    { path: "EFI/BOOT/BOOTX64.EFI", from: efi.shim },
    { path: "EFI/BOOT/grubx64.efi", from: grub },
    { path: "EFI/BOOT/mmx64.efi", from: efi.mokManager },
  ];
}

/** The live medium's ESP image (El Torito for a CD, the appended partition for a USB stick). */
export function cdEspFiles(efi: SignedEfi, user?: { xen: string; cert: string }): EspFile[] {
  const signed = user ? [{ path: ESP_USER_XEN, from: user.xen }, { path: ESP_CERT, from: user.cert }] : [];
  return [...chain(efi, efi.grubCd), { path: "boot/grub/grub.cfg", text: CD_STUB_CFG }, ...signed];
}

/** An installed system's ESP (disk images, democd-install). */
export function diskEspFiles(efi: SignedEfi, rootUuid: string): EspFile[] {
  return [...chain(efi, efi.grubDisk), { path: "EFI/debian/grub.cfg", text: diskStubCfg(rootUuid) }];
}
