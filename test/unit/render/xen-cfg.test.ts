import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load.ts";
import { menuEntries } from "../../../src/render/grub.ts";
import { xenCfg } from "../../../src/render/xen-cfg.ts";

describe("xen.cfg of the Xen signed with the user's key", () => {
  it("has a section per Xen menu entry, named by its id, with the menu's Xen and Linux command lines", () => {
    const config = loadConfig({ cli: { linuxArgs: "quiet", xenArgs: "bootscrub=false" } });
    expect(xenCfg(menuEntries(config, "6.1.0-57-amd64"))).toMatchInlineSnapshot(`
      "[global]
      default=xen

      [xen]
      options=dom0_mem=max:512M console=com1,vga com1=115200,8n1 bootscrub=false
      kernel=vmlinuz console=tty0 console=hvc0 quiet
      ramdisk=initrd.img

      [xen-ip]
      options=dom0_mem=max:512M console=com1,vga com1=115200,8n1 bootscrub=false
      kernel=vmlinuz console=tty0 console=hvc0 quiet ip=169.254.0.1::169.254.0.254:255.255.255.0:democd:eth0:off
      ramdisk=initrd.img

      [xen-safe]
      options=dom0_mem=max:512M console=com1,vga com1=115200,8n1 bootscrub=false nosmp dom0_max_vcpus=1 loglvl=all guest_loglvl=all sync_console noreboot
      kernel=vmlinuz console=tty0 console=hvc0 quiet loglevel=7
      ramdisk=initrd.img
      "
    `);
  });

  it("refuses a menu without Xen entries", () => {
    const config = loadConfig({});
    expect(() => xenCfg(menuEntries(config, "6.1.0-57-amd64").filter((e) => !e.xen))).toThrow("no Xen entry");
  });
});
