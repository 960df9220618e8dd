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
  sshPasswordLogin: false, defaultPassword: "democd", installKit: INSTALL_KIT, installed: false,
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
      'kernel = "/usr/boot/vmlinux.gz"',
      'ramdisk = "/usr/boot/initrd.img"',
      'extra = "console=hvc0 ip=@IPCONF@ democd.dom0key=@DOM0KEY@ 4"',
      "memory = 256",
      "vcpus = 1",
      'disk = [ "format=raw,vdev=xvdd,access=ro,script=block-democd,target=@MEDIUM@" ]',
      'vif = [ "bridge=xenbr0@VIFIP@,script=vif-democd" ]',
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
      xen_bridge_enable: render("usr/sbin/xen_bridge_enable.ejs"),
      "democd-getty": fs.readFileSync(path.join(dir, "usr/sbin/democd-getty"), "utf8"),
      xl: fs.readFileSync(path.join(dir, "usr/local/sbin/xl"), "utf8"),
      "vif-democd": fs.readFileSync(path.join(dir, "root/etc/xen/scripts/vif-democd"), "utf8"),
      "block-democd": fs.readFileSync(path.join(dir, "root/etc/xen/scripts/block-democd"), "utf8"),
      "xenguest-manager": fs.readFileSync(path.join(dir, "usr/sbin/xenguest-manager"), "utf8"),
      "init.d/xenguest": fs.readFileSync(path.join(dir, "root/etc/init.d/xenguest"), "utf8"),
    };
    for (const [name, text] of Object.entries(scripts)) expect(await shellcheck(text), name).toBe("");
    // libxl executes hotplug scripts directly: "Permission denied" fails xl create.
    for (const s of ["vif-democd", "block-democd"]) expect(fs.statSync(path.join(dir, "root/etc/xen/scripts", s)).mode & 0o111, s).toBe(0o111);
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

  it("the motd of an installed system speaks of its disk, not of a RAM disk, the CD or installing", () => {
    const live = render("root/etc/motd.ejs");
    const installed = render("root/etc/motd.ejs", { installed: true });
    expect(live).toContain("/ is a RAM disk");
    expect(live).toContain("democd-install DISK");
    expect(installed).toContain("installed on this disk");
    expect(installed).toContain("xl create /etc/xen/disk-guest.cfg disk=/dev/X");
    for (const gone of ["RAM disk", "RAM layer", "democd-install", "xen_nat_enable"]) expect(installed).not.toContain(gone);
    // The ssh password rule holds on both.
    expect(installed).toContain("over ssh root logs in with a key only");
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
      // ip= goes with the demo config only.
      const r = await execa(wrapper, ["create", "/etc/xen/disk-guest.cfg", "ip=10.0.0.5"], { reject: false });
      expect([r.exitCode, r.stderr]).toEqual([1, "xl create: ip= chooses a demo guest's address: it goes with /etc/xen/demo.cfg"]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  /** A script of the profile with its fixed paths pointed into `tmp`, and stub tools first on PATH. */
  function staged(tmp: string, text: string, paths: Record<string, string>, name: string): string {
    let t = text;
    for (const [from, to] of Object.entries(paths)) t = t.replaceAll(from, to);
    const file = path.join(tmp, name);
    fs.writeFileSync(file, t, { mode: 0o755 });
    return file;
  }
  const stub = (tmp: string, name: string, body: string) => fs.writeFileSync(path.join(tmp, "bin", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });

  /** democd-demo-cfg in a sandbox: mounts, command line, bridge state, xenstore and `ip` are the test's. */
  function demoCfgSandbox() {
    const tmp = tempDir("democfg");
    fs.mkdirSync(path.join(tmp, "bin"));
    fs.writeFileSync(path.join(tmp, "demo.cfg.in"), render("root/etc/democd/demo.cfg.in.ejs"));
    const blockDev = fs.readdirSync("/sys/class/block").map((b) => `/dev/${b}`).find((d) => fs.existsSync(d) && fs.statSync(d).isBlockDevice());
    if (!blockDev) throw new Error("this test needs a block device in /dev (any /sys/class/block entry)");
    // /linuxrc's live system: the medium under /usr's RAM layer.
    fs.writeFileSync(path.join(tmp, "mounts"), `tmpfs / tmpfs rw 0 0\n${blockDev} /run/democd/medium iso9660 ro 0 0\noverlay /usr overlay rw 0 0\n`);
    fs.writeFileSync(path.join(tmp, "cmdline"), "placeholder root=x console=hvc0\n");
    // Guests at .1 and .3 (one with two addresses), so .2 is free; .4 is not "ip".
    const vifs = (...ips: string[]) => stub(tmp, "xenstore-ls", `cat <<'X'\n${ips.map((ip, i) => `/local/domain/0/backend/vif/${i + 1}/0/ip = "${ip}"\n/local/domain/0/backend/vif/${i + 1}/0/bridge = "xenbr0"`).join("\n")}\n/local/domain/0/backend/vif/9/0/mac = "169.254.1.2"\nX`);
    vifs("169.254.1.1", "169.254.1.3 10.0.0.9");
    // Domain 0's DHCP'd address on the bridge, beside its own link-local one.
    stub(tmp, "ip", `case "$*" in
  "-4 -o addr show dev xenbr0") echo "5: xenbr0    inet 169.254.1.254/24 scope global xenbr0"; echo "5: xenbr0    inet 10.0.2.15/24 brd 10.0.2.255 scope global xenbr0" ;;
  "-4 route show default") echo "default via 10.0.2.2 dev xenbr0" ;;
  *) echo "unexpected ip $*" >&2; exit 1 ;;
esac`);
    // Domain 0's key pair, made at boot: its public half's base64 goes on the guest's command line.
    const dom0Key = "AAAAC3NzaC1lZDI1NTE5AAAAIJsGNJbok5a6YrW51qf2deYpN66kSXEnnvgOsZK1FKg9";
    fs.writeFileSync(path.join(tmp, "id_ed25519.pub"), `ssh-ed25519 ${dom0Key} root@domain0\n`);
    const bridgeState = path.join(tmp, "bridge");
    const script = staged(tmp, render("usr/sbin/democd-demo-cfg.ejs"), {
      "/proc/mounts": path.join(tmp, "mounts"), "/proc/cmdline": path.join(tmp, "cmdline"), "/run/democd/bridge": bridgeState,
      "/etc/democd/demo.cfg.in": path.join(tmp, "demo.cfg.in"), "/etc/xen/demo.cfg": path.join(tmp, "demo.cfg"),
      "/root/.ssh/id_ed25519.pub": path.join(tmp, "id_ed25519.pub"),
    }, "democd-demo-cfg");
    const env = { PATH: `${path.join(tmp, "bin")}:${process.env.PATH}` };
    return {
      tmp, blockDev, dom0Key, vifs,
      run: (...args: string[]) => execa(script, args, { env, reject: false }),
      cfg: () => fs.readFileSync(path.join(tmp, "demo.cfg"), "utf8"),
      setCmdline: (text: string) => fs.writeFileSync(path.join(tmp, "cmdline"), `${text}\n`),
      bridged: () => fs.writeFileSync(bridgeState, "uplink=eth0\nnat=off\n"),
      /** The rendered template with this guest's network filled in. */
      expected: (ipconf: string, vifip: string, address: string) =>
        render("root/etc/democd/demo.cfg.in.ejs").replaceAll("@MEDIUM@", blockDev).replaceAll("@IPCONF@", ipconf).replaceAll("@VIFIP@", vifip).replaceAll("@ADDRESS@", address).replaceAll("@DOM0KEY@", dom0Key),
    };
  }

  it("democd-demo-cfg behind domain 0: the medium and the lowest address of the demo network no vif backend holds, with nothing but xenstore-ls and mv", async () => {
    const box = demoCfgSandbox();
    const r = await box.run();
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("169.254.1.2");
    expect(box.cfg()).toBe(box.expected("169.254.1.2::169.254.1.254:255.255.255.0::eth0:off", ",ip=169.254.1.2", "169.254.1.2"));
    expect(box.cfg()).toContain(`extra = "console=hvc0 ip=169.254.1.2::169.254.1.254:255.255.255.0::eth0:off democd.dom0key=${box.dom0Key} 4"`);
    expect(box.cfg()).toContain('vif = [ "bridge=xenbr0,ip=169.254.1.2,script=vif-democd" ]');
    expect(box.cfg()).toContain(`target=${box.blockDev}" ]`);
    expect(fs.readdirSync(box.tmp).filter((f) => f.includes(".tmp."))).toEqual([]);
    // A given address; dhcp needs a network that has DHCP.
    expect((await box.run("--ip", "169.254.1.77")).stdout).toBe("169.254.1.77");
    expect(box.cfg()).toContain('vif = [ "bridge=xenbr0,ip=169.254.1.77,script=vif-democd" ]');
    const dhcp = await box.run("--ip", "dhcp");
    expect([dhcp.exitCode, dhcp.stderr]).toEqual([1, "democd-demo-cfg: ip=dhcp needs the guests on a network with a DHCP server: run xen_bridge_enable first"]);
    for (const bad of ["10.0.0", "10.0.0.256", "a.b.c.d", "10..0.1", "1.2.3.4;reboot"]) {
      const r2 = await box.run("--ip", bad);
      expect([r2.exitCode, r2.stderr], bad).toEqual([1, `democd-demo-cfg: --ip: "${bad}" is neither an IPv4 address (a.b.c.d) nor dhcp`]);
    }
    // /usr itself the medium (no overlayfs): still found.
    fs.writeFileSync(path.join(box.tmp, "mounts"), `tmpfs / tmpfs rw 0 0\n${box.blockDev} /usr iso9660 ro 0 0\n`);
    expect((await box.run()).stdout).toBe("169.254.1.2");
    // No medium: one line, nothing written.
    fs.writeFileSync(path.join(box.tmp, "mounts"), "tmpfs / tmpfs rw 0 0\noverlay /usr overlay rw 0 0\n");
    fs.rmSync(path.join(box.tmp, "demo.cfg"));
    const none = await box.run();
    expect([none.exitCode, none.stderr]).toEqual([1, "democd-demo-cfg: no medium is mounted on /run/democd/medium or /usr (is this a democd boot?)"]);
    expect(fs.existsSync(path.join(box.tmp, "demo.cfg"))).toBe(false);
  });

  it("democd-demo-cfg bridged: domain 0's command-line address + N with its gateway and netmask, else DHCP; a given address takes domain 0's network", async () => {
    const box = demoCfgSandbox();
    box.bridged();
    // Domain 0's address by DHCP: the guests ask too.
    expect((await box.run()).stdout).toBe("dhcp");
    expect(box.cfg()).toBe(box.expected("dhcp", "", "dhcp"));
    expect(box.cfg()).toContain('vif = [ "bridge=xenbr0,script=vif-democd" ]');
    expect((await box.run("--ip", "10.0.2.99")).stdout).toBe("10.0.2.99");
    expect(box.cfg()).toContain(`ip=10.0.2.99::10.0.2.2:255.255.255.0::eth0:off democd.dom0key=`);
    // The command-line IP entry's address: the next free after it, across a byte boundary too.
    box.setCmdline("placeholder ip=192.168.7.254::192.168.7.1:255.255.254.0:democd:eth0:off console=hvc0");
    box.vifs("169.254.1.1", "192.168.7.255");
    expect((await box.run()).stdout).toBe("192.168.8.0");
    expect(box.cfg()).toBe(box.expected("192.168.8.0::192.168.7.1:255.255.254.0::eth0:off", ",ip=192.168.8.0", "192.168.8.0"));
    expect((await box.run("--ip", "dhcp")).stdout).toBe("dhcp");
    expect(box.cfg()).toContain('ip=dhcp democd.dom0key=');
  });

  it("block-democd writes a read-only device's numbers for blkback itself, and hands everything else to Debian's block script", async () => {
    const tmp = tempDir("block");
    fs.mkdirSync(path.join(tmp, "bin"));
    fs.mkdirSync(path.join(tmp, "scripts"));
    const sys = path.join(tmp, "sys");
    const dev = fs.readdirSync("/sys/class/block").find((b) => fs.existsSync(`/dev/${b}`) && fs.statSync(`/dev/${b}`).isBlockDevice());
    if (!dev) throw new Error("this test needs a block device in /dev (any /sys/class/block entry)");
    fs.mkdirSync(path.join(sys, dev), { recursive: true });
    fs.writeFileSync(path.join(sys, dev, "dev"), "11:16\n");
    const store = path.join(tmp, "store");
    const setStore = (type: string, mode: string, ro: string) => {
      fs.writeFileSync(path.join(tmp, "params"), `${type}\n/dev/${dev}\n${mode}\n`);
      fs.writeFileSync(path.join(sys, dev, "ro"), `${ro}\n`);
      fs.writeFileSync(store, "");
    };
    stub(tmp, "xenstore-read", `cat ${path.join(tmp, "params")}`);
    stub(tmp, "xenstore-write", `printf '%s\\n' "$@" >>${store}`);
    fs.writeFileSync(path.join(tmp, "scripts", "block"), `#!/bin/sh\necho "debian block $*"\n`, { mode: 0o755 });
    const script = staged(tmp, fs.readFileSync(path.join(dir, "root/etc/xen/scripts/block-democd"), "utf8"), { "/sys/class/block": sys }, "scripts/block-democd");
    const env = { PATH: `${path.join(tmp, "bin")}:${process.env.PATH}`, XENBUS_PATH: "backend/vbd/1/51760" };
    const run = async (...args: string[]) => (await execa(script, args, { env })).stdout;

    setStore("phy", "r", "1");
    expect(await run("add")).toBe("");
    expect(fs.readFileSync(store, "utf8").split("\n")).toEqual([
      "backend/vbd/1/51760/physical-device", "b:10", "backend/vbd/1/51760/physical-device-path", `/dev/${dev}`, "backend/vbd/1/51760/hotplug-status", "connected", "",
    ]);
    // A device the kernel can write, a writable attachment, a file, removal: Debian's script.
    for (const [type, mode, ro, cmd] of [["phy", "r", "0", "add"], ["phy", "w", "1", "add"], ["file", "r", "1", "add"], ["phy", "r", "1", "remove"]]) {
      setStore(type, mode, ro);
      expect(await run(cmd), `${type} ${mode} ro=${ro} ${cmd}`).toBe(`debian block ${cmd}`);
      expect(fs.readFileSync(store, "utf8")).toBe("");
    }
  });
});
