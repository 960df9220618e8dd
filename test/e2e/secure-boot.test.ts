import { describe, expect, inject, it } from "vitest";
import type { QemuSession } from "../../src/boot/qemu.ts";
import { DPKG_ON_THE_SPOT, DPKG_ON_THE_SPOT_OUT, expectWritableUsr, withLoggedInBoot } from "../helpers/boot.ts";
import { diskOverlay } from "../helpers/disk-overlay.ts";
import { TEST_DEBIAN_PASSWORD } from "../helpers/paths.ts";
import { needTools } from "../helpers/tools.ts";

const debianIso = inject("debianIsoPath");
const minimalIso = inject("isoPath");
const diskBase = inject("diskBase");

/** The firmware started shim, shim started Debian's GRUB, GRUB the signed kernel, with Secure Boot enforced throughout. */
async function expectSecureBoot(s: QemuSession): Promise<void> {
  expect(s.output).toContain("EFI stub: UEFI Secure Boot is enabled.");
  expect(s.output).toMatch(/secureboot: Secure boot enabled/);
  expect(s.output).not.toMatch(/Access Denied|Security Violation|prohibited by secure boot policy/);
  expect(await s.shell("cat /sys/kernel/security/lockdown 2>/dev/null || dmesg | grep -c 'locked down from EFI Secure Boot'")).toMatch(/\[integrity\]|^1$/);
}

describe("Secure Boot (OVMF enforcing it, Microsoft's keys, as PCs ship)", () => {
  it("the default (debian) ISO as a CD: the menu defaults to Linux and it reaches a login, where dpkg -i installs into /usr", async () => {
    await needTools("qemu-system-x86_64");
    // No entry chosen: what a user gets who just waits.
    await withLoggedInBoot(debianIso, "linux", "uefi-secure", async (s) => {
      await expectSecureBoot(s);
      expect(s.output).toMatch(/Xen \/ Linux [^\n]* \(needs Secure Boot off\)/);
      // The bare entry's /usr takes packages as domain 0's does.
      await expectWritableUsr(s);
      expect(await s.shell(DPKG_ON_THE_SPOT, 120)).toBe(DPKG_ON_THE_SPOT_OUT);
      // The web console is domain 0's: bare Linux runs no server.
      expect(await s.shell("pgrep -f democd-web || echo none; ls /run/democd/web 2>&1 | grep -c 'No such'")).toBe("none\n1");
    }, { password: TEST_DEBIAN_PASSWORD, memoryMb: 1536, choose: (s) => s.waitFor(/GNU GRUB/, 120).then(() => undefined) });
  });

  it("the ISO written to a USB stick reaches a login", async () => {
    await needTools("qemu-system-x86_64");
    await withLoggedInBoot(minimalIso, "linux", "uefi-secure", (s) => expectSecureBoot(s), { usb: true });
  });

  it("the qcow2 disk image reaches a login on its ext4 root", async () => {
    await needTools("qemu-system-x86_64", "qemu-img");
    const disk = await diskOverlay(`${diskBase}.qcow2`, "qcow2", "secure");
    await withLoggedInBoot(disk, "linux", "uefi-secure", async (s) => {
      await expectSecureBoot(s);
      expect(await s.shell("awk '$2==\"/\"{print $3}' /proc/mounts")).toBe("ext4");
    });
  });

  it("a Xen entry says what to do instead of failing, and the menu comes back", async () => {
    await needTools("qemu-system-x86_64");
    await withLoggedInBoot(minimalIso, "xen", "uefi-secure", (s) => expectSecureBoot(s), {
      choose: async (s) => {
        await s.selectEntry("xen");
        await s.waitFor("Turn Secure Boot off in the firmware setup to start Xen", 120);
        s.send("\x1b"); // cuts its pause short; the menu comes back, and the bare entry is chosen there
        await s.waitFor(/Use the \^ and v keys/, 120);
        s.send("l");
      },
    });
  });
});
