import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { democd, expectOneCleanError } from "../helpers/cli.ts";
import { sandbox } from "../helpers/hostile.ts";
import { tempDir } from "../helpers/temp.ts";
import { needTools } from "../helpers/tools.ts";

const xg = (...args: string[]) => democd(["xenguest", ...args]);
const read = (f: string) => fs.readFileSync(f);

function inputs(dir: string) {
  const f = (name: string, data: string | Buffer, mode = 0o644) => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data, { mode });
    return p;
  };
  return {
    kernel: f("in/vmlinuz", Buffer.alloc(70000, 7)),
    ramdisk: f("in/initrd.img", Buffer.alloc(30000, 3)),
    site: f("in/site.tar.gz", Buffer.alloc(2048, 1)),
    net: f("in/hooks/net.sh", "#!/bin/sh\necho net $guestname\n", 0o755),
    announce: f("in/hooks/announce.sh", "#!/bin/sh\necho up $guestname\n", 0o755),
  };
}

describe("democd xenguest (real tar, temp dirs removed)", () => {
  beforeAll(() => needTools("tar", "python3"));

  it("create -> check -> update -> extract -> pack gives the same bytes; dumps never write", async () => {
    const dir = tempDir("xg-int");
    const i = inputs(dir);
    const img = path.join(dir, "web.xenguest");
    const c = await xg("create", img, `--xen-kernel=${i.kernel}`, `--xen-ramdisk=${i.ramdisk}`, "--xen-memory=192", "--xen-extra=console=hvc0 4",
      `--init-pre=${i.net}`, `--init-post=${i.announce}`, "--disk-size=1G", `--disk-add-file=${i.site}:site.tar.gz`,
      "--disk-add-part=1:512M:ext4:site.tar.gz", "--set-param=GUEST_AUTOBOOT=1", '--set-param=MOTD=a "quoted" & @ $x');
    expect(c.stderr).toBe("");
    expect(c.exitCode).toBe(0);
    expect((await xg("check", img)).stdout).toBe(`${img}: valid`);
    const list = (await execa("tar", ["-tvf", img, "./guest.cfg", "./disk.cfg", "./params.cfg"])).stdout;
    expect(list.split("\n")).toHaveLength(3);
    expect(list).toMatch(/^-rw-r--r-- 0\/0 .* 1970-01-01 00:00 \.\/guest\.cfg$/m);

    const before = read(img);
    const dump = await xg("dump-xenconfig", img);
    expect(dump.stdout).toMatch(/^memory = 192$/m);
    expect(dump.stdout).toMatch(/^extra = "console=hvc0 rw console=hvc0 4"$/m);
    expect(dump.stdout.indexOf('kernel = "files/kernel"')).toBeGreaterThan(dump.stdout.indexOf("memory = 192"));
    expect((await xg("dump-diskconfig", img)).stdout).toContain('DISK_PART1="512M:ext4:site.tar.gz"');
    expect((await xg("dump-paramsconfig", img)).stdout).toContain('MOTD="a \\"quoted\\" & @ \\$x"');
    expect((await xg("dump-init", img)).stdout).toMatch(/=== init\.pre\/net\.sh ===[\s\S]*=== init\.post\/announce\.sh ===/);
    expect(read(img).equals(before)).toBe(true);

    expect((await xg("update", img, "--xen-memory=256")).exitCode).toBe(0);
    expect((await xg("dump-xenconfig", img)).stdout).toMatch(/^memory = 256$/m);
    const updated = read(img);
    const out = path.join(dir, "web");
    expect((await xg("extract", img, out)).exitCode).toBe(0);
    expect(fs.statSync(path.join(out, "init.pre/net.sh")).mode & 0o777).toBe(0o755);
    const img2 = path.join(dir, "web2.xenguest");
    expect((await xg("pack", out, img2)).exitCode).toBe(0);
    expect(read(img2).equals(updated)).toBe(true);
    // The directory image is edited in place, as the file.
    expect((await xg("update", out, "--xen-vcpus=2")).exitCode).toBe(0);
    expect((await xg("dump-xenconfig", out)).stdout).toMatch(/^vcpus = 2$/m);
    expect(fs.readdirSync(dir).sort()).toEqual(["in", "web", "web.xenguest", "web2.xenguest"]);
  });

  it("bad options, bad values and an invalid result: every problem at once, exit 1, nothing changed", async () => {
    const dir = tempDir("xg-int");
    const i = inputs(dir);
    const img = path.join(dir, "web.xenguest");
    expect((await xg("create", img, `--xen-kernel=${i.kernel}`, "--disk-size=256M")).exitCode).toBe(0);
    const before = read(img);
    const r = await xg("update", img, "--xen-memory=big", "--disk-add-part=7:1:xfs:", "--disk-add-part=1:300M:ext4:", "--xen-ramdisk=/nonexistent");
    expectOneCleanError(r, /not updated \(nothing was changed\)/);
    for (const s of ["--xen-memory=big", "partition numbers are 1 to 4", "needs a unit", "xfs", "/nonexistent"]) expect(r.stderr).toContain(s);
    const fit = await xg("update", img, "--disk-add-part=1:300M:ext4:");
    expectOneCleanError(fit, /the partitions need 301M .* DISK_SIZE is 256M/);
    const unknown = await xg("update", img, "--xen-colour=blue");
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/unknown option '--xen-colour=blue'/);
    expect(read(img).equals(before)).toBe(true);
    expectOneCleanError(await xg("create", img), /already exists/);
    expect(fs.readdirSync(dir).sort()).toEqual(["in", "web.xenguest"]);
  });

  it("a missing required member: one line naming it", async () => {
    const dir = tempDir("xg-int");
    fs.mkdirSync(path.join(dir, "g"));
    fs.writeFileSync(path.join(dir, "g/guest.cfg"), "memory = 64\n");
    fs.writeFileSync(path.join(dir, "g/params.cfg"), "");
    const tar = path.join(dir, "g.xenguest");
    await execa("tar", ["-C", path.join(dir, "g"), "-cf", tar, "."]);
    const r = await xg("check", tar);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe(`${tar}: disk.cfg: missing (a xenguest image needs params.cfg, guest.cfg and disk.cfg)`);
    expectOneCleanError(await xg("update", tar, "--xen-memory=128"), /disk\.cfg: missing/);
    expectOneCleanError(await xg("extract", tar, path.join(dir, "out")), /disk\.cfg: missing/);
    expect(fs.existsSync(path.join(dir, "out"))).toBe(false);
  });

  it("hostile tars are refused in one line naming the members, and nothing is written", async () => {
    const s = sandbox();
    const before = s.snapshot();
    const evil = path.join(s.work, "evil.xenguest");
    const script = `
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, kind="file", data=b"x", link=None):
        i = tarfile.TarInfo(name); i.mode = 0o644
        if kind == "sym": i.type = tarfile.SYMTYPE; i.linkname = link
        elif kind == "hard": i.type = tarfile.LNKTYPE; i.linkname = link
        else: i.size = len(data)
        t.addfile(i, io.BytesIO(data) if kind == "file" else None)
    for n in ["./params.cfg", "./guest.cfg", "./disk.cfg"]: add(n, data=b'DISK_SIZE="0"\\n' if n == "./disk.cfg" else b"")
    add("../escaped"); add(sys.argv[2] + "/abs")
    add("./files", "sym", link=sys.argv[2]); add("./files/through", data=b"pwned")
    add("./hard", "hard", link=sys.argv[2] + "/victim")
`;
    await execa("python3", ["-c", script, evil, s.outside]);
    const out = path.join(s.base, "inside");
    const r = await xg("extract", evil, out);
    expectOneCleanError(r, /refused: "\.\.\/escaped": '\.\.' in the path; ".*\/abs": absolute path; "\.\/files": a symlink.*; "\.\/hard": a hard link/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(fs.existsSync(out)).toBe(false);
    const chk = await xg("check", evil);
    expect(chk.exitCode).toBe(1);
    const evilBytes = read(evil);
    expect((await xg("update", evil, "--xen-memory=64")).exitCode).toBe(1);
    expect(read(evil).equals(evilBytes)).toBe(true);
    expect(s.snapshot()).toEqual(before);
    expect(fs.readdirSync(s.work)).toEqual(["evil.xenguest"]);
  });

  it("an image in the original xenguest-mkimage's layout (made by GNU tar) is accepted, dumped and updated", async () => {
    const dir = tempDir("xg-orig");
    const g = path.join(dir, "orig");
    const w = (rel: string, text: string | Buffer, mode = 0o644) => {
      fs.mkdirSync(path.dirname(path.join(g, rel)), { recursive: true });
      fs.writeFileSync(path.join(g, rel), text, { mode });
    };
    // What xenguest-mkimage create ... --xen-kernel=K --disk-size=2 --disk-add-file=R:rootfs.tar.gz
    // --disk-add-part=1:1:ext4:rootfs.tar.gz --init-script=S writes, byte for byte in its texts.
    w("params.cfg", `# Xenguest-image guest global configuration\n#\n# !! This file must not be modified manually !!\n#\n# You can use xenguest-image to modify parameters.\n#\n\n# Guest auto boot during Dom0 init\nGUEST_AUTOBOOT="1"\n`);
    w("guest.cfg", `# Xenguest-image main configuraiton\n#\n# !! This file must not be modified manually !!\n#\n# You can use xenguest-image to modify parameters.\n#\n# You can add custom entries to configuration in the guest.d directory.\n\n# Guest name (set by manager when guest is created)\n# name = ""\n\n# Guest memory size in MB\nmemory = 1024\n\n# Number of VCPUS\nvcpus = 1\n\n# Guest command line\nextra = "earlyprintk=xenboot console=hvc0 rw"\n\n# Guest root filesystem device (from guest point of view)\n# root = "/dev/xvda2"\n\n# Disk that will be used by the guest (set by manager when guest is created)\n# disk = ['phy:/dev/vg-xen/guestname,xvda,w']\n\n`);
    w("disk.cfg", `DISK_SIZE="2000M"\nDISK_DEVICE=""\nDISK_PART1="1000M:ext4:rootfs.tar.gz"\n`);
    w("guest.d/kernel.cfg", `kernel = "files/kernel"\n`);
    w("files/kernel", Buffer.alloc(4096, 9));
    w("disk/rootfs.tar.gz", Buffer.alloc(1024, 2));
    w("init.d/setup.sh", "#!/bin/sh\ntrue\n", 0o755);
    const img = path.join(dir, "orig.xenguest");
    await execa("tar", ["-C", g, "-cf", img, "."]);

    expect((await xg("check", img)).stdout).toBe(`${img}: valid`);
    const dump = (await xg("dump-xenconfig", img)).stdout;
    expect(dump).toContain('extra = "earlyprintk=xenboot console=hvc0 rw"');
    expect(dump).toContain("# disk = ['phy:/dev/vg-xen/guestname,xvda,w']");
    expect(dump).toContain('kernel = "files/kernel"');
    const u = await xg("update", img, "--xen-memory=256", "--xen-name=web", "--xen-extra=quiet", "--disk-add-part=2:500M:vfat:");
    expect(u.stderr).toBe("");
    const after = (await xg("dump-xenconfig", img)).stdout;
    expect(after).toMatch(/^memory = 256$/m);
    expect(after).toMatch(/^name = "web"$/m);
    expect(after).toMatch(/^extra = "earlyprintk=xenboot console=hvc0 rw quiet"$/m);
    expect(after).toContain("# Xenguest-image main configuraiton");
    expect((await xg("dump-diskconfig", img)).stdout).toBe(`DISK_SIZE="2000M"\nDISK_DEVICE=""\nDISK_PART1="1000M:ext4:rootfs.tar.gz"\nDISK_PART2="500M:vfat:"`);
    // Still what the original's check and manager look for.
    await execa("tar", ["-tvf", img, "./guest.cfg", "./disk.cfg", "./params.cfg"]);
    const listing = (await execa("tar", ["-tvf", img])).stdout;
    expect(listing).toMatch(/^-rwxr-xr-x .* \.\/init\.d\/setup\.sh$/m);
  });
});
