import { describe, expect, it } from "vitest";
import { espDirectories } from "../../../src/disk/esp.ts";
import { CD_STUB_CFG, cdEspFiles, diskEspFiles, diskStubCfg } from "../../../src/efi/esp-files.ts";

const efi = { packages: [], shim: "/c/shimx64.efi.signed", mokManager: "/c/mmx64.efi.signed", grubCd: "/c/gcdx64.efi.signed", grubDisk: "/c/grubx64.efi.signed", modules: "/c/x86_64-efi" };

describe("the ESP's files", () => {
  it("the medium: shim as BOOTX64.EFI, the CD's signed GRUB and MokManager beside it, a stub that finds the medium by its id", () => {
    expect(cdEspFiles(efi)).toEqual([
      { path: "EFI/BOOT/BOOTX64.EFI", from: "/c/shimx64.efi.signed" },
      { path: "EFI/BOOT/grubx64.efi", from: "/c/gcdx64.efi.signed" },
      { path: "EFI/BOOT/mmx64.efi", from: "/c/mmx64.efi.signed" },
      { path: "boot/grub/grub.cfg", text: CD_STUB_CFG },
    ]);
    expect(CD_STUB_CFG).toMatchInlineSnapshot(`
      "search --no-floppy --set=root --file /democd/id
      set prefix=($root)/boot/grub
      configfile $prefix/grub.cfg
      "
    `);
  });

  it("a disk: the installed system's signed GRUB and \\EFI\\debian\\grub.cfg finding the root by its UUID", () => {
    const files = diskEspFiles(efi, "0f7c6f0e-1d2b-4c3a-9e8f-112233445566");
    expect(files.map((f) => f.path)).toEqual(["EFI/BOOT/BOOTX64.EFI", "EFI/BOOT/grubx64.efi", "EFI/BOOT/mmx64.efi", "EFI/debian/grub.cfg"]);
    expect(files[1].from).toBe("/c/grubx64.efi.signed");
    expect(files[3].text).toBe(diskStubCfg("0f7c6f0e-1d2b-4c3a-9e8f-112233445566"));
    expect(files[3].text).toContain("search --no-floppy --set=root --fs-uuid 0f7c6f0e-1d2b-4c3a-9e8f-112233445566\n");
  });

  it("never shim's fallback: beside shim in \\EFI\\BOOT it would run instead of GRUB", () => {
    for (const f of [...cdEspFiles(efi), ...diskEspFiles(efi, "u")]) expect(f.path.toLowerCase()).not.toMatch(/fbx64/);
  });

  it("makes parents before children", () => {
    expect(espDirectories(cdEspFiles(efi))).toEqual(["EFI", "boot", "EFI/BOOT", "boot/grub"]);
    expect(espDirectories(diskEspFiles(efi, "u"))).toEqual(["EFI", "EFI/BOOT", "EFI/debian"]);
  });
});
