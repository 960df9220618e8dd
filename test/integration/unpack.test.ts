import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { execa } from "execa";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { writeCpio } from "../../src/archive/cpio.ts";
import { fileSha256 } from "../../src/hash.ts";
import { democd, expectOneCleanError, scratch } from "../helpers/cli.ts";
import { hostileTar, sandbox } from "../helpers/hostile.ts";
import { listIso, xorrisoReport } from "../helpers/iso.ts";
import { needTools } from "../helpers/tools.ts";

const iso = inject("isoPath");
const diskBase = inject("diskBase");

const debianIso = inject("debianIsoPath");

describe("unpack-iso and build --from on the default (debian) medium", () => {
  it("links again what the medium stores once (Debian's hard links), so the rebuild is the same medium", async () => {
    await needTools("xorriso");
    const { dir, buildDir } = scratch();
    const target = path.join(dir, "mydemo");
    const u = await democd(["unpack-iso", debianIso, target]);
    expect(u.exitCode, u.stderr).toBe(0);
    const perl = fs.statSync(path.join(target, "usr/bin/perl"));
    expect(perl.nlink).toBe(2);
    expect(fs.statSync(path.join(target, "usr/bin/perl5.36.0")).ino).toBe(perl.ino);
    const out = path.join(dir, "rebuilt.iso");
    const b = await democd(["build", "--from", target, "--build-dir", buildDir, "--out", out]);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(await fileSha256(out)).toBe(await fileSha256(debianIso));
  });
});

describe("unpack-iso and build --from on a democd medium", () => {
  beforeAll(() => needTools("xorriso", "tar", "python3"));

  it("unpacks into editable trees and rebuilds the very same medium", async () => {
    const { dir, buildDir } = scratch();
    const target = path.join(dir, "mydemo");
    const u = await democd(["unpack-iso", iso, target]);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(fs.readdirSync(target).sort()).toEqual(["democd.json", "irtree", "root", "rootpatch", "usr", "work"]);
    expect(fs.readdirSync(path.join(target, "rootpatch"))).toEqual([]);
    expect(fs.readlinkSync(path.join(target, "root/bin"))).toBe("usr/bin");
    expect(fs.statSync(path.join(target, "root/etc/shadow")).mode & 0o777).toBe(0o600);
    expect(fs.readlinkSync(path.join(target, "irtree/init"))).toBe("linuxrc");
    expect(fs.statSync(path.join(target, "irtree/dev/console")).isCharacterDevice()).toBe(true);
    expect(fs.existsSync(path.join(target, "usr/bin/busybox"))).toBe(true);
    expect(fs.existsSync(path.join(target, "usr/boot"))).toBe(false);
    for (const f of ["vmlinuz", "xen.gz", "grub/grub.cfg"]) expect(fs.existsSync(path.join(target, "work/boot", f)), f).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(target, "democd.json"), "utf8")).version).toBe("9.9-test");

    const out = path.join(dir, "rebuilt.iso");
    const b = await democd(["build", "--from", target, "--out", out, "--build-dir", buildDir]);
    expect(b.exitCode, b.stderr).toBe(0);
    // Same files, modes, owners, symlinks and archive members: the same bytes.
    expect(await fileSha256(out)).toBe(await fileSha256(iso));
  });

  it("is a source like a profile: its disk image boots the original build's menu and motd, and what it cannot apply is refused before any work", async () => {
    await needTools("sfdisk", "debugfs");
    const { dir, buildDir } = scratch();
    const target = path.join(dir, "mydemo");
    expect((await democd(["unpack-iso", iso, target])).exitCode).toBe(0);
    const out = path.join(dir, "again");
    const b = await democd(["build", "--from", target, "--format", "iso,raw", "--out", out, "--build-dir", buildDir]);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(await fileSha256(`${out}.iso`)).toBe(await fileSha256(iso));
    // The installed system the build that made the medium wrote: its menu (same root UUID: same
    // size and ids), fstab and installed-system motd. (Not every byte: Rock Ridge on the medium
    // kept no write bits, so the unpacked files are 0444 where the build's were 0644.)
    const cat = async (raw: string, f: string) => {
      const table = JSON.parse((await execa("sfdisk", ["--json", raw])).stdout) as { partitiontable: { partitions: { start: number }[] } };
      return (await execa("debugfs", ["-R", `cat ${f}`, `${raw}?offset=${table.partitiontable.partitions[2].start * 512}`])).stdout;
    };
    for (const f of ["/boot/grub/grub.cfg", "/etc/fstab", "/etc/motd"]) expect(await cat(`${out}.raw`, f), f).toBe(await cat(`${diskBase}.raw`, f));
    expect(await cat(`${out}.raw`, "/etc/motd")).toContain("installed on this disk");

    const refused = await democd(["build", "--from", target, "--root-password", "other", "--xen-args", "loglvl=all", "--out", path.join(dir, "x.iso"), "--build-dir", buildDir]);
    expectOneCleanError(refused, /invalid configuration:\n\s+boot\.xenArgs: .* keeps what its medium was built with \("bootscrub=false"\); edit .*work\/boot\/grub\/grub\.cfg instead\n\s+rootPassword: .*; edit .*root\/etc\/shadow instead/);
    expect(refused.stderr).not.toContain("other\n");
    expect(fs.existsSync(path.join(dir, "x.iso"))).toBe(false);

    // A menu edited by hand: the ISO keeps it; disk images, which render their own, are refused.
    fs.appendFileSync(path.join(target, "work/boot/grub/grub.cfg"), "# edited\n");
    const edited = await democd(["build", "--from", target, "--format", "iso,qcow2", "--out", path.join(dir, "y"), "--build-dir", buildDir]);
    expectOneCleanError(edited, /formats: qcow2: .*grub\.cfg is not the menu democd renders from .*democd\.json/);
  });

  it("an edit under root/ lands in the rebuilt medium's root.tar.gz; a rootpatch overlays it", async () => {
    const { dir, buildDir } = scratch();
    const target = path.join(dir, "mydemo");
    expect((await democd(["unpack-iso", iso, target])).exitCode).toBe(0);
    fs.appendFileSync(path.join(target, "root/etc/motd"), "Welcome from the edited CD\n");
    fs.mkdirSync(path.join(target, "rootpatch/etc"), { recursive: true });
    fs.writeFileSync(path.join(target, "rootpatch/etc/banner"), "from rootpatch\n");
    const out = path.join(dir, "edited.iso");
    const b = await democd(["build", "--from", target, "--out", out, "--build-dir", buildDir]);
    expect(b.exitCode, b.stderr).toBe(0);
    const x = path.join(dir, "x");
    await execa("xorriso", ["-osirrox", "on", "-indev", out, "-extract", "/democd/root.tar.gz", x]);
    expect((await execa("tar", ["-xOzf", x, "./etc/motd"])).stdout).toContain("Welcome from the edited CD");
    expect((await execa("tar", ["-xOzf", x, "./etc/banner"])).stdout).toBe("from rootpatch");
    // The user's unpacked tree is left as it was.
    expect(fs.existsSync(path.join(target, "root/etc/banner"))).toBe(false);
  });

  it("refuses a non-empty target without --force, leaving it untouched; --force replaces it", async () => {
    const { dir } = scratch();
    const target = path.join(dir, "busy");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "precious"), "keep me");
    expectOneCleanError(await democd(["unpack-iso", iso, target]), /busy is not empty \(choose a new directory, or --force to replace it\)/);
    expect(fs.readFileSync(path.join(target, "precious"), "utf8")).toBe("keep me");
    const bad = await democd(["unpack-iso", path.join(dir, "missing.iso"), target, "--force"]);
    expectOneCleanError(bad, /missing\.iso does not exist/);
    expect(fs.readFileSync(path.join(target, "precious"), "utf8")).toBe("keep me");
    expect((await democd(["unpack-iso", iso, target, "--force"])).exitCode).toBe(0);
    expect(fs.existsSync(path.join(target, "precious"))).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes(".unpack-") || n.includes(".old-"))).toEqual([]);
  });

  it("a truncated ISO and a file that is no ISO fail with one line", async () => {
    const { dir } = scratch();
    const notIso = path.join(dir, "notes.iso");
    fs.writeFileSync(notIso, "just some text\n".repeat(5000));
    expectOneCleanError(await democd(["unpack-iso", notIso, path.join(dir, "a")]), /notes\.iso is not an ISO 9660 image/);
    const truncated = path.join(dir, "truncated.iso");
    const fd = fs.openSync(iso, "r");
    const head = Buffer.alloc(40 * 1024 * 1024);
    fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    fs.writeFileSync(truncated, head);
    const r = await democd(["unpack-iso", truncated, path.join(dir, "b")]);
    expectOneCleanError(r, /^democd: error: .*truncated\.iso is truncated: 41943040 bytes of the \d+ its volume descriptor declares/m);
    expect(fs.existsSync(path.join(dir, "b"))).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes(".unpack-"))).toEqual([]);
  });
});

describe("a hostile medium changes nothing outside the target", () => {
  beforeAll(() => needTools("xorriso", "python3"));

  it("refuses escaping members of root.tar.gz and the initrd, and keeps Rock Ridge links as links", async () => {
    const s = sandbox();
    const before = s.snapshot();
    const medium = path.join(s.work, "medium");
    fs.mkdirSync(path.join(medium, "democd"), { recursive: true });
    fs.mkdirSync(path.join(medium, "boot"));
    fs.writeFileSync(path.join(medium, "democd/id"), "democd-evil\n");
    fs.writeFileSync(path.join(medium, "democd/build.json"), JSON.stringify({ id: "democd-evil", sourceDateEpoch: 1700000000, config: { version: "6.6.6" } }));
    await hostileTar(path.join(medium, "democd/root.tar.gz"), [
      ["dir", "etc"],
      ["file", "etc/motd", "hello"],
      ["file", "../../outside/dropped", "pwned"],
      ["file", `${s.outside}/abs`, "pwned"],
      ["symlink", "escape", s.outside],
      ["file", "escape/through", "pwned"],
      ["hardlink", "hl", `${s.outside}/victim`],
    ]);
    const cpioEntry = (name: string, type: "file" | "symlink", data: string) => ({ name, type, perm: 0o644, uid: 0, gid: 0, mtime: 1, data: Buffer.from(data) });
    fs.writeFileSync(path.join(medium, "boot/initrd.img"), zlib.gzipSync(writeCpio([
      cpioEntry("init", "file", "#!/bin/sh"), cpioEntry("../../../outside/ir", "file", "pwned"), cpioEntry("up", "symlink", s.outside), cpioEntry("up/ir2", "file", "pwned"),
    ])));
    fs.symlinkSync(s.outside, path.join(medium, "rr-escape"));
    const hostile = path.join(s.work, "hostile.iso");
    await execa("xorriso", ["-as", "mkisofs", "-r", "-o", hostile, medium]);

    const r = await democd(["unpack-iso", hostile, s.inside]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(s.snapshot()).toEqual(before);
    const refused = r.stderr.split("\n").filter((l) => l.includes("refused"));
    expect(refused.length).toBe(6);
    expect(r.stderr).toMatch(/refused root\.tar\.gz: "\.\.\/\.\.\/outside\/dropped": '\.\.' in the path/);
    expect(r.stderr).toMatch(/refused root\.tar\.gz: "escape\/through": its parent escape is a symlink/);
    expect(r.stderr).toMatch(/refused initrd\.img: "up\/ir2": its parent up is a symlink/);
    expect(fs.readlinkSync(path.join(s.inside, "usr/rr-escape"))).toBe(s.outside);
    expect(fs.readFileSync(path.join(s.inside, "root/etc/motd"), "utf8")).toBe("hello");
  });

  it("never reads, moves or deletes through a /democd symlink or boot-config paths that leave the medium", async () => {
    const s = sandbox();
    fs.writeFileSync(path.join(s.outside, "id"), "democd-x\n");
    fs.writeFileSync(path.join(s.outside, "build.json"), "{}");
    fs.writeFileSync(path.join(s.outside, "root.tar.gz"), "precious");
    fs.writeFileSync(path.join(s.outside, "secret.cpio"), writeCpio([{ name: "secret", type: "file", perm: 0o600, uid: 0, gid: 0, mtime: 1, data: Buffer.from("top secret") }]));
    const before = s.snapshot();
    const medium = path.join(s.work, "medium");
    fs.mkdirSync(path.join(medium, "boot"), { recursive: true });
    fs.writeFileSync(path.join(medium, "boot/initrd.img"), "x");
    fs.symlinkSync(s.outside, path.join(medium, "democd"));
    const linked = path.join(s.work, "linked.iso");
    await execa("xorriso", ["-as", "mkisofs", "-r", "-o", linked, medium]);
    const r = await democd(["unpack-iso", linked, s.inside]);
    expectOneCleanError(r, /\/democd or \/democd\/id on the medium is a symlink; refusing to follow it/);
    expect(s.snapshot()).toEqual(before);
    expect(fs.existsSync(s.inside)).toBe(false);

    const foreign = path.join(s.work, "foreign");
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, "isolinux.cfg"), `LABEL x\n KERNEL vmlinuz\n APPEND initrd=../../../../../../..${s.outside}/secret.cpio,../outside/secret.cpio\n`);
    fs.symlinkSync(path.join(s.outside, "secret.cpio"), path.join(foreign, "initrd.lnk"));
    fs.appendFileSync(path.join(foreign, "isolinux.cfg"), "LABEL y\n KERNEL vmlinuz\n INITRD initrd.lnk\n");
    const fiso = path.join(s.work, "foreign.iso");
    await execa("xorriso", ["-as", "mkisofs", "-r", "-o", fiso, foreign]);
    const f = await democd(["unpack-iso", fiso, path.join(s.work, "f")]);
    expect(f.exitCode, f.stderr).toBe(0);
    expect(fs.readdirSync(path.join(s.work, "f/irtree"))).toEqual([]);
    expect(f.stderr).toMatch(/initrd\.lnk: named by a boot config but not a file on the medium/);
    expect(s.snapshot()).toEqual(before);
  });

  it("build --from refuses a rootpatch that would write through a root symlink pointing outside", async () => {
    const s = sandbox();
    const { buildDir } = scratch();
    expect((await democd(["unpack-iso", iso, s.inside])).exitCode).toBe(0);
    fs.rmSync(path.join(s.inside, "root/etc"), { recursive: true });
    fs.symlinkSync(s.outside, path.join(s.inside, "root/etc"));
    fs.mkdirSync(path.join(s.inside, "rootpatch/etc"), { recursive: true });
    fs.writeFileSync(path.join(s.inside, "rootpatch/etc/victim"), "pwned");
    const before = s.snapshot();
    const r = await democd(["build", "--from", s.inside, "--out", path.join(s.work, "x.iso"), "--build-dir", buildDir]);
    expectOneCleanError(r, /rootpatch\/etc: the root's etc is a symlink .*refusing to write through it/);
    expect(s.snapshot()).toEqual(before);
    expect(fs.existsSync(path.join(s.work, "x.iso"))).toBe(false);
  });
});

describe("a third-party ISO (Debian's iPXE image)", () => {
  const ipxe = "/usr/lib/ipxe/ipxe.iso";
  beforeAll(() => {
    if (!fs.existsSync(ipxe)) throw new Error(`${ipxe} is missing (apt-get install ipxe)`);
  });

  it("unpacks as a plain medium, reports its boot config, and rebuilds with its own boot records", async () => {
    const { dir, buildDir } = scratch();
    const target = path.join(dir, "ipxe");
    const u = await democd(["unpack-iso", ipxe, target]);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stderr).toMatch(/not a democd medium/);
    expect(u.stderr).toMatch(/syslinux config \/isolinux\.cfg: kernels \/ipxe\.krn/);
    const out = path.join(dir, "ipxe-rebuilt.iso");
    const b = await democd(["build", "--from", target, "--out", out, "--build-dir", buildDir]);
    expect(b.exitCode, b.stderr).toBe(0);

    expect(await listIso(out)).toEqual(await listIso(ipxe));
    const eltorito = (f: string) => xorrisoReport(f, "-report_el_torito").then((t) => t.split("\n").filter((l) => /^El Torito (boot img|img path|img opts)/.test(l)));
    expect(await eltorito(out)).toEqual(await eltorito(ipxe));
    const area = (f: string) => xorrisoReport(f, "-report_system_area").then((t) => t.split("\n").filter((l) => /^(System area|MBR|GPT)/.test(l)));
    expect(await area(out)).toEqual(await area(ipxe));
  });
});
