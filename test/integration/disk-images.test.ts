import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { sha256 } from "../../src/hash.ts";
import { diskLayout, MiB, PART_TYPES } from "../../src/disk/layout.ts";
import { democd, expectOneCleanError, scratch } from "../helpers/cli.ts";
import { TEST_BUILD_DIR } from "../helpers/paths.ts";
import { needTools } from "../helpers/tools.ts";
import { fileFromDeb } from "../helpers/deb.ts";

const base = inject("diskBase");
const raw = `${base}.raw`;
const CONVERTED = [
  { file: `${base}.qcow2`, format: "qcow2", checks: true },
  { file: `${base}.vhd`, format: "vpc", checks: false },
  { file: `${base}-fixed.vhd`, format: "vpc", checks: false },
  { file: `${base}.vmdk`, format: "vmdk", checks: true },
];

interface Entry { mode: number; uid: number; gid: number; size: number }

/** Every entry of an ext4 file system in the image, read by debugfs (no mount): path -> mode, owner, size. */
async function listExt4(image: string, offset: number, dirs: string[]): Promise<Map<string, Entry>> {
  const script = path.join(path.dirname(image), "ls.debugfs");
  fs.writeFileSync(script, dirs.map((d) => `ls -p "/${d}"`).join("\n") + "\n");
  const { stdout } = await execa("debugfs", ["-f", script, `${image}?offset=${offset}`]);
  fs.rmSync(script);
  const out = new Map<string, Entry>();
  let dir = "";
  for (const line of stdout.split("\n")) {
    const cmd = /^debugfs: ls -p "\/(.*)"$/.exec(line);
    if (cmd) { dir = cmd[1]; continue; }
    const m = /^\/(\d+)\/(\d+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line);
    if (!m || m[5] === "." || m[5] === "..") continue;
    out.set(dir ? `${dir}/${m[5]}` : m[5], { mode: parseInt(m[2], 8), uid: Number(m[3]), gid: Number(m[4]), size: Number(m[6] || 0) });
  }
  return out;
}

/** What the image's root must hold: the build's root tree, usr/ and boot/, as the build left them. */
function expectedTree(): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const asRoot = process.getuid?.() === 0;
  const walk = (dir: string, prefix: string) => {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      out.set(prefix + name, { mode: st.mode, uid: asRoot ? st.uid : 0, gid: asRoot ? st.gid : 0, size: st.isFile() ? st.size : 0 });
      if (st.isDirectory()) walk(p, `${prefix}${name}/`);
    }
  };
  walk(path.join(TEST_BUILD_DIR, "root"), "");
  out.delete("usr");
  walk(path.join(TEST_BUILD_DIR, "usr"), "usr/");
  return out;
}

let layout: ReturnType<typeof diskLayout>;
beforeAll(async () => {
  await needTools("qemu-img", "sfdisk", "debugfs", "e2fsck", "mdir");
  const id = fs.readFileSync(path.join(TEST_BUILD_DIR, "work/democd/id"), "utf8").trim();
  const size = fs.statSync(raw).size;
  layout = diskLayout(size, sha256(`${id}\0disk\0${size}`));
});

describe("disk images of the minimal build", () => {
  it("every conversion passes qemu-img check and holds exactly the raw disk's content", async () => {
    for (const c of CONVERTED) {
      if (c.checks) {
        const r = await execa("qemu-img", ["check", "-f", c.format, c.file], { reject: false });
        expect(r.exitCode, `${c.file}: ${r.stdout}${r.stderr}`).toBe(0);
      }
      const cmp = await execa("qemu-img", ["compare", "-f", "raw", "-F", c.format, raw, c.file], { reject: false });
      expect(cmp.exitCode, `${c.file}: ${cmp.stdout}${cmp.stderr}`).toBe(0);
      expect(cmp.stdout).toContain("Images are identical");
      expect(fs.readFileSync(`${c.file}.sha256`, "utf8")).toMatch(new RegExp(`^[0-9a-f]{64}  ${path.basename(c.file)}\\n$`));
    }
    // The fixed VHD's virtual size is the raw's, a whole number of MiB (what Azure requires).
    const info = JSON.parse((await execa("qemu-img", ["info", "--output=json", "-f", "vpc", `${base}-fixed.vhd`])).stdout);
    expect(info["virtual-size"]).toBe(fs.statSync(raw).size);
    expect(info["virtual-size"] % MiB).toBe(0);
  });

  it("has a GPT with the BIOS boot, EFI system and root partitions and the ids derived from the build", async () => {
    const table = JSON.parse((await execa("sfdisk", ["--json", raw])).stdout).partitiontable;
    expect(table.label).toBe("gpt");
    expect(table.id.toLowerCase()).toBe(layout.diskGuid);
    expect(table.partitions.map((p: { start: number; size: number; type: string; uuid: string; name: string }) => [p.start * 512, p.size * 512, p.type, p.uuid.toLowerCase(), p.name])).toEqual(
      layout.partitions.map((p) => [p.offset, p.size, p.type, p.uuid, p.name]),
    );
    expect(table.partitions[2].type).toBe(PART_TYPES.root);
    // The MBR carries GRUB's boot code aimed at the BIOS boot partition.
    const mbr = Buffer.alloc(512);
    const fd = fs.openSync(raw, "r");
    fs.readSync(fd, mbr, 0, 512, 0);
    fs.closeSync(fd);
    expect(mbr.readBigUInt64LE(0x5c)).toBe(BigInt(layout.partitions[0].offset / 512));
    expect(mbr.readUInt16LE(510)).toBe(0xaa55);
  });

  it("has an ESP with GRUB for UEFI and a root file system that e2fsck finds clean", async () => {
    const esp = layout.partitions[1];
    const at = `${raw}@@${esp.offset}`;
    const env = { MTOOLS_SKIP_CHECK: "1" };
    const listing = (await execa("mdir", ["-i", at, "-/", "-b", "::/"], { env })).stdout.split("\n").map((l) => l.replace(/^::/, "")).filter(Boolean).sort();
    // shim where the firmware looks, the installed system's signed GRUB beside it, its config where that GRUB looks.
    expect(listing).toEqual(["/EFI/", "/EFI/BOOT/", "/EFI/BOOT/BOOTX64.EFI", "/EFI/BOOT/grubx64.efi", "/EFI/BOOT/mmx64.efi", "/EFI/debian/", "/EFI/debian/grub.cfg"]);
    const manifest = JSON.parse(fs.readFileSync(path.join(TEST_BUILD_DIR, "work/democd/build.json"), "utf8"));
    const grubPkg = manifest.uefi.find((p: { package: string }) => p.package === "grub-efi-amd64-signed");
    const grub = Buffer.from((await execa("mtype", ["-i", at, "::/EFI/BOOT/grubx64.efi"], { env, encoding: "buffer", stripFinalNewline: false })).stdout);
    expect(grub.equals(await fileFromDeb(grubPkg, "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"))).toBe(true);
    const cfg = (await execa("mtype", ["-i", at, "::/EFI/debian/grub.cfg"], { env })).stdout;
    expect(cfg).toContain(`search --no-floppy --set=root --fs-uuid ${layout.rootFsUuid}\n`);
    const root = layout.partitions[2];
    const fsck = await execa("e2fsck", ["-f", "-n", `${raw}?offset=${root.offset}`], { reject: false });
    // e2fsck takes no ?offset=: cut the partition out instead if it refuses.
    if (fsck.exitCode !== 0) {
      const part = path.join(path.dirname(raw), "root-part.ext4");
      await execa("dd", [`if=${raw}`, `of=${part}`, "bs=1M", `skip=${root.offset / MiB}`, `count=${root.size / MiB}`, "conv=sparse", "status=none"]);
      const again = await execa("e2fsck", ["-f", "-n", part], { reject: false });
      fs.rmSync(part);
      expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    }
    const sb = await execa("debugfs", ["-R", "stats", `${raw}?offset=${root.offset}`]);
    expect(sb.stdout).toContain(`Filesystem UUID:          ${layout.rootFsUuid}`);
    expect(sb.stdout).toMatch(/Filesystem volume name:\s+democd-root/);
  });

  it("holds the root tree with usr inside it: every entry with its type, mode, owner and size", async () => {
    const expected = expectedTree();
    expected.delete("etc/fstab"); // the installed system's own, checked below
    expected.delete("etc/motd"); // likewise
    const dirs = ["", "usr", ...[...expected].filter(([, e]) => (e.mode & 0o170000) === 0o040000).map(([p]) => p), "boot", "boot/grub"];
    const actual = await listExt4(raw, layout.partitions[2].offset, dirs);
    const problems: string[] = [];
    for (const [p, e] of expected) {
      const a = actual.get(p);
      if (!a) problems.push(`${p}: missing`);
      else if (a.mode !== e.mode || a.uid !== e.uid || a.gid !== e.gid || ((e.mode & 0o170000) === 0o100000 && a.size !== e.size)) {
        problems.push(`${p}: ${a.mode.toString(8)} ${a.uid}:${a.gid} ${a.size} in the image, ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.size} in the tree`);
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
    expect(expected.size).toBeGreaterThan(100);
    // The installed system's own files: kernel, hypervisor, initrd, the disk's menu and fstab.
    for (const f of ["boot/vmlinuz", "boot/xen.gz", "boot/initrd.img", "boot/grub/grub.cfg", "boot/grub/i386-pc", "boot/grub/x86_64-efi", "etc/fstab"]) expect(actual.has(f), f).toBe(true);
    const stat = await execa("debugfs", ["-R", "stat /bin", `${raw}?offset=${layout.partitions[2].offset}`]);
    expect(stat.stdout).toContain('Fast link dest: "usr/bin"');
    const cat = async (f: string) => (await execa("debugfs", ["-R", `cat ${f}`, `${raw}?offset=${layout.partitions[2].offset}`])).stdout;
    expect(await cat("/etc/fstab")).toContain(`UUID=${layout.rootFsUuid}\t/\text4`);
    const motd = await cat("/etc/motd");
    expect(motd).toContain("installed on this disk");
    expect(motd).not.toContain("RAM disk");
    const grub = await cat("/boot/grub/grub.cfg");
    expect(grub).toContain(`search --no-floppy --set=root --fs-uuid ${layout.rootFsUuid}`);
    expect(grub).toContain(`root=UUID=${layout.rootFsUuid} rw`);
    expect(grub).toMatch(/if \[ "\$\{grub_platform\}" = "xen" -o "\$\{grub_platform\}" = "xen_pvh" \]; then[\s\S]*set default=xen-pv-guest/);
  });
});

describe("disk images: bad input", () => {
  it("an unknown format names the known ones, before any work", async () => {
    const { dir, buildDir } = scratch();
    const r = await democd(["build", "--profile", "minimal", "--format", "iso,floppy", "--build-dir", buildDir, "--out", path.join(dir, "x")]);
    expectOneCleanError(r, /formats\.1: unknown format "floppy" \(known: iso, raw, qcow2, vhd, vhd-fixed, vmdk, ova\)/);
    expect(fs.readdirSync(dir).sort()).toEqual(["build"]);
  });

  it("a disk size smaller than the contents says the size needed, and nothing is written (not even the ISO)", async () => {
    const { dir, buildDir } = scratch();
    const r = await democd(["build", "--profile", "minimal", "--format", "iso,qcow2", "--disk-size", "64M", "--root-password", "x", "--build-dir", buildDir, "--out", path.join(dir, "x")]);
    expectOneCleanError(r, /^democd: error: disk\.size: 64M is smaller than the contents: the disk needs at least \d+ MiB \(--disk-size \d+M or more\)$/m);
    expect(fs.readdirSync(dir).sort()).toEqual(["build"]);
  });
});
