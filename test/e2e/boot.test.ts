import { describe, expect, inject, it } from "vitest";
import type { Firmware } from "../../src/boot/qemu.ts";
import { LIVE_MOUNTS, MOUNTS_CMD, expectWritableUsr, withLoggedInBoot } from "../helpers/boot.ts";
import { needTools } from "../helpers/tools.ts";

const iso = inject("isoPath");

/** What a user checks after logging in: RAM root, the medium under /usr's RAM layer, the hypervisor. */
async function expectLiveSystem(s: Parameters<Parameters<typeof withLoggedInBoot>[3]>[0], hypervisor: "xen" | "none") {
  const mounts = await s.shell(MOUNTS_CMD);
  expect(mounts.split("\n").map((l) => l.trim())).toEqual(expect.arrayContaining(LIVE_MOUNTS));
  expect(await s.shell("cat /sys/hypervisor/type 2>/dev/null || echo none")).toBe(hypervisor);
  expect(await s.shell("cat /etc/motd")).toContain("democd 9.9-test, built by democd-tests");
  // Nothing the boot scripts call is missing from busybox.
  expect(s.output).not.toMatch(/: (not found|applet not found)/);
  // The root really is writable RAM, and so is /usr above the read-only medium.
  expect(await s.shell("touch /root/x && echo ok")).toBe("ok");
  await expectWritableUsr(s);
  expect(await s.shell("touch /run/democd/medium/x 2>/dev/null && echo writable || echo read-only")).toBe("read-only");
  // busybox modprobe loads the medium's modules.
  expect(await s.shell("modprobe dummy && grep -c '^dummy ' /proc/modules")).toBe("1");
}

describe("booting the ISO in QEMU (TCG, real SeaBIOS and OVMF)", () => {
  for (const firmware of ["bios", "uefi"] as Firmware[]) {
    it(`Xen / Linux on ${firmware}: logs in as dom0 with a tmpfs root and a writable /usr over the medium`, async () => {
      await needTools("qemu-system-x86_64");
      await withLoggedInBoot(iso, "xen", firmware, async (s) => {
        await expectLiveSystem(s, "xen");
        expect(await s.shell("cat /proc/cmdline")).toContain("console=hvc0");
      }, { memoryMb: 1536 });
    });

    it(`Linux (no hypervisor) on ${firmware}: logs in with a tmpfs root and a writable /usr over the medium`, async () => {
      await needTools("qemu-system-x86_64");
      await withLoggedInBoot(iso, "linux", firmware, (s) => expectLiveSystem(s, "none"));
    });
  }

  it("Xen safe mode boots with one CPU and Xen's verbose options", async () => {
    await needTools("qemu-system-x86_64");
    await withLoggedInBoot(iso, "xen-safe", "bios", async (s) => {
      await expectLiveSystem(s, "xen");
      expect(await s.shell("grep -c ^processor /proc/cpuinfo")).toBe("1");
      expect(s.output).toMatch(/\(XEN\) Command line: .*nosmp .*sync_console noreboot/);
    }, { memoryMb: 1536 });
  });

  it("the command-line IP entry passes ip= to Linux and /linuxrc configures the interface", async () => {
    await needTools("qemu-system-x86_64");
    await withLoggedInBoot(iso, "xen-ip", "bios", async (s) => {
      expect(await s.shell("cat /proc/cmdline")).toContain("ip=169.254.0.1::169.254.0.254:255.255.255.0:democd:eth0:off");
      expect(await s.shell("ip -o addr show dev eth0")).toMatch(/inet 169\.254\.0\.1\/24/);
      expect(await s.shell("ip route")).toMatch(/default via 169\.254\.0\.254 dev eth0/);
      expect(await s.shell("hostname")).toBe("democd");
    }, { memoryMb: 1536 });
  });

  it("boots as a USB stick (the hybrid image's MBR) on BIOS", async () => {
    await needTools("qemu-system-x86_64");
    await withLoggedInBoot(iso, "linux", "bios", async (s) => {
      await expectLiveSystem(s, "none");
      expect(s.output).toMatch(/democd: found the medium on \/dev\/sd/);
    }, { usb: true });
  });
});
