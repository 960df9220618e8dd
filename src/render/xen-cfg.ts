import type { MenuEntry } from "./grub.ts";

/**
 * xen.cfg for Xen's EFI loader: a section per Xen menu entry, named by its id (GRUB passes the
 * id when it chainloads xen.efi), each with Xen's options, domain 0's kernel with its command
 * line, and the initrd. In a unified Xen image (src/efi/user-key.ts) the kernel and initrd are
 * sections of xen.efi, covered by its signature, and their file names here are unused.
 */
export function xenCfg(entries: readonly MenuEntry[], kernel = "vmlinuz", ramdisk = "initrd.img"): string {
  const xen = entries.filter((e) => e.xen !== undefined);
  if (!xen.length) throw new Error("no Xen entry to write a xen.cfg for");
  const sections = xen.map((e) => `[${e.id}]\noptions=${e.xen}\nkernel=${kernel} ${e.linux}\nramdisk=${ramdisk}\n`);
  return `[global]\ndefault=${xen[0].id}\n\n${sections.join("\n")}`;
}
