import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { mbrBootCode, placedCoreImage } from "../../../src/disk/bios-boot.ts";

describe("GRUB's BIOS boot code placed by hand", () => {
  const bootImg = Buffer.alloc(512, 0xaa);

  it("aims boot.img at core.img's first sector and NOPs the drive check, in the MBR's 440 code bytes", () => {
    const code = mbrBootCode(bootImg, 2048);
    expect(code.length).toBe(440);
    expect(code.readBigUInt64LE(0x5c)).toBe(2048n);
    expect([code[0x66], code[0x67]]).toEqual([0x90, 0x90]);
    expect(code[0]).toBe(0xaa);
  });

  it("points core.img's blocklist at the rest of itself", () => {
    const core = placedCoreImage(Buffer.alloc(512 * 3 + 100, 1), 2048, 1 << 20);
    expect(core.length).toBe(512 * 4);
    expect(core.readBigUInt64LE(500)).toBe(2049n);
    expect(core.readUInt16LE(508)).toBe(3);
  });

  it("refuses a core image larger than the BIOS boot partition", () => {
    expect(() => placedCoreImage(Buffer.alloc(2 << 20), 2048, 1 << 20)).toThrow(/does not fit/);
  });

  it("matches the layout of the installed GRUB's boot.img and diskboot.img", () => {
    const real = "/usr/lib/grub/i386-pc/diskboot.img";
    if (!fs.existsSync(real)) return expect.fail(`${real} missing (apt-get install grub-pc-bin)`);
    // The segment word the blocklist keeps (0x820) sits right after the fields democd sets.
    expect(fs.readFileSync(real).readUInt16LE(510)).toBe(0x820);
  });
});
