import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { renderFile } from "../../../src/render/ejs.ts";
import { REPO } from "../../helpers/paths.ts";
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

async function shellcheck(text: string): Promise<string> {
  const r = await execa("shellcheck", ["-s", "sh", "-x", "-P", path.join(REPO, "irtree"), "-"], { input: text, reject: false, cwd: path.join(REPO, "irtree") });
  return r.stdout + r.stderr;
}

describe("/linuxrc", () => {
  beforeAll(() => needTools("shellcheck"));

  it("bakes in the medium id, kernel, timeout, tmpfs size and module load order", () => {
    expect(linuxrc).toContain("MEDIA_ID='democd-1.0-0123456789abcdef'");
    expect(linuxrc).toContain("KVER='6.1.0-56-amd64'");
    expect(linuxrc).toContain("MEDIA_TIMEOUT=30");
    expect(linuxrc).toContain("TMPFS_SIZE='50%'");
    expect(linuxrc).toContain("MODULES='kernel/drivers/cdrom/cdrom.ko kernel/fs/isofs/isofs.ko kernel/drivers/block/xen-blkfront.ko'");
    expect(linuxrc).toContain("GUEST_MODULES='kernel/fs/isofs/isofs.ko kernel/drivers/block/xen-blkfront.ko'");
    expect(linuxrc).toContain("ROOT_ONLY_MODULES='kernel/fs/ext4/ext4.ko'");
  });

  it("honours the documented kernel parameters", () => {
    for (const p of ["democd.media=*", "democd.tmpfs=*", "democd.timeout=*", "democd.shell", "ip=*"]) expect(linuxrc).toContain(`${p})`);
  });

  it("takes the installed-system path when root= names a device, the live one otherwise", () => {
    for (const p of ["root=*", "rootfstype=*", "rootflags=*", "democd.nogrow"]) expect(linuxrc).toContain(`${p})`);
    // root=UUID=/LABEL= through busybox findfs, PARTUUID= through sfdisk, a /dev path as it is.
    expect(linuxrc).toMatch(/UUID=\*\|LABEL=\*\) findfs "\$ROOT"/);
    expect(linuxrc).toMatch(/PARTUUID=\*\) find_partuuid/);
    expect(linuxrc).toMatch(/sfdisk --part-uuid/);
    expect(linuxrc).toMatch(/if \[ -n "\$ROOT" \]; then\n\s+mount_installed_root \|\| continue/);
    // Mounted read-write, then the same way into it as the live root.
    expect(linuxrc).toContain('mount -t "$ROOTFSTYPE" -o "rw${ROOTFLAGS:+,$ROOTFLAGS}" "$ROOT_DEV" "$NEWROOT"');
    expect(linuxrc.match(/switch_to_root "\$@"/g)).toHaveLength(2);
  });

  it("grows only the last partition, only with at least 1 MiB free after it, and says from what size to what", () => {
    expect(linuxrc).toContain('[ $((total - end)) -ge $((2048 + 33)) ] || return 0');
    expect(linuxrc).toContain('sfdisk --relocate gpt-bak-std "/dev/$disk"');
    expect(linuxrc).toContain("echo ', +' | sfdisk --no-reread --no-tell-kernel -N \"$n\" \"/dev/$disk\"");
    expect(linuxrc).toContain('blockdev --rereadpt "/dev/$disk"');
    expect(linuxrc).toContain('resize2fs "$ROOT_DEV"');
    expect(linuxrc).toMatch(/say "grew the root \$ROOT_DEV from .* MiB to .* MiB/);
  });

  it("switches out of the initramfs with switch_root, passing init's arguments on", () => {
    expect(linuxrc).toMatch(/exec switch_root "\$NEWROOT" \/sbin\/init "\$@"/);
    expect(linuxrc).not.toMatch(/\bpivot_root\b/);
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
