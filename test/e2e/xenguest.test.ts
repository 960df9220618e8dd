import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import type { QemuSession } from "../../src/boot/qemu.ts";
import { build, createContext } from "../../src/build.ts";
import { loadConfig } from "../../src/config/load.ts";
import { LOGIN_TIMEOUT_S, inXlConsole, withLoggedInBoot } from "../helpers/boot.ts";
import { freePorts } from "../helpers/ssh.ts";
import { webClient } from "../helpers/web.ts";
import { democd } from "../helpers/cli.ts";
import { REPO, TEST_BUILD_DIR, TEST_PASSWORD } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";
import { needTools } from "../helpers/tools.ts";

/**
 * A debian ISO with two xenguest images on it: "web" (GUEST_AUTOBOOT=1, a disk with an ext4
 * partition from a tar.gz and a vfat one) and "spare" (GUEST_AUTOBOOT=0). Each guest runs
 * the medium's own kernel and initrd (as /etc/xen/demo.cfg's guests do) with the medium as
 * xvdd, which an init.pre hook adds to the config the manager merged.
 */
const GUEST_TIMEOUT_S = LOGIN_TIMEOUT_S * 2;
const BUILD_DIR = path.join(TEST_BUILD_DIR, "xenguest");
const ISO = path.join(BUILD_DIR, "democd-xenguest-test.iso");

async function makeImages(dir: string): Promise<string[]> {
  const f = (rel: string, text: string, mode = 0o644) => {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text, { mode });
    return p;
  };
  const site = path.join(dir, "site");
  f("site/www/index.html", "served from the web guest's disk\n");
  await execa("tar", ["-czf", path.join(dir, "site.tar.gz"), "-C", site, "."]);
  f("fat/NOTE.TXT", "on the vfat partition\n");
  await execa("tar", ["-cf", path.join(dir, "fat.tar"), "-C", path.join(dir, "fat"), "."]);
  // The medium (the device on /run/democd/medium in domain 0, under /usr's RAM layer) as the guest's xvdd: its /linuxrc looks there.
  const medium = f("hooks/00-medium", `#!/bin/sh
medium=$(awk '$2 == "/run/democd/medium" { print $1; exit }' /proc/mounts)
echo "xg-marker init.pre $guestname medium=$medium"
own=
# Only a guest whose disk.cfg makes a disk has one (spare has none).
[ -e "$guestdir/disk.img" ] && own="\\"format=raw,vdev=xvda,access=rw,target=$guestdir/disk.img\\", "
echo "disk = [ $own\\"format=raw,vdev=xvdd,access=ro,target=$medium\\" ]" >>"$guestcfgfile"
`, 0o755);
  const initd = f("hooks/10-paused", '#!/bin/sh\necho "xg-marker init.d $guestname $(xl list "$guestname" | awk \'NR == 2 { print $5 }\')"\n', 0o755);
  const post = f("hooks/20-started", '#!/bin/sh\necho "xg-marker init.post $guestname $GREETING"\n', 0o755);
  const images: string[] = [];
  for (const [name, address, autoboot] of [["web", 50, 1], ["spare", 51, 0]] as const) {
    const append = f(`${name}-medium.cfg`, [
      'type = "pv"',
      'kernel = "/usr/boot/vmlinuz"',
      'ramdisk = "/usr/boot/initrd.img"',
      `extra = "console=hvc0 ip=169.254.1.${address}::169.254.1.254:255.255.255.0::eth0:off 4"`,
      `vif = [ "bridge=xenbr0,ip=169.254.1.${address},script=vif-democd" ]`,
      'on_crash = "destroy"',
      "",
    ].join("\n"));
    const img = path.join(dir, `${name}.xenguest`);
    const args = ["xenguest", "create", img, "--xen-memory=256", `--xen-append=${append}`, `--init-pre=${medium}`, `--init-script=${initd}`, `--init-post=${post}`,
      `--set-param=GUEST_AUTOBOOT=${autoboot}`, `--set-param=GREETING=hello from ${name}`];
    if (name === "web") {
      args.push("--disk-size=160M", `--disk-add-file=${path.join(dir, "site.tar.gz")}`, `--disk-add-file=${path.join(dir, "fat.tar")}`,
        "--disk-add-part=1:64M:ext4:site.tar.gz", "--disk-add-part=2:32M:vfat:fat.tar");
    }
    const r = await democd(args);
    expect(r.stderr).toBe("");
    images.push(img);
  }
  return images;
}

async function waitForLogin(s: QemuSession, name: string): Promise<string> {
  const log = `/var/log/xen/console/guest-${name}.log`;
  const n = await s.shell(`i=0; until grep -q 'login:' ${log} 2>/dev/null || [ $i -ge ${GUEST_TIMEOUT_S} ]; do sleep 2; i=$((i+2)); done; grep -c 'login:' ${log}`, GUEST_TIMEOUT_S + 60);
  const text = await s.shell(`cat ${log}`);
  expect(n, `console of ${name}:\n${text.slice(-2000)}`).not.toBe("0");
  return text;
}

/** In a guest's console from domain 0, logged in (and out again before Ctrl-] leaves). */
function inConsole(s: QemuSession, name: string, fn: () => Promise<void>): Promise<void> {
  return inXlConsole(s, name, async () => {
    await s.login("root", TEST_PASSWORD, 120);
    await fn();
    await s.type("exit\n");
    await s.waitFor(/login: /, 60);
  });
}

describe("xenguest images on the debian ISO (QEMU, TCG, 3 GB)", () => {
  it("domain 0 creates and starts the autoboot guest with its hooks in order; it logs in and sees its disk; the web console lists both images and creates and starts the other, which the manager lists and stops", async () => {
    await needTools("qemu-system-x86_64", "tar");
    const images = await makeImages(tempDir("xg-e2e"));

    fs.mkdirSync(BUILD_DIR, { recursive: true });
    const cache = path.join(BUILD_DIR, "cache");
    if (!fs.existsSync(cache)) fs.symlinkSync(path.join(REPO, "build/cache"), cache);
    const config = loadConfig({ cli: { version: "9.9-xg", rootPassword: TEST_PASSWORD, buildDir: BUILD_DIR, out: ISO, timeout: "3", builder: "democd-tests", guest: images } });
    const ctx = createContext(config, { quiet: true });
    try {
      await build(ctx);
    } finally {
      ctx.log.close();
    }
    const manifestFile = path.join(tempDir("xg-manifest"), "build.json");
    await execa("xorriso", ["-osirrox", "on", "-indev", ISO, "-extract", "/democd/build.json", manifestFile]);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
    expect(manifest.guests?.map((g: { name: string }) => g.name)).toEqual(["web", "spare"]);

    await withLoggedInBoot(ISO, "xen", "bios", async (s) => {
      expect(await s.shell("ls -1 /usr/share/guests")).toBe("spare.xenguest\nweb.xenguest");
      // Autoboot runs in the background after the toolstack: wait for it to finish.
      await s.shell(`i=0; until grep -q 'autoboot: done' /var/log/xenguest.log 2>/dev/null || [ $i -ge 600 ]; do sleep 2; i=$((i+2)); done`, 700);
      const log = await s.shell("cat /var/log/xenguest.log");
      const order = ["xg-marker init.pre web medium=/dev/", "xg-marker init.d web --p---", "xg-marker init.post web hello from web", "guest web started"].map((m) => log.indexOf(m));
      expect(order.every((i) => i >= 0), log).toBe(true);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(log).toContain("spare has GUEST_AUTOBOOT off");
      expect(await s.shell("xenguest-manager list")).toBe("web");
      expect(await s.shell("xenguest-manager status web")).toBe("web: running");

      const consoleText = await waitForLogin(s, "web");
      expect(consoleText).toContain("democd: found the medium on /dev/xvdd");
      await inConsole(s, "web", async () => {
        expect(await s.shell("mkdir -p /mnt/a /mnt/b && mount -o ro /dev/xvda1 /mnt/a && mount -o ro /dev/xvda2 /mnt/b && cat /mnt/a/www/index.html /mnt/b/NOTE.TXT")).toBe(
          "served from the web guest's disk\non the vfat partition",
        );
      });

      // The second image from the web console's page (its API, as the page calls it).
      const web = await webClient(await s.waitForWebUrl(120));
      const listed = await web.get("/api/guests");
      expect(listed.body).toMatchObject({ ok: true, images: ["spare", "web"], guests: [{ name: "web", state: "running" }] });
      expect(listed.body.log).toContain("guest web started");
      const created = await web.post("/api/guests/spare/create");
      expect(created.body, JSON.stringify(created.body)).toMatchObject({ ok: true, command: "xenguest-manager create /usr/share/guests/spare.xenguest spare" });
      expect(created.body.output).toMatch(/guest spare created/);
      const started = await web.post("/api/guests/spare/start");
      if (!started.body.ok) expect.fail(`start spare: ${started.body.output}\n${await s.shell("tail -n 25 /var/log/xenguest.log")}`);
      expect(started.body.output).toMatch(/guest spare started\n$/);
      expect(await s.shell("xenguest-manager list")).toBe("spare\nweb");
      await waitForLogin(s, "spare");
      expect(await s.shell("xenguest-manager status")).toBe("spare: running\nweb: running");
      expect(await s.shell("xenguest-manager stop spare --kill 2>&1 | tail -1", 400)).toMatch(/guest spare (stopped|destroyed)/);
      expect(await s.shell("xenguest-manager status spare")).toBe("spare: stopped");
      expect(await s.shell("xenguest-manager start web 2>&1; echo rc=$?")).toMatch(/already running[\s\S]*rc=1/);
      expect(await s.shell("xenguest-manager remove spare && xenguest-manager list")).toMatch(/removed\nweb$/);

      // Images a user copies in are untrusted here too: a link planted for xl.cfg, a command in params.cfg.
      await s.shell("mkdir -p /tmp/evil && cd /tmp/evil && printf 'memory = 64\\n' >guest.cfg && printf 'DISK_SIZE=\"0\"\\n' >disk.cfg && printf 'GUEST_AUTOBOOT=\"1\"\\n' >params.cfg && cd /");
      await s.shell("ln -s /root/.ssh/authorized_keys /tmp/evil/xl.cfg && tar -cf /tmp/link.xenguest -C /tmp/evil . && rm /tmp/evil/xl.cfg");
      expect(await s.shell("xenguest-manager create /tmp/link.xenguest evil 2>&1; echo rc=$?", 60)).toBe(
        "xenguest-manager: error: /tmp/link.xenguest: member ./xl.cfg: a symbolic link to /root/.ssh/authorized_keys (an image holds no links); refused, nothing written\nrc=1",
      );
      await s.shell("printf 'GUEST_AUTOBOOT=\"$(touch /tmp/pwned)\"\\n' >/tmp/evil/params.cfg && tar -cf /tmp/cmd.xenguest -C /tmp/evil .");
      expect(await s.shell("xenguest-manager create /tmp/cmd.xenguest evil 2>&1; echo rc=$?", 60)).toMatch(/params\.cfg: line 1: GUEST_AUTOBOOT: uses a shell expansion .*; refused\nrc=1$/);
      expect(await s.shell("ls /tmp/pwned /var/lib/xenguest/ 2>&1")).toBe("ls: cannot access '/tmp/pwned': No such file or directory\n/var/lib/xenguest/:\nweb");
    }, {
      memoryMb: 3072,
      webPort: await freePorts(1),
      beforeLogin: async (s) => {
        await s.waitFor("democd: toolstack ready", LOGIN_TIMEOUT_S);
      },
    });
  });
});
