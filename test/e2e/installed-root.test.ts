import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { QemuSession } from "../../src/boot/qemu.ts";
import { build, createContext } from "../../src/build.ts";
import type { BuildContext } from "../../src/context.ts";
import { loadConfig } from "../../src/config/load.ts";
import { run } from "../../src/exec.ts";
import { LOGIN_TIMEOUT_S } from "../helpers/boot.ts";
import { scratch } from "../helpers/cli.ts";
import { TEST_BUILD_DIR, TEST_PASSWORD } from "../helpers/paths.ts";
import { needTools } from "../helpers/tools.ts";

const ROOT_UUID = "0b5cd1b2-7f3a-4c43-9d3e-2d8c1e0f4a11";
const SECTOR = 512;

/**
 * The installed-system layout the disk writers use, made by hand here so the initrd is tested
 * on its own: GPT, p1 BIOS boot (1 MiB), p2 EFI system (8 MiB), p3 ext4 root (the rest, last).
 */
async function makeDisk(file: string, tree: string, mib: number): Promise<{ start: number; sectors: number }> {
  fs.writeFileSync(file, "");
  fs.truncateSync(file, mib * 1024 * 1024);
  const script = [
    "label: gpt",
    "start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=bios",
    "start=4096, size=16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp",
    "start=20480, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root",
  ].join("\n");
  await execa("sfdisk", ["-q", file], { input: script + "\n" });
  const table = JSON.parse((await execa("sfdisk", ["-J", file])).stdout).partitiontable;
  const p3 = table.partitions[2];
  await execa("mkfs.ext4", ["-q", "-F", "-d", tree, "-U", ROOT_UUID, "-E", `offset=${p3.start * SECTOR}`, file, `${(p3.size * SECTOR) / 1024}k`]);
  return { start: p3.start, sectors: p3.size };
}

/** The root's size in 1K blocks as df sees it inside the guest. */
const dfRootKb = async (s: QemuSession) => Number((await s.shell("df -k / | awk 'NR==2 {print $2}'")).split("\n").at(-1));

describe("the initrd boots an installed system from a disk (root=UUID=)", () => {
  // The minimal profile built with democd's library (about 20 s with a warm cache): its
  // kernel, initrd and trees.
  let ctx: BuildContext;
  let dir: string;
  beforeAll(async () => {
    const s = scratch();
    dir = s.dir;
    const config = loadConfig({ cli: { profile: "minimal", version: "9.9-disk", rootPassword: TEST_PASSWORD, buildDir: s.buildDir, builder: "democd-tests", out: path.join(dir, "min.iso") } });
    ctx = createContext(config, { quiet: !process.env.DEMOCD_TEST_VERBOSE });
    try {
      await build(ctx);
    } finally {
      ctx.log.close();
    }
  });

  it("mounts ext4 from /dev/vda3, keeps what was written across boots, and grows it after the disk is enlarged", async () => {
    await needTools("qemu-system-x86_64", "qemu-img", "sfdisk", "mkfs.ext4", "e2fsck");

    // The installed tree: the root with the usr tree under usr/ (hard links, nothing copied),
    // without the medium's full module tree (the busybox userland does not load modules).
    const tree = path.join(dir, "tree");
    await execa("cp", ["-al", ctx.paths.root, tree]);
    fs.rmSync(path.join(tree, "usr"), { recursive: true, force: true });
    await execa("cp", ["-al", ctx.paths.usr, path.join(tree, "usr")]);
    fs.rmSync(path.join(tree, "usr/lib/modules"), { recursive: true, force: true });
    fs.writeFileSync(path.join(tree, "etc/fstab"), "proc\t/proc\tproc\tdefaults\t0\t0\n");

    const disk = path.join(dir, "disk.raw");
    const p3 = await makeDisk(disk, tree, 64);
    const before = fs.readFileSync(disk);

    const transcripts = path.join(TEST_BUILD_DIR, "consoles");
    fs.mkdirSync(transcripts, { recursive: true });
    const boot = async <T>(name: string, fn: (s: QemuSession, login: number) => Promise<T>, root = `UUID=${ROOT_UUID}`): Promise<T> => {
      const transcript = path.join(transcripts, `installed-root-${name}.log`);
      const s = await QemuSession.start(
        {
          firmware: "bios", memoryMb: 512, accel: "tcg", cpus: 1,
          kernel: path.join(ctx.paths.boot, "vmlinuz"),
          initrd: path.join(ctx.paths.boot, "initrd.img"),
          append: `root=${root} rootwait console=ttyS0,115200 panic=-1`,
          drives: [{ file: disk, format: "raw" }],
        },
        { transcriptFile: transcript },
      );
      try {
        await s.login("root", TEST_PASSWORD, LOGIN_TIMEOUT_S);
        const login = s.elapsed();
        process.stderr.write(`  installed root (${name}): login after ${login.toFixed(1)}s\n`);
        const r = await fn(s, login);
        // A clean shutdown (busybox's poweroff -f unmounts nothing): the next boot must not need the journal.
        await s.type("sync; mount -o remount,ro /; poweroff -f\n");
        await s.waitFor(/reboot: Power down|Power down|System halted/, 120).catch(() => undefined);
        return r;
      } catch (e) {
        throw new Error(`${(e as Error).message}\n--- console tail (${transcript}) ---\n${s.tail(2500)}`);
      } finally {
        await s.stop();
      }
    };

    // First boot: the root is the disk's ext4, read-write; a disk not enlarged is left alone.
    const firstKb = await boot("first", async (s) => {
      expect(s.output).toContain(`democd: root UUID=${ROOT_UUID} is /dev/vda3`);
      expect(s.output).not.toContain("grew the root");
      expect(await s.shell(`awk '$2=="/" {print $1" "$3" "$4}' /proc/mounts | grep -v rootfs`)).toMatch(/^\/dev\/vda3 ext4 rw[, ]/m);
      expect(await s.shell("test -d /usr/bin && echo usr-on-root")).toContain("usr-on-root");
      await s.shell("echo written-on-first-boot > /root/persist; sync");
      return dfRootKb(s);
    });
    // Nothing of the disk outside the root filesystem changed: the partition table is untouched.
    const after = fs.readFileSync(disk);
    expect(after.subarray(0, p3.start * SECTOR).equals(before.subarray(0, p3.start * SECTOR))).toBe(true);
    const end = (p3.start + p3.sectors) * SECTOR;
    expect(after.subarray(end).equals(before.subarray(end))).toBe(true);

    // Second boot: the file is still there.
    await boot("second", async (s) => {
      expect(await s.shell("cat /root/persist")).toBe("written-on-first-boot");
      expect(s.output).not.toContain("grew the root");
    });

    // The disk image enlarged by 64 MiB, as a cloud image is: the next boot grows the root.
    await run("qemu-img", ["resize", "-f", "raw", disk, "+64M"]);
    const grown = await boot("grown", async (s) => {
      const line = /democd: grew the root \/dev\/vda3 from (\d+) MiB to (\d+) MiB \(partition and ext4\) in ([\d.]+)s/.exec(s.output);
      expect(line, "the grow line").not.toBeNull();
      expect(Number(line![2]) - Number(line![1])).toBeGreaterThanOrEqual(60);
      process.stderr.write(`  installed root: ${line![0].replace(/^democd: /, "")}\n`);
      expect(await s.shell("cat /root/persist")).toBe("written-on-first-boot");
      return dfRootKb(s);
    });
    expect(grown - firstKb).toBeGreaterThan(55 * 1024);

    // The table is valid on the host too (backup header at the new end), and p3 reaches it.
    const table = JSON.parse((await execa("sfdisk", ["-J", disk])).stdout).partitiontable;
    const total = fs.statSync(disk).size / SECTOR;
    expect(table.lastlba).toBe(total - 34);
    expect(table.partitions[2].start + table.partitions[2].size - 1).toBeGreaterThan(total - 34 - 2048);
    // And the grown filesystem is clean.
    const fsck = await execa("e2fsck", ["-fn", `${disk}?offset=${table.partitions[2].start * SECTOR}`], { reject: false, all: true });
    expect(fsck.exitCode, fsck.all).toBe(0);

    // Grown once: a further boot touches nothing. The root named by its GPT partition UUID this time.
    const partuuid = (await execa("sfdisk", ["--part-uuid", disk, "3"])).stdout.trim();
    await boot("regrown", async (s) => {
      expect(s.output).toContain(`democd: root PARTUUID=${partuuid} is /dev/vda3`);
      expect(s.output).not.toContain("grew the root");
      expect(await dfRootKb(s)).toBe(grown);
    }, `PARTUUID=${partuuid}`);
  });

  it("a root that never appears ends in the rescue shell, saying what it waited for and what it saw", async () => {
    await needTools("qemu-system-x86_64");
    const s = await QemuSession.start({
      firmware: "bios", memoryMb: 512, accel: "tcg", cpus: 1,
      kernel: path.join(ctx.paths.boot, "vmlinuz"), initrd: path.join(ctx.paths.boot, "initrd.img"),
      append: "root=UUID=00000000-0000-4000-8000-000000000000 democd.timeout=3 console=ttyS0,115200 panic=-1",
    });
    try {
      await s.waitFor("democd: no root device UUID=00000000-0000-4000-8000-000000000000 within 3s", 180);
      await s.waitFor(/democd: tried: .*sr0/, 10);
      await s.waitFor("dropping to a rescue shell", 10);
      expect(await s.shell("echo alive-in-rescue", 60)).toBe("alive-in-rescue");
    } finally {
      await s.stop();
    }
  });
});
