import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load.ts";
import { renderFile } from "../../../src/render/ejs.ts";
import { xenKernelFile } from "../../../src/kernel/vmlinux.ts";
import { grubVars, menuEntries } from "../../../src/render/grub.ts";
import { REPO } from "../../helpers/paths.ts";

const config = loadConfig({ cli: { version: "1.0", builder: "tests", timeout: "7", ip: "192.0.2.10::192.0.2.1:255.255.255.0:demo:eth0:off" } });

describe("grub.cfg", () => {
  it("renders the four entries with serial and VGA terminals", () => {
    const text = renderFile(path.join(REPO, "templates"), "grub.cfg.ejs", grubVars(config, "6.1.0-56-amd64", "4.17.7"));
    expect(text).toMatchInlineSnapshot(`
      "# democd 1.0 — rendered by democd; edit templates/grub.cfg.ejs, not this file.
      search --no-floppy --set=root --file /democd/id
      serial --unit=0 --speed=115200
      terminal_input serial console
      terminal_output serial console
      if [ "\${grub_platform}" = "efi" ]; then
        insmod efi_gop
        insmod efi_uga
      else
        insmod vbe
        insmod vga
      fi
      insmod all_video
      set timeout=7
      set default=xen
      # Secure Boot on (GRUB started by shim is locked down): Debian signs neither Xen nor GRUB's
      # multiboot2, so the Xen entries say what to do instead (or, on a medium built with the user's
      # key, start the Xen signed with it from the ESP), and Linux is the default.
      if [ "\${lockdown}" = "y" ]; then
        set default=linux
      fi

      if [ "\${lockdown}" = "y" ]; then
      menuentry 'Xen / Linux 6.1.0-56-amd64 (needs Secure Boot off)' --id xen --hotkey=x {
        echo 'Xen cannot start with Secure Boot on: Debian signs neither Xen nor the multiboot2 loader.'
        echo 'Turn Secure Boot off in the firmware setup to start Xen, or choose Linux (no hypervisor).'
        sleep --interruptible 30
      }
      else
      menuentry 'Xen / Linux 6.1.0-56-amd64' --id xen --hotkey=x {
        echo 'Loading Xen 4.17.7 ...'
        multiboot2 /boot/xen.gz dom0_mem=max:512M console=com1,vga com1=115200,8n1 bootscrub=false
        echo 'Loading Linux 6.1.0-56-amd64 ...'
        module2 --nounzip /boot/vmlinuz console=tty0 console=hvc0
        echo 'Loading initial ramdisk ...'
        module2 --nounzip /boot/initrd.img
      }
      fi

      if [ "\${lockdown}" = "y" ]; then
      menuentry 'Xen / Linux 6.1.0-56-amd64 (command-line IP configuration) (needs Secure Boot off)' --id xen-ip --hotkey=i {
        echo 'Xen cannot start with Secure Boot on: Debian signs neither Xen nor the multiboot2 loader.'
        echo 'Turn Secure Boot off in the firmware setup to start Xen, or choose Linux (no hypervisor).'
        sleep --interruptible 30
      }
      else
      menuentry 'Xen / Linux 6.1.0-56-amd64 (command-line IP configuration)' --id xen-ip --hotkey=i {
        echo 'Loading Xen 4.17.7 ...'
        multiboot2 /boot/xen.gz dom0_mem=max:512M console=com1,vga com1=115200,8n1 bootscrub=false
        echo 'Loading Linux 6.1.0-56-amd64 ...'
        module2 --nounzip /boot/vmlinuz console=tty0 console=hvc0 ip=192.0.2.10::192.0.2.1:255.255.255.0:demo:eth0:off
        echo 'Loading initial ramdisk ...'
        module2 --nounzip /boot/initrd.img
      }
      fi

      if [ "\${lockdown}" = "y" ]; then
      menuentry 'Xen / Linux 6.1.0-56-amd64 (safe mode) (needs Secure Boot off)' --id xen-safe --hotkey=s {
        echo 'Xen cannot start with Secure Boot on: Debian signs neither Xen nor the multiboot2 loader.'
        echo 'Turn Secure Boot off in the firmware setup to start Xen, or choose Linux (no hypervisor).'
        sleep --interruptible 30
      }
      else
      menuentry 'Xen / Linux 6.1.0-56-amd64 (safe mode)' --id xen-safe --hotkey=s {
        echo 'Loading Xen 4.17.7 ...'
        multiboot2 /boot/xen.gz dom0_mem=max:512M console=com1,vga com1=115200,8n1 bootscrub=false nosmp dom0_max_vcpus=1 loglvl=all guest_loglvl=all sync_console noreboot
        echo 'Loading Linux 6.1.0-56-amd64 ...'
        module2 --nounzip /boot/vmlinuz console=tty0 console=hvc0 loglevel=7
        echo 'Loading initial ramdisk ...'
        module2 --nounzip /boot/initrd.img
      }
      fi

      menuentry 'Linux 6.1.0-56-amd64 (no hypervisor)' --id linux --hotkey=l {
        echo 'Loading Linux 6.1.0-56-amd64 ...'
        linux /boot/vmlinuz console=tty0 console=ttyS0,115200n8
        echo 'Loading initial ramdisk ...'
        initrd /boot/initrd.img
      }
      "
    `);
  });

  it("carries the configured Xen and Linux command lines into every entry", () => {
    const c = loadConfig({ cli: { xenArgs: "iommu=0", linuxArgs: "quiet", dom0Mem: "1024M" } });
    const entries = menuEntries(c, "6.1");
    expect(entries).toHaveLength(4);
    for (const e of entries) expect(e.linux).toContain("quiet");
    const xen = entries.filter((e) => e.xen !== undefined);
    expect(xen.map((e) => e.id)).toEqual(["xen", "xen-ip", "xen-safe"]);
    for (const e of xen) expect(e.xen).toMatch(/^dom0_mem=1024M .*iommu=0/);
  });

  it("gives domain 0 the machine's memory up to 512M by default, and takes Xen's whole dom0_mem syntax", () => {
    // No amount: Xen's own (all but 1/16, at most 128M); max: the ceiling. Never a fixed size,
    // which panics Xen on a machine with less memory than that.
    for (const e of menuEntries(loadConfig({ cli: {} }), "6.1").filter((e) => e.xen)) expect(e.xen).toMatch(/^dom0_mem=max:512M /);
    for (const ok of ["512M,max:512M", "-64M,max:512M", "min:256M,max:1G", "25%", "1G+25%,max:2G", "-10%", "524288"]) {
      expect(loadConfig({ cli: { dom0Mem: ok } }).boot.dom0Mem).toBe(ok);
    }
    for (const bad of ["512MB", "max:", "min:256M,", "50 %", "100%", "512M;reboot", "max:512M,,1G"]) {
      expect(() => loadConfig({ cli: { dom0Mem: bad } }), bad).toThrow(/boot\.dom0Mem/);
    }
  });

  it("makes the configured default entry GRUB's default", () => {
    const c = loadConfig({ cli: { defaultEntry: "linux" } });
    expect(grubVars(c, "6.1", "4.17").defaultEntry).toBe("linux");
  });

  it("loads the gzip'd ELF kernel as domain 0 where /boot has one, and the bzImage for bare Linux", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "democd-boot-"));
    expect(xenKernelFile(dir)).toBe("vmlinuz");
    fs.writeFileSync(path.join(dir, "vmlinux.gz"), "");
    expect(xenKernelFile(dir)).toBe("vmlinux.gz");
    const text = renderFile(path.join(REPO, "templates"), "grub.cfg.ejs", grubVars(config, "6.1", "4.17", { kind: "live" }, xenKernelFile(dir)));
    expect(text.match(/^ {2}module2 --nounzip \/boot\/vmlinux\.gz /gm)).toHaveLength(3);
    expect(text).toMatch(/^ {2}linux \/boot\/vmlinuz console=tty0 console=ttyS0/m);
    expect(text).not.toMatch(/module2 .*\/boot\/vmlinuz/);
    fs.rmSync(dir, { recursive: true });
  });
});

describe("grub.cfg of a medium with Xen signed with the user's key", () => {
  const keyed = loadConfig({ cli: { version: "1.0", builder: "tests", secureBootKey: "/k.pem", secureBootCert: "/c.pem" } });
  const text = renderFile(path.join(REPO, "templates"), "grub.cfg.ejs", grubVars(keyed, "6.1.0-56-amd64", "4.17.7"));

  it("keeps Xen the default under Secure Boot, and its entries chainload the signed Xen from the EFI partition", () => {
    expect(text).toContain('if [ "${lockdown}" = "y" ]; then\n  set default=xen\nfi');
    const entry = text.slice(text.indexOf("menuentry 'Xen / Linux 6.1.0-56-amd64 (Secure Boot"), text.indexOf("else\nmenuentry 'Xen / Linux 6.1.0-56-amd64'"));
    expect(entry).toMatchInlineSnapshot(`
      "menuentry 'Xen / Linux 6.1.0-56-amd64 (Secure Boot: Xen signed with your key)' --id xen --hotkey=x {
        # Xen 4.17 starts only from a file system the firmware reads: a USB stick's EFI partition. On
        # a CD the firmware reads the El Torito image, which GRUB cannot name (the partition search
        # finds there is the USB view of the same bytes, which the firmware does not mount).
        if [ "$root" = cd0 -o "$root" = cd1 -o "$root" = cd2 -o "$root" = cd3 ]; then
          echo 'Xen signed with your key cannot start from a CD: write this ISO to a USB stick,'
          echo 'or turn Secure Boot off, or choose Linux (no hypervisor).'
          sleep --interruptible 30
        elif search --no-floppy --file --set=democd_esp /EFI/democd/xen.efi; then
          echo 'Loading Xen 4.17.7, signed with the key this medium was built with ...'
          echo 'Refused? Enrol /democd/secure-boot.der once: mokutil --import from Linux (no hypervisor), then MokManager.'
          # chainloader hands the firmware $root's device, whatever the file's: Xen reads that one.
          # If shim refuses it, the medium is $root again for the menu's other entries.
          set democd_medium=$root
          set root=$democd_esp
          if chainloader /EFI/democd/xen.efi xen.efi xen; then
            boot
          fi
          set root=$democd_medium
        else
          echo 'The signed Xen (/EFI/democd/xen.efi) is not on the EFI partition of this medium: rebuild it with'
          echo '--secure-boot-key, or turn Secure Boot off, or choose Linux (no hypervisor).'
          sleep --interruptible 30
        fi
      }
      "
    `);
  });

  it("a disk's menu has no such entry (its ESP holds no signed Xen)", () => {
    const disk = renderFile(path.join(REPO, "templates"), "grub.cfg.ejs", grubVars(keyed, "6.1.0-56-amd64", "4.17.7", { kind: "disk", rootUuid: "0b9e1c55-0000-4000-8000-000000000001" }));
    expect(disk).not.toContain("signed with your key");
    expect(disk).toContain("(needs Secure Boot off)");
  });
});
