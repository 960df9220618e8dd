import fs from "node:fs";
import path from "node:path";
import { splitDev } from "../archive/cpio.ts";
import { isRoot } from "../archive/devices.ts";
import type { TreeRecord } from "../archive/safe-tree.ts";
import { linkOrCopy, writeFile } from "../fsutil.ts";
import { GZIP_KERNEL } from "../kernel/vmlinux.ts";

/**
 * The installed system's tree, staged by hard links (no copy of the root or /usr): the
 * root, /usr inside it, and /boot with the kernel, hypervisor, initrd and GRUB's files.
 */
export function linkOrCopyTree(src: string, dest: string, devices: TreeRecord["devices"] = [], rel = ""): TreeRecord["devices"] {
  fs.mkdirSync(dest, { recursive: true });
  const top = fs.statSync(src);
  // A root build's owners are read off this tree (a hard-linked file keeps its own; a new
  // directory or link must be given it). A user's come from the record instead.
  if (isRoot()) fs.chownSync(dest, top.uid, top.gid);
  fs.chmodSync(dest, top.mode & 0o7777);
  for (const name of fs.readdirSync(src)) {
    const s = path.join(src, name);
    const d = path.join(dest, name);
    const r = rel ? `${rel}/${name}` : name;
    const st = fs.lstatSync(s);
    if (st.isDirectory()) linkOrCopyTree(s, d, devices, r);
    else if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(s), d);
      if (isRoot()) fs.lchownSync(d, st.uid, st.gid);
    } else if (st.isFile()) linkOrCopy(s, d);
    else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      // A device node (a root build's /dev) is never staged: debugfs makes it after mkfs, as it
      // makes a rootless build's recorded ones, so both get the same inode numbers.
      devices.push({
        name: r, type: st.isFIFO() ? "fifo" : st.isCharacterDevice() ? "char" : "block", perm: st.mode & 0o7777,
        uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), ...splitDev(st.rdev),
      });
    }
    // Sockets are not kept (as in root.tar.gz).
  }
  return devices;
}

/** Bytes the tree takes in 4 KiB blocks, counting one block for each directory and link. */
export function treeBlockBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const size = e.isFile() ? fs.statSync(path.join(e.parentPath, e.name)).size : 4096;
    total += Math.ceil(size / 4096) * 4096;
  }
  return total;
}

/**
 * What the installed system's /boot takes of the medium's /boot: all of it but GRUB's own
 * files under grub/ (the disk gets GRUB's modules from the host, and a menu of its own);
 * grub.cfg still counts, as the disk's stands in its place.
 */
export function installedBootBytes(bootDir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(bootDir, { withFileTypes: true, recursive: true })) {
    const rel = path.relative(bootDir, path.join(e.parentPath, e.name));
    if (rel.startsWith(`grub${path.sep}`) && rel !== path.join("grub", "grub.cfg")) continue;
    const size = e.isFile() ? fs.statSync(path.join(e.parentPath, e.name)).size : 4096;
    total += Math.ceil(size / 4096) * 4096;
  }
  return total;
}

export function fstab(rootUuid: string): string {
  return [
    "# democd installed system: the root file system on this disk, found by its UUID.",
    `UUID=${rootUuid}\t/\text4\trw,errors=remount-ro\t0\t1`,
    "proc\t/proc\tproc\tdefaults\t0\t0",
    "",
  ].join("\n");
}

export interface InstalledTreeSources {
  root: string;
  usr: string;
  /** The medium's /boot: vmlinuz, xen.gz, initrd.img, and vmlinux.gz where the build made it. */
  boot: string;
  grubCfg: string;
  /** GRUB's platform directories (modules) for /boot/grub/<platform>. */
  grubPlatforms: { name: string; dir: string }[];
  rootUuid: string;
  /** The installed system's /etc/motd, if it differs from the live one (installedMotd). */
  motd?: string;
}

/** Stage the tree; returns its device nodes (for debugfs to make). */
export function stageInstalledTree(dest: string, s: InstalledTreeSources): TreeRecord["devices"] {
  const devices = linkOrCopyTree(s.root, dest);
  fs.rmSync(path.join(dest, "usr"), { recursive: true, force: true });
  linkOrCopyTree(s.usr, path.join(dest, "usr"), devices, "usr");
  const boot = path.join(dest, "boot");
  // The live root links boot -> usr/boot (the medium's /boot, mounted at /usr): on a disk it is a directory.
  if (fs.lstatSync(boot, { throwIfNoEntry: false })?.isSymbolicLink()) fs.rmSync(boot);
  fs.mkdirSync(path.join(boot, "grub"), { recursive: true });
  // vmlinux.gz where the build made one: the debian profile's Xen entries load it.
  const gzipKernel = fs.existsSync(path.join(s.boot, GZIP_KERNEL)) ? [GZIP_KERNEL] : [];
  for (const f of ["vmlinuz", "xen.gz", "initrd.img", ...gzipKernel]) linkOrCopy(path.join(s.boot, f), path.join(boot, f));
  for (const p of s.grubPlatforms) linkOrCopyTree(p.dir, path.join(boot, "grub", p.name));
  writeFile(path.join(boot, "grub", "grub.cfg"), s.grubCfg);
  writeFile(path.join(dest, "etc", "fstab"), fstab(s.rootUuid));
  if (s.motd !== undefined) writeFile(path.join(dest, "etc", "motd"), s.motd);
  return devices;
}
