import path from "node:path";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import { LOGIN_TIMEOUT_S, MOUNTS_CMD, withLoggedInBoot } from "../helpers/boot.ts";
import { TEST_DEBIAN_PASSWORD } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";
import { needTools } from "../helpers/tools.ts";

const iso = inject("debianIsoPath");
const disk = inject("debianDiskPath");

describe("the debian profile's disk image as a Xen PV guest under the demo CD's domain 0", () => {
  it("xl create /etc/xen/disk-guest.cfg disk=/dev/vda boots it through pvgrub2 to its login on its own ext4 root", async () => {
    await needTools("qemu-system-x86_64", "qemu-img");
    // A writable overlay: the built image stays as it is.
    const overlay = path.join(tempDir("disk-guest"), "guest.qcow2");
    await execa("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", disk, overlay]);
    await withLoggedInBoot(iso, "xen", "bios", async (s) => {
      // Domain 0 runs off the CD (the disk is only the guest's), though the disk is bootable too.
      expect((await s.shell(MOUNTS_CMD)).split("\n").map((l) => l.trim())).toEqual(expect.arrayContaining(["/ tmpfs", "/usr iso9660"]));
      expect(Number(await s.shell("cat /sys/block/vda/size"))).toBeGreaterThan(0);
      const cfg = await s.shell("xl create -n /etc/xen/disk-guest.cfg disk=/dev/vda 2>&1", 120);
      expect(cfg).toContain('"kernel": "/usr/lib/grub-xen/grub-x86_64-xen.bin"');
      expect(cfg).toMatch(/"pdev_path": "\/dev\/vda"[\s\S]*"vdev": "xvda"/);
      const created = await s.shell("xl create /etc/xen/disk-guest.cfg disk=/dev/vda 2>&1; echo rc=$?", 300);
      expect(created).toContain("rc=0");
      const started = s.elapsed();
      const log = "/var/log/xen/console/guest-disk-guest.log";
      const deadline = Date.now() + LOGIN_TIMEOUT_S * 2 * 1000;
      let console = "";
      while (Date.now() < deadline) {
        console = await s.shell(`cat ${log} 2>/dev/null | tr -d '\\r' | tail -c 6000`, 60);
        if (/login: *$/m.test(console)) break;
        await new Promise((r) => setTimeout(r, 5000));
      }
      process.stderr.write(`  disk guest: login prompt ${(s.elapsed() - started).toFixed(0)}s after xl create\n`);
      expect(console, `guest console:\n${console}`).toMatch(/login: *$/m);
      const full = await s.shell(`tr -d '\\r' < ${log} | grep -a -E 'root=UUID|democd: (mounted|switching)|Command line' | head -5`, 60);
      expect(full).toMatch(/root=UUID=[0-9a-f-]{36}/);
      expect(await s.shell("xl list | awk '$1==\"disk-guest\"{print $1}'")).toBe("disk-guest");
      await s.shell("xl destroy disk-guest; echo done", 120);
    }, { memoryMb: 2048, password: TEST_DEBIAN_PASSWORD, drives: [{ file: overlay, format: "qcow2" }] });
  });
});
