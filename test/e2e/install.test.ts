import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import { MOUNTS_CMD, withLoggedInBoot } from "../helpers/boot.ts";
import { TEST_DEBIAN_PASSWORD } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";
import { needTools } from "../helpers/tools.ts";

const iso = inject("debianIsoPath");

/** Seconds democd-install may take under a loaded TCG machine (it copies /usr off the CD). */
const INSTALL_TIMEOUT_S = 600;
/** The whole test: the live boot with the install, then three boots of the disk, each a few minutes at most under TCG. */
const TEST_TIMEOUT_MS = (INSTALL_TIMEOUT_S + 4 * 240) * 1000;

describe("democd-install: the running demo onto a blank disk, then booted from the disk alone", () => {
  it("refuses bad disks in one line, installs onto a blank 4 GB disk, and the disk boots Xen on SeaBIOS and OVMF and keeps a file across a reboot", async () => {
    await needTools("qemu-system-x86_64", "qemu-img");
    const dir = tempDir("install");
    const disk = path.join(dir, "blank.qcow2");
    const small = path.join(dir, "small.raw");
    await execa("qemu-img", ["create", "-q", "-f", "qcow2", disk, "4G"]);
    fs.writeFileSync(small, Buffer.alloc(0));
    fs.truncateSync(small, 64 * 2 ** 20);
    const times: Record<string, number> = {};

    // The live system (bare Linux: the installer needs no hypervisor), the blank disk as vda, a small one as vdb.
    await withLoggedInBoot(iso, "linux", "bios", async (s) => {
      const refused = async (cmd: string) => {
        const out = await s.shell(`${cmd} 2>&1; echo rc=$?`, 120);
        expect(out.split("\n"), out).toHaveLength(2);
        expect(out).toMatch(/\nrc=1$/);
        return out.split("\n")[0];
      };
      // Nothing written: the blank disk stays blank, the small one keeps its bytes (taken while
      // it is not mounted: mounting writes to it).
      const blank = "wipefs -n /dev/vda | wc -l; ls /dev/vda?* 2>/dev/null | wc -l; cmp -s -n 1048576 /dev/vda /dev/zero && echo zeros";
      const smallSum = "md5sum </dev/vdb | cut -c1-32";
      expect(await s.shell(blank)).toBe("0\n0\nzeros");
      expect(await s.shell("mkfs.ext4 -q /dev/vdb && mkdir -p /mnt/small && mount /dev/vdb /mnt/small && echo mounted")).toBe("mounted");
      expect(await refused("democd-install /dev/nope")).toMatch(/^democd-install: \/dev\/nope: no such disk \(the disks here: .*\/dev\/vda \/dev\/vdb\)$/);
      expect(await refused("democd-install /dev/vdb")).toBe("democd-install: /dev/vdb is mounted on /mnt/small: unmount it first, or choose another disk");
      expect(await s.shell("umount /mnt/small && echo unmounted")).toBe("unmounted");
      const sum = await s.shell(smallSum);
      expect(await refused("democd-install --force /dev/vdb")).toMatch(/^democd-install: \/dev\/vdb is too small: 64 MiB, and this system needs at least \d+ MiB$/);
      expect(await refused("democd-install /dev/sr0")).toMatch(/^democd-install: \/dev\/sr0 is read-only/);
      expect(await s.shell(smallSum)).toBe(sum);
      expect(await s.shell(blank)).toBe("0\n0\nzeros");

      const started = s.elapsed();
      const out = await s.shell("democd-install /dev/vda 2>&1; echo rc=$?", INSTALL_TIMEOUT_S);
      times.install = s.elapsed() - started;
      expect(out, out).toMatch(/democd-install: done in \d+ s\. \/dev\/vda boots by BIOS and UEFI/);
      expect(out).toMatch(/\nrc=0$/);
      expect(out).toContain("[6/6]");
      expect(await s.shell("sfdisk --dump /dev/vda | grep -o '^/dev/vda[0-9].*name=\"[a-z]*\"' | sed 's/ :.*name=/ /'")).toBe('/dev/vda1 "bios"\n/dev/vda2 "esp"\n/dev/vda3 "root"');
      // Installed once, the disk is no longer blank: a second run needs --force and names what it would erase.
      expect(await refused("democd-install /dev/vda")).toBe("democd-install: /dev/vda has partitions (/dev/vda1, /dev/vda2, /dev/vda3): democd-install --force /dev/vda erases them and everything on them");
      s.send("poweroff\n");
      await s.child.catch(() => undefined);
    }, { memoryMb: 1536, password: TEST_DEBIAN_PASSWORD, drives: [{ file: disk, format: "qcow2" }, { file: small, format: "raw" }] });

    const marker = `written-before-reboot-${Date.now()}`;
    times["bios login"] = await withLoggedInBoot(disk, "xen", "bios", async (s, login) => {
      expect((await s.shell(MOUNTS_CMD)).trim()).toBe("/ ext4");
      expect(await s.shell("awk '$2==\"/\"{print $1}' /proc/mounts")).toBe("/dev/vda3");
      expect(await s.shell("xl list | awk 'NR > 1 { print $1 }'")).toBe("Domain-0");
      // Domain 0 loaded the gzip'd ELF kernel from the disk's /boot; the motd and the boot speak of the installed system.
      expect(await s.shell("grep -c 'module2 --nounzip /boot/vmlinux.gz' /boot/grub/grub.cfg; ls /boot/vmlinux.gz")).toBe("3\n/boot/vmlinux.gz");
      expect(await s.shell("grep -c 'installed on this disk' /etc/motd; grep -c 'RAM disk' /etc/motd")).toBe("1\n0");
      expect(s.output).toContain("democd: toolstack ready: xl list (demo guests run off the live medium)");
      expect(s.output).not.toContain("no medium is mounted");
      expect(await s.shell(`echo ${marker} > /root/marker && sync && echo ok`)).toBe("ok");
      s.send("reboot\n");
      await s.child.catch(() => undefined);
      return login;
    }, { memoryMb: 2048, password: TEST_DEBIAN_PASSWORD });

    times["uefi login"] = await withLoggedInBoot(disk, "xen", "uefi", async (s, login) => {
      expect(await s.shell("cat /root/marker")).toBe(marker);
      expect(await s.shell("xl list | awk 'NR > 1 { print $1 }'")).toBe("Domain-0");
      return login;
    }, { memoryMb: 2048, password: TEST_DEBIAN_PASSWORD });
    process.stderr.write(`  democd-install, seconds: ${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")}\n`);
  }, TEST_TIMEOUT_MS);
});
