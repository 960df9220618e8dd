import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { renderFile } from "../../../src/render/ejs.ts";
import { DEMO_NET } from "../../../src/stages/root.ts";
import { REPO } from "../../helpers/paths.ts";
import { needTools } from "../../helpers/tools.ts";
import { tempDir } from "../../helpers/temp.ts";

const dir = path.join(REPO, "templates/debian");
const vars = { version: "2.0", serialSpeed: 115200, guestMemory: 256, demoNet: DEMO_NET };
const render = (rel: string) => renderFile(dir, rel, vars);

async function shellcheck(text: string): Promise<string> {
  const r = await execa("shellcheck", ["-s", "sh", "-"], { input: text, reject: false });
  return r.stdout + r.stderr;
}

describe("the debian profile's templates", () => {
  beforeAll(() => needTools("shellcheck", "sh"));

  it("demo.cfg.in: a PV guest running the medium's kernel and initrd, the medium as xvdd, runlevel 4", () => {
    const cfg = render("root/etc/democd/demo.cfg.in.ejs");
    const settings = cfg.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(settings).toEqual([
      'name = "demo"',
      'type = "pv"',
      'kernel = "/usr/boot/vmlinuz"',
      'ramdisk = "/usr/boot/initrd.img"',
      'extra = "console=hvc0 ip=@ADDRESS@::169.254.1.254:255.255.255.0::eth0:off 4"',
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
