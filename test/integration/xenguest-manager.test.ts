import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";
import { hostileTar } from "../helpers/hostile.ts";
import { needTools } from "../helpers/tools.ts";

const MANAGER = path.join(REPO, "templates/debian/usr/sbin/xenguest-manager");

/** Run one of the manager's functions on this host (the script sourced as a library). */
async function managerFn(dir: string, ...call: string[]) {
  return execa("sh", ["-c", `. "$0"; "$@"`, MANAGER, ...call], {
    reject: false,
    env: { XENGUEST_MANAGER_LIB: "1", XENGUEST_LOG: path.join(dir, "xenguest.log"), XENGUEST_DIR: path.join(dir, "lib"), TMPDIR: dir },
  });
}

const MiB = 1048576;

describe("xenguest-manager makes a guest's disk from disk.cfg without mounting", () => {
  beforeAll(() => needTools("sh", "tar", "sfdisk", "mkfs.ext4", "mkfs.vfat", "mcopy", "mdir", "debugfs", "mkswap", "truncate"));

  it("ext4 from a tar.gz, a filler, vfat from a tar, swap: partitioned (msdos) and filled at their offsets", async () => {
    const dir = tempDir("xg-disk");
    const guest = path.join(dir, "guest");
    fs.mkdirSync(path.join(guest, "disk"), { recursive: true });
    const site = path.join(dir, "site");
    fs.mkdirSync(path.join(site, "www"), { recursive: true });
    fs.writeFileSync(path.join(site, "www/index.html"), "hello from the guest disk\n");
    await execa("tar", ["-czf", path.join(guest, "disk/site.tar.gz"), "-C", site, "."]);
    const fat = path.join(dir, "fat");
    fs.mkdirSync(fat);
    fs.writeFileSync(path.join(fat, "CONFIG.TXT"), "fat content\n");
    await execa("tar", ["-cf", path.join(guest, "disk/boot.tar"), "-C", fat, "."]);
    fs.writeFileSync(path.join(guest, "disk.cfg"), 'DISK_SIZE="256M"\nDISK_DEVICE=""\nDISK_PART1="100M:ext4:site.tar.gz"\nDISK_PART3="64M:vfat:boot.tar"\nDISK_PART4="16M:swap:"\n');

    const r = await managerFn(dir, "make_disk", guest);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const img = path.join(guest, "disk.img");
    expect(fs.statSync(img).size).toBe(256 * MiB);

    const table = JSON.parse((await execa("sfdisk", ["--json", img])).stdout).partitiontable;
    expect(table.label).toBe("dos");
    expect(table.partitions.map((p: { start: number; size: number; type: string }) => [p.start, p.size, p.type])).toEqual([
      [2048, 100 * 2048, "83"],
      [101 * 2048, 2 * 2048, "83"],
      [103 * 2048, 64 * 2048, "c"],
      [167 * 2048, 16 * 2048, "82"],
    ]);

    // ext4: cut the partition out (debugfs takes no offset) and list it.
    const p1 = path.join(dir, "p1.img");
    await execa("dd", [`if=${img}`, `of=${p1}`, "bs=1M", "skip=1", "count=100", "status=none"]);
    const ls = await execa("debugfs", ["-R", "cat /www/index.html", p1]);
    expect(ls.stdout).toBe("hello from the guest disk");
    // FAT: mtools reads at an offset.
    const mdir = await execa("mdir", ["-b", "-i", `${img}@@${103 * MiB}`, "::/"], { env: { MTOOLS_SKIP_CHECK: "1" } });
    expect(mdir.stdout).toContain("CONFIG.TXT");
    const mtype = await execa("mtype", ["-i", `${img}@@${103 * MiB}`, "::/CONFIG.TXT"], { env: { MTOOLS_SKIP_CHECK: "1" } });
    expect(mtype.stdout).toBe("fat content");
    // swap: its signature at the end of the partition's first page.
    const fd = fs.openSync(img, "r");
    const sig = Buffer.alloc(10);
    fs.readSync(fd, sig, 0, 10, 167 * MiB + 4096 - 10);
    fs.closeSync(fd);
    expect(sig.toString()).toBe("SWAPSPACE2");
    expect(fs.readFileSync(path.join(dir, "xenguest.log"), "utf8")).toMatch(/partition 1 100M ext4 from site.tar.gz[\s\S]*partition 2 2M unformatted[\s\S]*partition 3 64M vfat[\s\S]*partition 4 16M swap/);
    // No temp dirs left behind.
    expect(fs.readdirSync(dir).sort()).toEqual(["fat", "guest", "p1.img", "site", "xenguest.log"]);
  });

  it("refuses partitions that do not fit, a missing content and one outside disk/, leaving no disk", async () => {
    const dir = tempDir("xg-disk");
    const guest = path.join(dir, "guest");
    fs.mkdirSync(guest);
    fs.writeFileSync(path.join(guest, "disk.cfg"), 'DISK_SIZE="100M"\nDISK_PART1="100M:ext4:"\n');
    const r = await managerFn(dir, "make_disk", guest);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("the partitions need 101M but DISK_SIZE is 100M");
    fs.writeFileSync(path.join(guest, "disk.cfg"), 'DISK_SIZE="100M"\nDISK_PART1="50M:ext4:gone.tar.gz"\n');
    const r2 = await managerFn(dir, "make_disk", guest);
    expect(r2.exitCode).toBe(1);
    expect(r2.stderr).toContain("gone.tar.gz is not in the image");
    expect(fs.existsSync(path.join(guest, "disk.img"))).toBe(false);
    // Another guest's disk, named through ..: never read into this one.
    fs.mkdirSync(path.join(dir, "other"));
    fs.writeFileSync(path.join(dir, "other", "disk.img"), "another guest's bytes");
    fs.writeFileSync(path.join(guest, "disk.cfg"), 'DISK_SIZE="100M"\nDISK_PART1="2M:none:../../other/disk.img"\n');
    const r3 = await managerFn(dir, "make_disk", guest);
    expect(r3.exitCode).toBe(1);
    expect(r3.stderr).toContain("DISK_PART1: ../../other/disk.img is outside the image's disk/ (..)");
    expect(fs.existsSync(path.join(guest, "disk.img"))).toBe(false);
  });

  it("reads sizes as the original wrote them (bare number and G: 1000M)", async () => {
    const dir = tempDir("xg-size");
    const sizes = await managerFn(dir, "eval", 'for s in 512M 2 2G; do size_mib "$s"; done; size_mib 1.5G || echo bad');
    expect(sizes.stdout.split("\n")).toEqual(["512", "2000", "2000", "bad"]);
  });

  it("runs hooks host-wide first, then the image's, in a subshell with guestname, guestdir, guestcfgfile and params set; a failing hook is named", async () => {
    const dir = tempDir("xg-hooks");
    const conf = path.join(dir, "conf");
    const guestdir = path.join(dir, "lib", "web");
    for (const d of [path.join(conf, "init.pre"), path.join(guestdir, "init.pre")]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(guestdir, "params.cfg"), 'GUEST_AUTOBOOT="1"\nMSG="a & b @ \\"c\\""\n');
    const hook = (file: string, body: string) => fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    hook(path.join(conf, "init.pre/00-host"), 'echo "host hook $guestname"');
    hook(path.join(guestdir, "init.pre/10-image"), 'echo "image hook $guestname $guestdir $guestcfgfile $MSG"; x=changed');
    hook(path.join(guestdir, "init.pre/20-fail"), "false");
    const log = path.join(dir, "xenguest.log");
    const r = await execa("sh", ["-c", `. "$0"; guestname=web guestdir="$1" guestcfgfile="$1/xl.cfg" x=kept; run_hooks init.pre; echo "rc=$? x=$x"`, MANAGER, guestdir], {
      reject: false, env: { XENGUEST_MANAGER_LIB: "1", XENGUEST_LOG: log, XENGUEST_CONF: conf },
    });
    expect(r.stdout).toBe("rc=1 x=kept");
    expect(r.stderr).toContain(`hook ${guestdir}/init.pre/20-fail of web failed`);
    const text = fs.readFileSync(log, "utf8");
    expect(text.indexOf("host hook web")).toBeGreaterThan(-1);
    expect(text.indexOf(`image hook web ${guestdir} ${guestdir}/xl.cfg a & b @ "c"`)).toBeGreaterThan(text.indexOf("host hook web"));
  });

  it("merges guest.cfg and guest.d/* with the image's files made absolute, then the name and the disk", async () => {
    const dir = tempDir("xg-merge");
    const g = path.join(dir, "lib", "web");
    fs.mkdirSync(path.join(g, "guest.d"), { recursive: true });
    fs.writeFileSync(path.join(g, "guest.cfg"), 'memory = 128\nextra = "console=hvc0"\n');
    fs.writeFileSync(path.join(g, "guest.d", "kernel.cfg"), 'kernel = "files/kernel"\n');
    fs.writeFileSync(path.join(g, "guest.d", "a.cfg"), "ramdisk = '/abs/initrd'\n");
    fs.writeFileSync(path.join(g, "disk.img"), "");
    const out = path.join(dir, "xl.cfg");
    const r = await managerFn(dir, "merge_config", g, "web", out);
    expect(r.exitCode).toBe(0);
    const lines = fs.readFileSync(out, "utf8").split("\n").filter(Boolean);
    expect(lines).toEqual(["memory = 128", 'extra = "console=hvc0"', "ramdisk = '/abs/initrd'", `kernel = "${g}/files/kernel"`, 'name = "web"', `disk = [ "format=raw,vdev=xvda,access=rw,target=${g}/disk.img" ]`]);
  });
});

/**
 * Domain 0's side of an image: the manager as the medium has it, on this host, against a stub
 * xl that keeps the domains it "runs" in a file. Everything it may write is under `lib/`.
 */
function domain0(): { dir: string; images: string; victim: string; run: (args: string[], env?: Record<string, string>) => Promise<{ exitCode?: number; stdout: string; stderr: string }>; calls: () => string[] } {
  const dir = tempDir("xg-dom0");
  const images = path.join(dir, "images");
  for (const d of ["bin", "lib", "conf", "images", "outside"]) fs.mkdirSync(path.join(dir, d));
  const victim = path.join(dir, "outside", "authorized_keys");
  fs.writeFileSync(victim, "untouched\n");
  // xl: create -p marks a domain running, destroy and a finished shutdown unmark it; a
  // shutdown of a domain named wedged-* never finishes.
  fs.writeFileSync(path.join(dir, "bin", "xl"), `#!/bin/sh
echo "xl $*" >>"${dir}/xl.calls"
doms="${dir}/xl.running"
touch "$doms"
case $1 in
  create) name=$(sed -n 's/^name = "\\(.*\\)"$/\\1/p' "$3"); echo "$name" >>"$doms" ;;
  domid) grep -qx "$2" "$doms"; exit $? ;;
  destroy) grep -vx "$2" "$doms" >"$doms.new"; mv "$doms.new" "$doms" ;;
  shutdown) case $3 in wedged-*) sleep 1000 ;; esac; grep -vx "$3" "$doms" >"$doms.new"; mv "$doms.new" "$doms" ;;
esac
exit 0
`, { mode: 0o755 });
  const run = (args: string[], env: Record<string, string> = {}) =>
    execa(MANAGER, args, {
      reject: false,
      env: { XENGUEST_PATH: `${path.join(dir, "bin")}:/usr/sbin:/usr/bin:/sbin:/bin`, XENGUEST_DIR: path.join(dir, "lib"), XENGUEST_CONF: path.join(dir, "conf"), XENGUEST_IMAGES: images, XENGUEST_LOG: path.join(dir, "xenguest.log"), TMPDIR: dir, ...env },
    });
  const calls = () => (fs.existsSync(path.join(dir, "xl.calls")) ? fs.readFileSync(path.join(dir, "xl.calls"), "utf8").trim().split("\n") : []);
  return { dir, images, victim, run, calls };
}

const VALID = [
  ["file", "./params.cfg", 'GUEST_AUTOBOOT="1"\n'],
  ["file", "./guest.cfg", 'memory = 64\nkernel = "files/kernel"\n'],
  ["file", "./disk.cfg", 'DISK_SIZE="0"\n'],
  ["dir", "./files"],
  ["file", "./files/kernel", "not a kernel"],
] as const;

describe("xenguest-manager in domain 0 reads an image as untrusted", () => {
  beforeAll(() => needTools("tar", "python3", "awk", "timeout"));

  it("refuses, in one line naming the member, links, .., absolute names, devices, FIFOs and setuid files: nothing written, nothing run", async () => {
    const d = domain0();
    const marker = path.join(d.dir, "outside", "pwned");
    const hostile: [string, Parameters<typeof hostileTar>[1][number], RegExp][] = [
      ["symlinked xl.cfg", ["symlink", "./xl.cfg", d.victim], /member \.\/xl\.cfg: a symbolic link/],
      ["hard link", ["hardlink", "./guest2.cfg", "./guest.cfg"], /member \.\/guest2\.cfg: a hard link to \.\/guest\.cfg/],
      ["..", ["file", "./../outside/evil", "x"], /member \.\/\.\.\/outside\/evil: a name with \.\. in it/],
      ["absolute", ["file", "/tmp/evil-abs", "x"], /member \/tmp\/evil-abs: an absolute name/],
      ["device", ["chardev", "./null"], /member \.\/null: a device node/],
      ["fifo", ["fifo", "./pipe"], /member \.\/pipe: a FIFO/],
      ["setuid", ["setuid", "./files/sh"], /member \.\/files\/sh: setuid or setgid/],
    ];
    for (const [what, member, message] of hostile) {
      const image = path.join(d.dir, "evil.xenguest");
      await hostileTar(image, [...VALID.map((m) => [...m] as Parameters<typeof hostileTar>[1][number]), member]);
      const r = await d.run(["create", image, "evil"]);
      expect(r.exitCode, what).toBe(1);
      expect(r.stderr.trim().split("\n"), what).toHaveLength(1);
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).toContain("refused, nothing written");
      expect(fs.readdirSync(path.join(d.dir, "lib")), what).toEqual([]);
    }
    // Data, not scripts: an expansion in params.cfg or disk.cfg is refused with its line, and never runs.
    for (const [file, text] of [["./params.cfg", `GUEST_AUTOBOOT="1"\nNAME="$(touch ${marker})"\n`], ["./disk.cfg", `DISK_SIZE="\`touch ${marker}\`"\n`], ["./params.cfg", "PATH=/tmp\n"]] as const) {
      const image = path.join(d.dir, "evil.xenguest");
      await hostileTar(image, [...VALID.filter((m) => m[1] !== file).map((m) => [...m] as Parameters<typeof hostileTar>[1][number]), ["file", file, text]]);
      const r = await d.run(["create", image, "evil"]);
      expect(r.exitCode, text).toBe(1);
      expect(r.stderr, text).toMatch(new RegExp(`${file.slice(2).replace(".", "\\.")}: line \\d: (NAME|DISK_SIZE): uses a shell expansion|params\\.cfg: line 1: PATH: a name the manager and the hooks rely on`));
      expect(fs.readdirSync(path.join(d.dir, "lib")), text).toEqual([]);
    }
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.existsSync("/tmp/evil-abs")).toBe(false);
    expect(fs.readFileSync(d.victim, "utf8")).toBe("untouched\n");
    expect(fs.readdirSync(path.join(d.dir, "outside")).sort()).toEqual(["authorized_keys"]);
    expect(d.calls()).toEqual([]);
  });

  it("starts an image on the medium without a create first; writes xl.cfg afresh, never through a link; hooks see the parsed params", async () => {
    const d = domain0();
    await hostileTar(path.join(d.images, "web.xenguest"), [
      ...VALID.filter((m) => m[1] !== "./params.cfg").map((m) => [...m] as Parameters<typeof hostileTar>[1][number]),
      ["file", "./params.cfg", 'GUEST_AUTOBOOT="1"\nGREETING="a & b @ \\"c\\" $ d"\n'],
      ["dir", "./init.post"],
    ]);
    fs.mkdirSync(path.join(d.dir, "conf", "init.post"));
    fs.writeFileSync(path.join(d.dir, "conf", "init.post", "10-show"), '#!/bin/sh\necho "post $guestname: $GREETING"\n', { mode: 0o755 });
    const r = await d.run(["start", "web"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("xenguest-manager: guest web started");
    expect(fs.readFileSync(path.join(d.dir, "xenguest.log"), "utf8")).toContain('post web: a & b @ "c" $ d');
    const guestdir = path.join(d.dir, "lib", "web");
    expect(d.calls()).toEqual([`xl domid web`, `xl create -p ${guestdir}/xl.cfg`, "xl unpause web"]);

    // A link planted where xl.cfg goes (by anything) is replaced, not written through.
    await d.run(["stop", "web"]);
    fs.rmSync(path.join(guestdir, "xl.cfg"));
    fs.symlinkSync(d.victim, path.join(guestdir, "xl.cfg"));
    expect((await d.run(["start", "web"])).exitCode).toBe(0);
    expect(fs.readFileSync(d.victim, "utf8")).toBe("untouched\n");
    expect(fs.lstatSync(path.join(guestdir, "xl.cfg")).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(guestdir, "xl.cfg"), "utf8")).toContain(`kernel = "${guestdir}/files/kernel"`);
  });

  it("a failing init.post hook is named and leaves the running guest running, unless --destroy-on-failure", async () => {
    const d = domain0();
    await hostileTar(path.join(d.images, "web.xenguest"), VALID.map((m) => [...m] as Parameters<typeof hostileTar>[1][number]));
    fs.mkdirSync(path.join(d.dir, "conf", "init.post"));
    fs.writeFileSync(path.join(d.dir, "conf", "init.post", "10-fail"), "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    const r = await d.run(["start", "web"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`hook ${path.join(d.dir, "conf/init.post/10-fail")} of web failed`);
    expect(r.stderr).toContain("guest web started, but an init.post hook failed");
    expect((await d.run(["status", "web"])).stdout).toBe("web: running");
    await d.run(["stop", "web"]);
    const strict = await d.run(["start", "web", "--destroy-on-failure"]);
    expect(strict.exitCode).toBe(1);
    expect(strict.stderr).toContain("its domain was destroyed (--destroy-on-failure)");
    expect((await d.run(["status", "web"])).stdout).toBe("web: stopped");
  });

  it("stop waits a bounded time for a wedged guest, says so, and --kill destroys it", async () => {
    const d = domain0();
    await hostileTar(path.join(d.images, "wedged-1.xenguest"), VALID.map((m) => [...m] as Parameters<typeof hostileTar>[1][number]));
    expect((await d.run(["start", "wedged-1"])).exitCode).toBe(0);
    const started = Date.now();
    const r = await d.run(["stop", "wedged-1"], { XENGUEST_STOP_TIMEOUT: "2" });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("guest wedged-1 did not shut down within 2s (stop wedged-1 --kill destroys it)");
    const k = await d.run(["stop", "wedged-1", "--kill"], { XENGUEST_STOP_TIMEOUT: "2" });
    expect(k.exitCode).toBe(0);
    expect(k.stdout).toContain("guest wedged-1 destroyed");
    expect(Date.now() - started).toBeLessThan(60_000);
    expect((await d.run(["status", "wedged-1"])).stdout).toBe("wedged-1: stopped");
  });
});
