import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";
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

  it("refuses partitions that do not fit, and a missing content, leaving no disk", async () => {
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
