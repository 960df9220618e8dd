import { describe, expect, it } from "vitest";
import { BIOS_MODULES, EFI_MODULES, efiImageKiB, grubMkimageArgs } from "../../../src/iso/grub-images.ts";
import { isoDate, volumeId, xorrisoArgs } from "../../../src/iso/xorriso.ts";

describe("xorriso arguments", () => {
  const base = { out: "/o/x.iso.tmp", volid: "DEMOCD_1_0", epoch: 1_700_000_000, grafts: [{ iso: "/", host: "/b/usr" }, { iso: "/boot", host: "/b/work/boot" }] };

  it("is one mkisofs-emulation call that maps trees in place, with pinned dates", () => {
    const a = xorrisoArgs(base);
    expect(a.slice(0, 2)).toEqual(["-as", "mkisofs"]);
    expect(a).toContain("-graft-points");
    expect(a.slice(-2)).toEqual(["/=/b/usr", "/boot=/b/work/boot"]);
    expect(a).toContain("--modification-date=2023111422132000");
    expect(a[a.indexOf("--set_all_file_dates") + 1]).toBe("=1700000000");
    expect(a).not.toContain("-b");
  });

  it("adds each boot mode's own arguments", () => {
    const a = xorrisoArgs({ ...base, bios: { eltorito: "/c/eltorito.img", mbr: "/usr/lib/grub/i386-pc/boot_hybrid.img" }, efi: { image: "/c/efi.img" } });
    const joined = a.join(" ");
    expect(joined).toContain("-b boot/grub/eltorito.img -no-emul-boot -boot-load-size 4 -boot-info-table --grub2-boot-info --grub2-mbr /usr/lib/grub/i386-pc/boot_hybrid.img");
    expect(joined).toContain("--efi-boot boot/grub/efi.img -efi-boot-part --efi-boot-image");
    expect(a).toContain("--protective-msdos-label");
    expect(a).toContain("/boot/grub/eltorito.img=/c/eltorito.img");
    expect(a).toContain("/boot/grub/efi.img=/c/efi.img");
  });

  it("escapes = in graft paths", () => {
    expect(xorrisoArgs({ ...base, grafts: [{ iso: "/a=b", host: "/h/a=b" }] }).at(-1)).toBe("/a\\=b=/h/a\\=b");
  });

  it("makes valid volume ids and dates", () => {
    expect(volumeId("1.0")).toBe("DEMOCD_1_0");
    expect(volumeId("2.0-rc1+x")).toBe("DEMOCD_2_0_RC1_X");
    expect(volumeId("9".repeat(40))).toHaveLength(32);
    expect(isoDate(0)).toBe("1970010100000000");
  });
});

describe("grub-mkimage arguments", () => {
  it("builds the BIOS El Torito core and the UEFI binary from the platform directories", () => {
    expect(grubMkimageArgs("i386-pc-eltorito", "/t/core.img", "/t/early.cfg", BIOS_MODULES)).toEqual([
      "--directory", "/usr/lib/grub/i386-pc", "--format", "i386-pc-eltorito", "--prefix", "/boot/grub", "--config", "/t/early.cfg", "--output", "/t/core.img", ...BIOS_MODULES,
    ]);
    const efi = grubMkimageArgs("x86_64-efi", "/t/BOOTX64.EFI", "/t/early.cfg", EFI_MODULES);
    expect(efi.slice(0, 2)).toEqual(["--directory", "/usr/lib/grub/x86_64-efi"]);
    for (const m of ["iso9660", "multiboot2", "linux", "serial", "search_fs_file"]) expect(efi).toContain(m);
    expect(BIOS_MODULES).toContain("biosdisk");
  });

  it("sizes the EFI FAT image to hold the binary", () => {
    expect(efiImageKiB(3_000_000)).toBeGreaterThanOrEqual(Math.ceil(3_000_000 / 1024) + 64);
    expect(efiImageKiB(3_000_000) % 1024).toBe(0);
  });
});
