import path from "node:path";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import type { QemuSession } from "../../src/boot/qemu.ts";
import { LIVE_MOUNTS, LOGIN_TIMEOUT_S, MOUNTS_CMD, withLoggedInBoot } from "../helpers/boot.ts";
import { TEST_DEBIAN_PASSWORD } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";
import { needTools } from "../helpers/tools.ts";

const iso = inject("debianIsoPath");
const disk = inject("debianDiskPath");

/** Wait for a guest's login prompt in its console log, from domain 0's shell; returns the log's tail. */
async function waitForGuestLogin(s: QemuSession, name: string, label: string): Promise<string> {
  const started = s.elapsed();
  const log = `/var/log/xen/console/guest-${name}.log`;
  const deadline = Date.now() + LOGIN_TIMEOUT_S * 2 * 1000;
  let console = "";
  while (Date.now() < deadline) {
    console = await s.shell(`cat ${log} 2>/dev/null | tr -d '\\r' | tail -c 6000`, 60);
    if (/login: *$/m.test(console)) break;
    await new Promise((r) => setTimeout(r, 5000));
  }
  process.stderr.write(`  ${label}: login prompt ${(s.elapsed() - started).toFixed(0)}s after xl create\n`);
  expect(console, `${label} console:\n${console}`).toMatch(/login: *$/m);
  return await s.shell(`tr -d '\\r' < ${log} | grep -a -E 'Booting (paravirtualized )?kernel|root=UUID|login:' | head -8`, 60);
}

describe("the debian profile's disk image as a Xen PV and PVH guest, and a PVH demo guest, under the demo CD's domain 0", () => {
  it("xl create /etc/xen/disk-guest.cfg disk=/dev/vda boots it through pvgrub2 to its login on its own ext4 root; disk-guest-pvh.cfg as PVH; demo.cfg type=pvh", async () => {
    await needTools("qemu-system-x86_64", "qemu-img");
    // A writable overlay: the built image stays as it is.
    const overlay = path.join(tempDir("disk-guest"), "guest.qcow2");
    await execa("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", disk, overlay]);
    await withLoggedInBoot(iso, "xen", "bios", async (s) => {
      // Domain 0 runs off the CD (the disk is only the guest's), though the disk is bootable too.
      expect((await s.shell(MOUNTS_CMD)).split("\n").map((l) => l.trim())).toEqual(expect.arrayContaining(LIVE_MOUNTS));
      expect(Number(await s.shell("cat /sys/block/vda/size"))).toBeGreaterThan(0);
      const cfg = await s.shell("xl create -n /etc/xen/disk-guest.cfg disk=/dev/vda 2>&1", 120);
      expect(cfg).toContain('"kernel": "/usr/lib/grub-xen/grub-x86_64-xen.bin"');
      expect(cfg).toMatch(/"pdev_path": "\/dev\/vda"[\s\S]*"vdev": "xvda"/);
      const created = await s.shell("xl create /etc/xen/disk-guest.cfg disk=/dev/vda 2>&1; echo rc=$?", 300);
      expect(created).toContain("rc=0");
      const console = await waitForGuestLogin(s, "disk-guest", "disk guest (PV)");
      const full = await s.shell(`tr -d '\\r' < /var/log/xen/console/guest-disk-guest.log | grep -a -E 'root=UUID|democd: (mounted|switching)|Command line' | head -5`, 60);
      expect(full, console).toMatch(/root=UUID=[0-9a-f-]{36}/);
      expect(await s.shell("xl list | awk '$1==\"disk-guest\"{print $1}'")).toBe("disk-guest");
      await s.shell("xl destroy disk-guest; echo done", 120);

      // The same disk as a PVH guest, through pvgrub2's PVH build ($grub_platform is xen_pvh).
      const pvh = await s.shell("xl create -n /etc/xen/disk-guest-pvh.cfg disk=/dev/vda name=disk-pvh 2>&1", 120);
      expect(pvh).toContain('"type": "pvh"');
      expect(pvh).toContain('"kernel": "/usr/lib/grub-xen/grub-i386-xen_pvh.bin"');
      expect(await s.shell("xl create /etc/xen/disk-guest-pvh.cfg disk=/dev/vda name=disk-pvh 2>&1; echo rc=$?", 300)).toContain("rc=0");
      const pvhConsole = await waitForGuestLogin(s, "disk-pvh", "disk guest (PVH)");
      expect(pvhConsole).toMatch(/Booting (paravirtualized )?kernel on Xen PVH/);
      expect(pvhConsole).toMatch(/root=UUID=[0-9a-f-]{36}/);
      await s.shell("xl destroy disk-pvh; echo done", 120);

      // A demo guest off the CD as PVH (type=pvh on the command line).
      const demo = await s.shell("xl create -n /etc/xen/demo.cfg type=pvh name=demo-pvh 2>&1", 120);
      expect(demo).toContain('"type": "pvh"');
      expect(await s.shell("xl create /etc/xen/demo.cfg type=pvh name=demo-pvh >/dev/null 2>&1; echo rc=$?", 300)).toContain("rc=0");
      const demoConsole = await waitForGuestLogin(s, "demo-pvh", "demo guest (PVH)");
      expect(demoConsole).toMatch(/Booting (paravirtualized )?kernel on Xen PVH/);
      await s.shell("xl destroy demo-pvh; echo done", 120);
    }, { memoryMb: 2048, password: TEST_DEBIAN_PASSWORD, drives: [{ file: overlay, format: "qcow2" }] });
  });
});
