import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { renderFile } from "../../../src/render/ejs.ts";
import { REPO } from "../../helpers/paths.ts";
import { tempDir } from "../../helpers/temp.ts";
import { needTools } from "../../helpers/tools.ts";

const vars = {
  version: "1.0",
  mediaId: "democd-1.0-0123456789abcdef",
  kernelVersion: "6.1.0-56-amd64",
  mediaTimeout: 30,
  tmpfsSize: "50%",
  modules: ["kernel/drivers/cdrom/cdrom.ko", "kernel/fs/isofs/isofs.ko", "kernel/drivers/block/xen-blkfront.ko"],
  guestModules: ["kernel/fs/isofs/isofs.ko", "kernel/drivers/block/xen-blkfront.ko"],
  rootOnlyModules: ["kernel/fs/ext4/ext4.ko"],
};
const linuxrc = renderFile(path.join(REPO, "templates"), "linuxrc.ejs", vars);

/** Run `script` in `dir` with /linuxrc's functions and settings loaded (not its main), the sandbox's bin/ first on PATH. */
async function lib(dir: string, script: string) {
  const cwd = dir || tempDir("linuxrc");
  fs.writeFileSync(path.join(cwd, "linuxrc"), linuxrc);
  return execa("sh", ["-c", `. ./linuxrc; SYSFS=$PWD/sys; PATH=$PWD/bin:$PATH; ${script}`], { cwd, env: { DEMOCD_LINUXRC_LIB: "1", PATH: process.env.PATH }, extendEnv: false });
}

/** A stub program in the sandbox's bin/. */
function stub(dir: string, name: string, body: string): void {
  fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
  fs.writeFileSync(path.join(dir, "bin", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/**
 * A sandbox with a fake sysfs for one disk, vda, as the kernel lays it out: class/block/vda with
 * its size, class/block/vda/vdaN with partition, start and size, and class/block/vdaN linking
 * there; sfdisk, blockdev (which "re-reads" the table: partition N takes the rest of the disk
 * but the backup GPT) and resize2fs stubs that log to ./calls.
 */
function fakeDisk(d: { total: number; parts: number[][] }): string {
  const dir = tempDir("linuxrc");
  const block = path.join(dir, "sys/class/block");
  fs.mkdirSync(path.join(block, "vda"), { recursive: true });
  fs.writeFileSync(path.join(block, "vda/size"), `${d.total}\n`);
  for (const [n, start, size] of d.parts) {
    const p = path.join(block, "vda", `vda${n}`);
    fs.mkdirSync(p);
    fs.writeFileSync(path.join(p, "partition"), `${n}\n`);
    fs.writeFileSync(path.join(p, "start"), `${start}\n`);
    fs.writeFileSync(path.join(p, "size"), `${size}\n`);
    fs.symlinkSync(`vda/vda${n}`, path.join(block, `vda${n}`));
  }
  const calls = path.join(dir, "calls");
  const log = (name: string) => `#!/bin/sh\nin=; [ "$1" = --no-reread ] && in=" <'$(cat)'"; echo "${name} $*$in" >>${JSON.stringify(calls)}\n`;
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(path.join(dir, "bin/sfdisk"), log("sfdisk"), { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "bin/resize2fs"), log("resize2fs"), { mode: 0o755 });
  const last = d.parts.at(-1)!;
  fs.writeFileSync(path.join(dir, "bin/blockdev"), `${log("blockdev")}echo ${d.total - last[1] - 33} >${JSON.stringify(path.join(block, "vda", `vda${last[0]}`, "size"))}\n`, { mode: 0o755 });
  return dir;
}

async function shellcheck(text: string): Promise<string> {
  const r = await execa("shellcheck", ["-s", "sh", "-x", "-P", path.join(REPO, "irtree"), "-"], { input: text, reject: false, cwd: path.join(REPO, "irtree") });
  return r.stdout + r.stderr;
}

describe("/linuxrc", () => {
  beforeAll(() => needTools("shellcheck"));

  it("bakes in the medium id, kernel, timeout, tmpfs size and module load order", async () => {
    const r = await lib("", 'printf "%s|" "$MEDIA_ID" "$KVER" "$MEDIA_TIMEOUT" "$TMPFS_SIZE" "$MODULES" "$GUEST_MODULES" "$ROOT_ONLY_MODULES"');
    expect(r.stdout).toBe([vars.mediaId, vars.kernelVersion, "30", "50%", vars.modules.join(" "), vars.guestModules.join(" "), vars.rootOnlyModules.join(" "), ""].join("|"));
  });

  it("takes the documented kernel parameters, and leaves the rest to init", async () => {
    const sandbox = tempDir("linuxrc");
    fs.writeFileSync(path.join(sandbox, "cmdline"), "BOOT_IMAGE=/boot/vmlinuz democd.media=/dev/sr1 democd.tmpfs=1g democd.timeout=9 democd.shell root=PARTUUID=AbC rootfstype=xfs rootflags=noatime democd.nogrow ip=dhcp quiet 4\n");
    const r = await lib(sandbox, 'CMDLINE=cmdline; parse_cmdline; printf "%s|" "$MEDIA_DEV" "$TMPFS_SIZE" "$MEDIA_TIMEOUT" "$SHELL_BEFORE_SWITCH" "$ROOT" "$ROOTFSTYPE" "$ROOTFLAGS" "$NOGROW" "$IP"');
    expect(r.stdout).toBe("/dev/sr1|1g|9|1|PARTUUID=AbC|xfs|noatime|1|dhcp|");
    const none = await lib(sandbox, 'printf "" >cmdline; CMDLINE=cmdline; parse_cmdline; printf "%s|" "$MEDIA_DEV" "$TMPFS_SIZE" "$ROOT" "$ROOTFSTYPE" "$NOGROW"');
    expect(none.stdout).toBe("|50%||ext4||");
  });

  it("finds root= by UUID or LABEL (findfs), PARTUUID (sfdisk, any case) or a device path", async () => {
    const sandbox = fakeDisk({ total: 2097152, parts: [[1, 2048, 2048], [3, 4096, 1048576]] });
    stub(sandbox, "findfs", '[ "$1" = UUID=1234 ] && echo /dev/vda3; [ "$1" = LABEL=democd-root ] && echo /dev/vda3; exit 0');
    stub(sandbox, "sfdisk", '[ "$1 $2 $3" = "--part-uuid /dev/vda 3" ] && echo 0FC63DAF-ABCD; exit 0');
    const resolve = (root: string) => lib(sandbox, `is_block() { [ "$1" = /dev/vda3 ]; }; ROOT='${root}'; resolve_root; echo "rc=$?"`).then((r) => r.stdout);
    expect(await resolve("UUID=1234")).toBe("/dev/vda3\nrc=0");
    expect(await resolve("LABEL=democd-root")).toBe("/dev/vda3\nrc=0");
    expect(await resolve("PARTUUID=0fc63daf-abcd")).toBe("/dev/vda3\nrc=0");
    expect(await resolve("PARTUUID=00000000-0000")).toBe("rc=1");
    expect(await resolve("/dev/vda3")).toBe("/dev/vda3\nrc=0");
    expect(await resolve("/dev/vdb1")).toBe("rc=1");
    expect(await resolve("vda3")).toBe("rc=1");
  });

  it("grows the root partition only when it is the disk's last with at least 1 MiB after it, then ext4, and says from what size to what", async () => {
    // 1 GiB disk, the root (partition 3) 512 MiB from 2 MiB on: 510 MiB after it.
    const grown = fakeDisk({ total: 2097152, parts: [[1, 2048, 2048], [3, 4096, 1048576]] });
    const r = await lib(grown, "ROOT_DEV=/dev/vda3; is_block() { :; }; grow_partition; grow_fs; echo \"from=$GROW_FROM\"");
    expect(r.stdout.split("\n")).toEqual([
      "democd: /dev/vda has 510 MiB after /dev/vda3: growing partition 3",
      expect.stringMatching(/^democd: grew the root \/dev\/vda3 from 512 MiB to 1021 MiB \(partition and ext4\) in \d+\.\d\ds$/),
      "from=1048576",
    ]);
    expect(fs.readFileSync(path.join(grown, "calls"), "utf8")).toBe(
      ["sfdisk --relocate gpt-bak-std /dev/vda", "sfdisk --no-reread --no-tell-kernel -N 3 /dev/vda <', +'", "blockdev --rereadpt /dev/vda", "resize2fs /dev/vda3", ""].join("\n"),
    );

    // Less than 1 MiB (and the backup GPT's 33 sectors) after it, or another partition after it: nothing touched.
    for (const parts of [[[1, 2048, 2048], [3, 4096, 2097152 - 4096 - 2080]], [[3, 4096, 1048576], [4, 1052672, 2048]]]) {
      const kept = fakeDisk({ total: 2097152, parts });
      const k = await lib(kept, "ROOT_DEV=/dev/vda3; is_block() { :; }; grow_partition; grow_fs; echo \"from=$GROW_FROM\"");
      expect(k.stdout).toBe("from=");
      expect(fs.existsSync(path.join(kept, "calls"))).toBe(false);
    }
  });

  it("makes /usr the medium (on /run/democd/medium) under a RAM layer on /run, a tmpfs of the root's size, and the medium itself read-only where overlayfs fails", async () => {
    // mount logs what it is asked; with NO_OVERLAY set it fails for overlayfs as a kernel without it does.
    const run = async (noOverlay: boolean) => {
      const dir = tempDir("linuxrc");
      stub(dir, "mount", `echo "mount $*" >>"$PWD/calls"
[ -n "$NO_OVERLAY" ] && [ "$2" = overlay ] && { echo "mount: unknown filesystem type 'overlay'" >&2; exit 1; }
exit 0`);
      const r = await lib(dir, `NEWROOT=/nr; MEDIA=/media; TMPFS_SIZE=40%; mkdir() { :; }; ${noOverlay ? "NO_OVERLAY=1; export NO_OVERLAY;" : ""} { mount_usr; echo rc=$?; } 2>&1`);
      return { out: r.stdout, calls: fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n") };
    };
    const ok = await run(false);
    expect(ok.out).toBe("rc=0");
    expect(ok.calls).toEqual([
      "mount -t tmpfs -o size=40%,mode=0755,nosuid,nodev tmpfs /nr/run",
      "mount --move /media /nr/run/democd/medium",
      "mount -t overlay -o lowerdir=/nr/run/democd/medium,upperdir=/nr/run/democd/usr/upper,workdir=/nr/run/democd/usr/work overlay /nr/usr",
    ]);
    const without = await run(true);
    expect(without.out).toBe("mount: unknown filesystem type 'overlay'\ndemocd: no overlayfs for /usr (see above): /usr is the medium, read-only\nrc=0");
    expect(without.calls.at(-1)).toBe("mount --bind /nr/run/democd/medium /nr/usr");
  });

  it("passes shellcheck, with the scripts it sources", async () => {
    expect(await shellcheck(linuxrc)).toBe("");
  });

  it("the static initrd and profile scripts pass shellcheck too", async () => {
    for (const f of ["irtree/lib/democd/ipconfig.sh", "irtree/lib/democd/udhcpc.sh", "templates/minimal/root/etc/init.d/rcS", "templates/minimal/usr/sbin/democd-getty"]) {
      expect(await shellcheck(fs.readFileSync(path.join(REPO, f), "utf8")), f).toBe("");
    }
  });
});

describe("ipconfig.sh", () => {
  it("turns a dotted netmask into a prefix length", async () => {
    await needTools("sh");
    const lib = path.join(REPO, "irtree/lib/democd/ipconfig.sh");
    for (const [mask, bits] of [["255.255.0.0", "16"], ["255.255.255.0", "24"], ["255.255.255.252", "30"], ["0.0.0.0", "0"]]) {
      const r = await execa("sh", ["-c", `. "$1"; netmask_bits "$2"`, "sh", lib, mask]);
      expect(r.stdout, mask).toBe(bits);
    }
  });
});
