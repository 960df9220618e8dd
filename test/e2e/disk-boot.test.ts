import fs from "node:fs";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import type { Firmware } from "../../src/boot/qemu.ts";
import { MOUNTS_CMD, withLoggedInBoot } from "../helpers/boot.ts";
import { diskOverlay } from "../helpers/disk-overlay.ts";
import { needTools } from "../helpers/tools.ts";

const base = inject("diskBase");

type Session = Parameters<Parameters<typeof withLoggedInBoot>[3]>[0];

/** What a user checks on an installed system: / is the disk's ext4, read-write, /usr inside it. */
async function expectInstalledSystem(s: Session, hypervisor: "xen" | "none") {
  expect((await s.shell(MOUNTS_CMD)).trim()).toBe("/ ext4");
  expect(await s.shell("awk '$2==\"/\"{print $1, $4}' /proc/mounts | cut -d, -f1")).toBe("/dev/vda3 rw");
  expect(await s.shell("cat /sys/hypervisor/type 2>/dev/null || echo none")).toBe(hypervisor);
  expect(await s.shell("cat /etc/motd")).toContain("democd 9.9-test");
  expect(s.output).not.toMatch(/: (not found|applet not found)/);
}

const rootKiB = (s: Session) => s.shell("df -k / | awk 'NR==2{print $2}'").then(Number);

describe("booting the disk images in QEMU (TCG, real SeaBIOS and OVMF)", () => {
  it("the qcow2 on SeaBIOS (bare Linux) keeps a file across a power-off, and its root grows after qemu-img resize", async () => {
    await needTools("qemu-system-x86_64", "qemu-img");
    const disk = await diskOverlay(`${base}.qcow2`, "qcow2", "persist");
    const marker = `written-before-poweroff-${Date.now()}`;
    const before = await withLoggedInBoot(disk, "linux", "bios", async (s) => {
      await expectInstalledSystem(s, "none");
      await s.shell(`echo ${marker} > /root/marker && sync && echo ok`);
      const kib = await rootKiB(s);
      s.send("poweroff -f\n");
      return kib;
    });
    await execa("qemu-img", ["resize", "-q", disk, "+512M"]);
    await withLoggedInBoot(disk, "linux", "bios", async (s) => {
      expect(await s.shell("cat /root/marker")).toBe(marker);
      expect(s.output).toMatch(/democd: grew the root \/dev\/vda3 from \d+ MiB to \d+ MiB/);
      expect(await rootKiB(s)).toBeGreaterThan(before + 400 * 1024);
    });
  });

  for (const firmware of ["bios", "uefi"] as Firmware[]) {
    it(`the qcow2's Xen / Linux entry on ${firmware}: dom0 on the disk's ext4 root`, async () => {
      await needTools("qemu-system-x86_64", "qemu-img");
      const disk = await diskOverlay(`${base}.qcow2`, "qcow2", `xen-${firmware}`);
      await withLoggedInBoot(disk, "xen", firmware, async (s) => {
        await expectInstalledSystem(s, "xen");
        expect(await s.shell("cat /proc/cmdline")).toMatch(/console=hvc0 root=UUID=[0-9a-f-]{36} rw/);
      }, { memoryMb: 1536 });
    });
  }

  it("the qcow2's bare Linux entry on OVMF, and the dynamic VHD on SeaBIOS", async () => {
    await needTools("qemu-system-x86_64", "qemu-img");
    await withLoggedInBoot(await diskOverlay(`${base}.qcow2`, "qcow2", "linux-uefi"), "linux", "uefi", (s) => expectInstalledSystem(s, "none"));
    await withLoggedInBoot(await diskOverlay(`${base}.vhd`, "vpc", "vhd"), "linux", "bios", (s) => expectInstalledSystem(s, "none"));
    expect(fs.existsSync(`${base}.vhd`)).toBe(true);
  });
});
