import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { renderFile } from "../../../src/render/ejs.ts";
import { INSTALL_KIT } from "../../../src/disk/install-kit.ts";
import { DEMO_NET, SSH_PORT_BASE } from "../../../src/stages/root.ts";
import { REPO } from "../../helpers/paths.ts";
import { needTools } from "../../helpers/tools.ts";
import { tempDir } from "../../helpers/temp.ts";

const dir = path.join(REPO, "templates/debian");
const vars = {
  version: "2.0", serialSpeed: 115200, guestMemory: 256, demoNet: DEMO_NET, sshPortBase: SSH_PORT_BASE,
  sshPasswordLogin: false, defaultPassword: "democd", installKit: INSTALL_KIT,
  builder: "the democd project", buildDate: "2026-01-01", kernelVersion: "6.1.0-1-amd64", xenVersion: "4.17",
};
const render = (rel: string, more: Record<string, unknown> = {}) => renderFile(dir, rel, { ...vars, ...more });
const settings = (text: string) => text.split("\n").filter((l) => l.trim() && !l.trim().startsWith("#"));

async function shellcheck(text: string): Promise<string> {
  const r = await execa("shellcheck", ["-s", "sh", "-"], { input: text, reject: false });
  return r.stdout + r.stderr;
}

describe("the debian profile's templates", () => {
  beforeAll(() => needTools("shellcheck", "sh"));

  it("demo.cfg.in: a PV guest running the medium's kernel and initrd, the medium as xvdd, runlevel 4", () => {
    const cfg = render("root/etc/democd/demo.cfg.in.ejs");
    expect(settings(cfg)).toEqual([
      'name = "demo"',
      'type = "pv"',
      'kernel = "/usr/boot/vmlinuz"',
      'ramdisk = "/usr/boot/initrd.img"',
      'extra = "console=hvc0 ip=@ADDRESS@::169.254.1.254:255.255.255.0::eth0:off democd.dom0key=@DOM0KEY@ 4"',
      "memory = 256",
      "vcpus = 1",
      'disk = [ "format=raw,vdev=xvdd,access=ro,target=@MEDIUM@" ]',
      'vif = [ "bridge=xenbr0,ip=@ADDRESS@,script=vif-democd" ]',
      'on_poweroff = "destroy"',
      'on_reboot = "restart"',
      'on_crash = "destroy"',
    ]);
  });

  it("inittab: runlevel 2 is domain 0, 4 a guest, gettys on hvc0, ttyS0 and the VGA console", () => {
    const inittab = render("root/etc/inittab.ejs");
    expect(inittab).toContain("id:2:initdefault:");
    expect(inittab).toContain("l2:235:wait:/usr/lib/democd/rc host");
    expect(inittab).toContain("l4:4:wait:/usr/lib/democd/rc guest");
    expect(inittab).toContain("T0:12345:respawn:/usr/sbin/democd-getty hvc0 115200");
    expect(inittab).toMatch(/^T1:1235:respawn:\/usr\/sbin\/democd-getty ttyS0 115200$/m);
  });

  it("its scripts pass shellcheck", async () => {
    const scripts = {
      rc: render("usr/lib/democd/rc.ejs"),
      "democd-demo-cfg": render("usr/sbin/democd-demo-cfg.ejs"),
      "democd-install": render("usr/sbin/democd-install.ejs"),
      xen_nat_enable: render("usr/sbin/xen_nat_enable.ejs"),
      "democd-getty": fs.readFileSync(path.join(dir, "usr/sbin/democd-getty"), "utf8"),
      xl: fs.readFileSync(path.join(dir, "usr/local/sbin/xl"), "utf8"),
      "vif-democd": fs.readFileSync(path.join(dir, "root/etc/xen/scripts/vif-democd"), "utf8"),
      "xenguest-manager": fs.readFileSync(path.join(dir, "usr/sbin/xenguest-manager"), "utf8"),
      "init.d/xenguest": fs.readFileSync(path.join(dir, "root/etc/init.d/xenguest"), "utf8"),
    };
    for (const [name, text] of Object.entries(scripts)) expect(await shellcheck(text), name).toBe("");
  });

  it("xen_nat_enable masquerades the demo network's traffic that leaves by any other interface than its bridge", () => {
    const script = render("usr/sbin/xen_nat_enable.ejs");
    expect(script).toContain('ip saddr 169.254.1.0/24 oifname != "xenbr0" masquerade');
    expect(script).toContain("echo 1 >/proc/sys/net/ipv4/ip_forward");
  });

  it("xen_nat_enable forwards domain 0's port 2200+N to guest N's ssh, from outside the bridge only", () => {
    const script = render("usr/sbin/xen_nat_enable.ejs");
    expect(script).toContain('iifname != "xenbr0" tcp dport 2201-2453 dnat ip to tcp dport map { $ports }');
    expect(script).toContain('ports="$ports${ports:+, }$((2200 + n)) : 169.254.1.$n . 22"');
  });

  it("sshd: keys only with the documented default password, passwords too when the user chose one; never empty ones", () => {
    const byDefault = settings(render("root/etc/ssh/sshd_config.d/democd.conf.ejs"));
    expect(byDefault).toEqual([
      "HostKey /etc/ssh/ssh_host_ed25519_key",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitEmptyPasswords no",
      "UseDNS no",
    ]);
    const chosen = settings(render("root/etc/ssh/sshd_config.d/democd.conf.ejs", { sshPasswordLogin: true }));
    expect(chosen).toEqual(expect.arrayContaining(["PermitRootLogin yes", "PasswordAuthentication yes", "PermitEmptyPasswords no"]));
    expect(render("root/etc/motd.ejs")).toContain("over ssh root logs in with a key only");
    expect(render("root/etc/motd.ejs", { sshPasswordLogin: true })).toContain("with the password chosen at build time");
  });

  it("domain 0's ssh client trusts no remembered key on the demo bridge only", () => {
    expect(settings(render("root/etc/ssh/ssh_config.d/democd.conf.ejs"))).toEqual([
      "Host 169.254.1.*",
      "  StrictHostKeyChecking no",
      "  UserKnownHostsFile /dev/null",
      "  LogLevel ERROR",
    ]);
  });

  it("the xl wrapper quotes bare-word overrides of xl create and passes everything else as it is", async () => {
    const tmp = tempDir("xl");
    const stub = path.join(tmp, "xl-real");
    fs.writeFileSync(stub, '#!/bin/sh\nfor a in "$@"; do printf "[%s]" "$a"; done\n', { mode: 0o755 });
    const wrapper = path.join(tmp, "xl");
    fs.writeFileSync(wrapper, fs.readFileSync(path.join(dir, "usr/local/sbin/xl"), "utf8").replaceAll("/usr/sbin/xl", stub), { mode: 0o755 });
    const xl = async (...args: string[]) => (await execa(wrapper, args)).stdout;
    try {
      expect(await xl("create", "-n", "/etc/xen/demo.cfg", "name=demo2", "memory=192", 'extra="a b"', "vif=['x']", "x=")).toBe(
        '[create][-n][/etc/xen/demo.cfg][name="demo2"][memory=192][extra="a b"][vif=[\'x\']][x=]',
      );
      expect(await xl("list", "name=demo2")).toBe("[list][name=demo2]");
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
