import { describe, expect, inject, it } from "vitest";
import net from "node:net";
import type { QemuSession } from "../../src/boot/qemu.ts";
import { SSH_GUEST_PORTS } from "../../src/boot/ssh-forwards.ts";
import { DPKG_ON_THE_SPOT, DPKG_ON_THE_SPOT_OUT, LIVE_MOUNTS, LOGIN_TIMEOUT_S, MOUNTS_CMD, expectWritableUsr, inXlConsole, withLoggedInBoot } from "../helpers/boot.ts";
import { TEST_DEBIAN_PASSWORD } from "../helpers/paths.ts";
import { freePorts, sshFromHost, sshKeyscan } from "../helpers/ssh.ts";
import { needTools } from "../helpers/tools.ts";

const iso = inject("debianIsoPath");

/** Seconds a demo guest may take to reach its login prompt (idle: ~60 s after xl create). */
const GUEST_TIMEOUT_S = LOGIN_TIMEOUT_S * 2;

/** A TCP server on the host's loopback that answers every connection with a fresh marker. */
async function markerServer(): Promise<{ port: number; marker: string; close: () => void }> {
  const marker = `democd-nat-${Math.random().toString(36).slice(2)}`;
  const server = net.createServer((c) => c.end(`${marker}\n`));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, marker, close: () => server.close() };
}

/** The demo guest's console from domain 0's shell. */
const inGuestConsole = (s: QemuSession, fn: () => Promise<void>) => inXlConsole(s, "demo", fn);

/** README's list of what a user types first: each one found, or its name printed. */
const TOOLS_CMD = "for t in ping ip ss less top vi dmesg lsblk free df ps ssh scp xl xenstore-ls xentop; do command -v $t >/dev/null || echo missing $t; done";
/** The same in a demo guest, which runs no toolstack of its own. */
const GUEST_TOOLS_CMD = TOOLS_CMD.replace(" xl xenstore-ls xentop", "");

/** One word for the shell, whatever it holds. */
const shq = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

/** A guest's ssh host key fingerprint as its console printed it. */
const guestHostKey = (log: string) => /democd: ssh host key (SHA256:\S+)/.exec(log)?.[1];

/** The ssh host key fingerprint domain 0 printed on its console at boot. */
const hostKeyOf = (console: string) => /democd: ssh host key (SHA256:\S+)/.exec(console)?.[1];
let firstBootHostKey: string | undefined;

describe("the default (debian) profile: the full Xen demo in QEMU (TCG)", () => {
  it("on a 1.25 GB machine, dom0 runs the toolstack and sshd, and dpkg -i installs into /usr; xl create starts a guest off the same CD that logs in on its console and over ssh and, after xen_nat_enable, reaches the host through domain 0 and is reached from it; after xen_bridge_enable a second guest is on QEMU's network with its own address; xl shutdown stops the first", async () => {
    await needTools("qemu-system-x86_64", "ssh");
    const times: Record<string, number> = {};
    const port = await freePorts(1 + SSH_GUEST_PORTS);
    await withLoggedInBoot(iso, "xen", "bios", async (s, login) => {
      times["dom0 login"] = login;
      firstBootHostKey = hostKeyOf(s.output);
      expect(firstBootHostKey, "the host key's fingerprint on the console").toBeDefined();

      // ssh from the host (democd boot --ssh's forward) with the key given at build time; the
      // documented default password is refused, as is every password.
      const viaSsh = await sshFromHost(port, "xl list | awk 'NR > 1 { print $1 }'; ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub", { timeoutS: 120 });
      expect(viaSsh.exitCode, viaSsh.stderr).toBe(0);
      expect(viaSsh.stdout.split("\n")[0]).toBe("Domain-0");
      expect(viaSsh.stdout.split("\n")[1]).toContain(` ${firstBootHostKey} `);
      const withPassword = await sshFromHost(port, "true", { password: TEST_DEBIAN_PASSWORD });
      expect(withPassword.exitCode).toBe(255);
      expect(withPassword.stderr).toContain("Permission denied (publickey)");
      expect(await s.shell("ls /etc/ssh | grep -c '^ssh_host_'; ls /usr/share/doc/openssh-server >/dev/null && echo installed")).toBe("2\ninstalled");
      expect((await s.shell(MOUNTS_CMD)).split("\n").map((l) => l.trim())).toEqual(expect.arrayContaining(LIVE_MOUNTS));
      // /usr takes packages: one made on the spot installs with dpkg -i and runs (gone at the next boot: the test below).
      await expectWritableUsr(s);
      expect(await s.shell(DPKG_ON_THE_SPOT, 120)).toBe(DPKG_ON_THE_SPOT_OUT);
      expect(await s.shell(TOOLS_CMD)).toBe("");
      expect(await s.shell("cat /sys/hypervisor/type")).toBe("xen");
      expect(await s.shell("cat /etc/debian_version")).toMatch(/^12\./);
      // dpkg's info files are on the medium, behind a link in the RAM root: dpkg still answers.
      expect(await s.shell("readlink /var/lib/dpkg/info; dpkg -L openssh-server | grep -c '^/usr/sbin/sshd$'; dpkg -S /usr/sbin/xl")).toBe("../../../usr/root/var/lib/dpkg/info\n1\nxen-utils-common: /usr/sbin/xl");
      expect(await s.shell("modprobe dummy && lsmod | grep -c '^dummy '")).toBe("1");
      expect(await s.shell("xl list")).toMatch(/^Domain-0\s+0\s/m);
      expect(await s.shell("pgrep -c -x oxenstored; pgrep -c -x xenconsoled")).toBe("1\n1");

      // The dry run shows what a guest would get, overrides included.
      const dry = await s.shell("xl create -n /etc/xen/demo.cfg name=demo2 memory=192 2>&1", 120);
      expect(dry).toContain('"name": "demo2"');
      expect(dry).toContain('"kernel": "/usr/boot/vmlinux.gz"');
      expect(dry).toContain('"ramdisk": "/usr/boot/initrd.img"');
      expect(dry).toMatch(/"max_memkb": 196608/);
      expect(dry).toMatch(/"pdev_path": "\/dev\/sr0"[\s\S]*"vdev": "xvdd"/);
      expect(dry).toMatch(/ip=169\.254\.1\.1::169\.254\.1\.254:255\.255\.255\.0::eth0:off democd\.dom0key=[A-Za-z0-9+/]{68} 4"/);

      const created = await s.shell("xl create /etc/xen/demo.cfg >/dev/null 2>&1; echo rc=$?", 300);
      expect(created).toContain("rc=0");
      times["xl create returned"] = s.elapsed();
      // The next guest is offered the next address.
      expect(await s.shell("grep '^extra' /etc/xen/demo.cfg | grep -o 'ip=[0-9.]*'")).toBe("ip=169.254.1.2");

      const log = "/var/log/xen/console/guest-demo.log";
      const waited = await s.shell(
        `i=0; until grep -q 'login:' ${log} 2>/dev/null || [ $i -ge ${GUEST_TIMEOUT_S} ]; do sleep 2; i=$((i+2)); done; grep -c 'login:' ${log}`,
        GUEST_TIMEOUT_S + 60,
      );
      times["guest login prompt"] = s.elapsed();
      const guestConsole = await s.shell(`cat ${log}`);
      expect(waited, `guest console:\n${guestConsole}`).not.toBe("0");
      expect(guestConsole).toContain("democd: found the medium on /dev/xvdd");
      expect(guestConsole).toContain("demo guest ready at 169.254.1.1");
      expect(await s.shell("xl list | awk 'NR > 1 { print $1 }'")).toBe("Domain-0\ndemo");
      expect(await s.shell("busybox ping -c 1 -W 10 169.254.1.1 >/dev/null && echo reachable")).toBe("reachable");
      // Domain 0's own key (made at boot, handed to the guest on its command line) logs in.
      expect(await s.shell("ssh -o BatchMode=yes -o ConnectTimeout=60 root@169.254.1.1 hostname 2>&1", 180)).toBe("democd-guest1");
      // The fast hotplug scripts did the work: the medium through block-democd, the vif on the bridge.
      expect(await s.shell("xenstore-read /local/domain/0/backend/vbd/$(xl domid demo)/51760/physical-device")).toBe("b:0");
      expect(await s.shell("cat /sys/class/net/vif$(xl domid demo).0/master/uevent | grep INTERFACE")).toBe("INTERFACE=xenbr0");

      // xen_nat_enable: domain 0 gets an uplink on QEMU's user network (whose 10.0.2.2 is the
      // host's loopback); the guest reaches a server on the host only once NAT is on.
      const server = await markerServer();
      try {
        const fromGuest = `timeout 10 bash -c 'cat </dev/tcp/10.0.2.2/${server.port}' 2>/dev/null; echo rc=$?`;
        // Domain 0's uplink came by DHCP at boot; without it xen_nat_enable says what to do.
        expect(await s.shell("ip -4 route show default")).toMatch(/^default via 10\.0\.2\.2 dev eth0/);
        expect(await s.shell("ip route del default && xen_nat_enable 2>&1; echo rc=$?")).toMatch(/no default route[\s\S]*rc=1$/);
        expect(await s.shell("ip route add default via 10.0.2.2 && echo up")).toBe("up");
        await inGuestConsole(s, async () => {
          await s.login("root", TEST_DEBIAN_PASSWORD, 120);
          // Dropped by domain 0, not refused: the connection times out.
          expect(await s.shell(fromGuest, 60)).toMatch(/^rc=124$/);
          // The guest's /usr takes packages too, in its own RAM layer over the shared CD.
          expect((await s.shell(MOUNTS_CMD)).split("\n").map((l) => l.trim())).toEqual(expect.arrayContaining(["/ tmpfs", "/usr overlay", "/run/democd/medium iso9660"]));
          expect(await s.shell(DPKG_ON_THE_SPOT, 180)).toBe(DPKG_ON_THE_SPOT_OUT);
          expect(await s.shell(GUEST_TOOLS_CMD)).toBe("");
        });
        expect(await s.shell("xen_nat_enable && xen_nat_enable >/dev/null && nft list table ip democd_nat | grep -c -e masquerade -e 'dnat ip to'")).toBe(
          "xen_nat_enable: demo guests (169.254.1.0/24) reach the outside through eth0;\n  ports 2201-2453 of domain 0 lead to the guests' ssh (2200+N -> 169.254.1.N:22)\n2",
        );
        // From the host: PORT+1 -> domain 0's 2201 -> the first guest's ssh.
        const guestSsh = await sshFromHost(port + 1, "hostname", { timeoutS: 120 });
        expect(guestSsh.exitCode, guestSsh.stderr).toBe(0);
        expect(guestSsh.stdout).toBe("democd-guest1");
        await inGuestConsole(s, async () => {
          expect(await s.shell(fromGuest, 60)).toBe(`${server.marker}\nrc=0`);
          await s.type("exit\n");
          await s.waitFor(/login: /, 60);
        });
        times["guest reached the host through NAT"] = s.elapsed();

        // xen_bridge_enable: domain 0's uplink joins the guests' bridge, domain 0 keeps its
        // address and ssh, and NAT is off; a new guest takes its own address from QEMU's DHCP
        // (the next after domain 0's 10.0.2.15), reaches the host directly, and --ssh's PORT+1
        // now leads to it.
        expect(await s.shell("xen_bridge_enable; nft list table ip democd_nat >/dev/null 2>&1 && echo nat || echo no-nat")).toBe(
          "democd: demo guests are bridged to eth0's network (domain 0 is 10.0.2.15/24 on xenbr0): each takes its address by DHCP\nno-nat",
        );
        expect(await s.shell("cat /sys/class/net/eth0/master/uevent | grep INTERFACE; ip -4 route show default")).toBe("INTERFACE=xenbr0\ndefault via 10.0.2.2 dev xenbr0");
        const dom0Ssh = await sshFromHost(port, "hostname", { timeoutS: 60 });
        expect(dom0Ssh.stdout, dom0Ssh.stderr).toBe("democd");
        expect(await s.shell("xl create -n /etc/xen/demo.cfg name=demo2 2>&1 | grep -o -e 'ip=[^ ]*' -e '\"ip\": \"[^\"]*'")).toBe("ip=dhcp");
        expect(await s.shell("xl create /etc/xen/demo.cfg name=demo2 >/dev/null 2>&1; echo rc=$?", 300)).toBe("rc=0");
        const log2 = "/var/log/xen/console/guest-demo2.log";
        await s.shell(`i=0; until grep -q 'login:' ${log2} 2>/dev/null || [ $i -ge ${GUEST_TIMEOUT_S} ]; do sleep 2; i=$((i+2)); done`, GUEST_TIMEOUT_S + 60);
        const console2 = await s.shell(`cat ${log2}`);
        expect(console2).toContain("demo guest ready at 10.0.2.16");
        times["bridged guest ready"] = s.elapsed();
        const toGuest2 = "ssh -o BatchMode=yes -o ConnectTimeout=60 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@10.0.2.16";
        expect(await s.shell(`${toGuest2} ${shq(`ip -4 -o addr show dev eth0 | awk '{ print $4 }'; ip -4 route show default; ${fromGuest}`)} 2>&1`, 180)).toBe(
          `10.0.2.16/24\ndefault via 10.0.2.2 dev eth0 \n${server.marker}\nrc=0`,
        );
        // PORT+1 reaches the bridged guest's own sshd: its host key is the one its console printed.
        const scanned = await sshKeyscan(port + 1);
        expect(scanned).toBe(guestHostKey(console2));

        // xen_bridge_enable off: eth0 has the address again, NAT is back, and PORT+1 leads to the first guest through it.
        expect(await s.shell("xl destroy demo2 >/dev/null 2>&1; xen_bridge_enable off")).toBe("democd: demo guests are behind domain 0 again on xenbr0 (169.254.1.0/24), NAT on; eth0 has 10.0.2.15/24");
        expect(await s.shell("ip -4 route show default; nft list table ip democd_nat >/dev/null && echo nat")).toBe("default via 10.0.2.2 dev eth0 \nnat");
        expect(await s.shell(`ssh -o BatchMode=yes -o ConnectTimeout=60 root@169.254.1.1 ${shq(fromGuest)} 2>&1`, 120)).toBe(`${server.marker}\nrc=0`);
        const backToNat = await sshFromHost(port + 1, "hostname", { timeoutS: 120 });
        expect(backToNat.stdout, backToNat.stderr).toBe("democd-guest1");
        times["bridged and back"] = s.elapsed();
      } finally {
        server.close();
      }

      // A clean shutdown: the guest's init runs its halt scripts, then the domain is gone.
      const shutdown = await s.shell(
        "xl shutdown -w demo 2>&1 | tail -3; i=0; while xl list demo >/dev/null 2>&1 && [ $i -lt 240 ]; do sleep 2; i=$((i+2)); done; xl list | awk 'NR > 1 { print $1 }'",
        400,
      );
      expect(shutdown.split("\n").at(-1), `${shutdown}\nguest console:\n${(await s.shell(`tail -20 ${log}`)).slice(-1500)}`).toBe("Domain-0");
      times["guest shut down"] = s.elapsed();
    }, {
      // dom0_mem=max:512M leaves a 1.25 GB machine room for two guests of 256 MB.
      memoryMb: 1280,
      sshPort: port,
      password: TEST_DEBIAN_PASSWORD,
      beforeLogin: async (s) => {
        await s.waitFor("democd: toolstack ready", LOGIN_TIMEOUT_S);
        times["toolstack ready"] = s.elapsed();
      },
    });
    process.stderr.write(`  debian demo, seconds from QEMU start: ${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")}\n`);
  });

  it("the command-line IP entry with democd.net=bridge and democd.web=off typed in at GRUB, on a 384 MB machine: dom0_mem gives domain 0 what there is; its own ssh host key; the package installed in the first boot is gone; bridged at boot, the next guest is offered domain 0's address + 1", async () => {
    await needTools("qemu-system-x86_64");
    expect(firstBootHostKey, "the first boot's fingerprint (the test above)").toBeDefined();
    await withLoggedInBoot(iso, "xen-ip", "bios", async (s) => {
      expect(await s.shell("dpkg -s democd-hello >/dev/null 2>&1 && echo installed; ls /usr/bin/democd-hello 2>&1 | grep -c 'No such'")).toBe("1");
      // The entry's ip=169.254.0.1::169.254.0.254:255.255.255.0: bridged, guests follow domain 0's address.
      expect(await s.shell("cat /proc/cmdline")).toMatch(/ip=169\.254\.0\.1::\S+ democd\.net=bridge democd\.web=off/);
      // democd.web=off: no web console, and the console says so.
      expect(s.output).toContain("democd: web console off (democd.web=off)");
      expect(await s.shell("pgrep -f democd-web || echo none")).toBe("none");
      expect(await s.shell("i=0; until grep -qs 169.254.0.2 /etc/xen/demo.cfg || [ $i -ge 60 ]; do sleep 1; i=$((i+1)); done; sleep 1; cat /run/democd/bridge", 90)).toBe("uplink=eth0\nnat=off");
      // Announced on the console by the boot's background job (perhaps before the login).
      expect(s.output).toContain("democd: demo guests are bridged to eth0's network (domain 0 is 169.254.0.1/24 on xenbr0): the next takes 169.254.0.2");
      expect(await s.shell("xen_bridge_enable")).toBe("xen_bridge_enable: already bridged (uplink=eth0 nat=off); xen_bridge_enable off takes it back");
      expect(await s.shell("xl create -n /etc/xen/demo.cfg 2>&1 | grep -o 'ip=[^ ]*'")).toBe("ip=169.254.0.2::169.254.0.254:255.255.255.0::eth0:off");
      expect(await s.shell("xl create -n /etc/xen/demo.cfg ip=169.254.0.40 2>&1 | grep -o -e 'ip=[^ ]*' -e '\"ip\": \"[^\"]*\"'")).toBe('ip=169.254.0.40::169.254.0.254:255.255.255.0::eth0:off\n"ip": "169.254.0.40"');
      const key = hostKeyOf(s.output);
      expect(key, "the host key's fingerprint on the console").toBeDefined();
      expect(key).not.toBe(firstBootHostKey);
      expect(await s.shell("cat /sys/hypervisor/type")).toBe("xen");
      const total = Number(await s.shell("xl info | awk '/^total_memory/ { print $3 }'"));
      const dom0 = Number(await s.shell("xl list 0 | awk 'NR == 2 { print $3 }'"));
      expect(total).toBeGreaterThan(300);
      expect(total).toBeLessThanOrEqual(384);
      // All but Xen's own reserve: less than the machine, far more than the bare minimum.
      expect(dom0).toBeLessThan(total);
      expect(dom0).toBeGreaterThan(256);
      expect(await s.shell("pgrep -c -x oxenstored; pgrep -c -x xenconsoled")).toBe("1\n1");
    }, {
      memoryMb: 384,
      password: TEST_DEBIAN_PASSWORD,
      // What a user does at the menu: down to the entry, `e`, to the end of Linux's line, type, Ctrl-X.
      choose: async (s) => {
        await s.waitFor(/Use the \^ and v keys/, 120);
        s.send("\x1b[B");
        await new Promise((r) => setTimeout(r, 1000));
        s.send("e");
        await s.waitFor(/Minimum Emacs-like screen editing/, 60);
        // One key at a time: GRUB's serial input drops keys that arrive together.
        const key = async (k: string) => {
          s.send(k);
          await new Promise((r) => setTimeout(r, 500));
        };
        // The editor shows `setparams 'TITLE'` and a blank line above the entry's own lines.
        for (let i = 0; i < 5; i++) await key("\x0e");
        await key("\x05");
        await s.type(" democd.net=bridge democd.web=off");
        await new Promise((r) => setTimeout(r, 1000));
        s.send("\x18");
      },
    });
  });
});
