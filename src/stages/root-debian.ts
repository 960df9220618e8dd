import fs from "node:fs";
import path from "node:path";
import type { TreeRecord } from "../archive/safe-tree.ts";
import { DEBIAN_BASE_PACKAGES, HVM_DEVICE_MODEL, bootstrapRoot, toolstackPackage, type Bootstrap, type BootstrapSpec } from "../debian/bootstrap.ts";
import type { ResolvedPackage } from "../debian/apt.ts";
import { resolveMirrors } from "../debian/mirrors.ts";
import type { BuildContext } from "../context.ts";
import { DemocdError } from "../errors.ts";
import { mirrorTree, removeTree, symlink, writeFile } from "../fsutil.ts";
import { mediumModulesPath } from "./assemble.ts";
import { linkBusyboxTools } from "./busybox-tools.ts";
import { installWebConsole } from "./web-console.ts";
import { installSshAccess } from "../ssh/root.ts";
import { hashRootPassword, renderProfileTemplates } from "./root.ts";

/** Replace a user's password hash and change date in /etc/shadow text. */
export function setShadowPassword(shadow: string, user: string, hash: string, changedDays: number): string {
  let found = false;
  const lines = shadow.split("\n").map((line) => {
    const f = line.split(":");
    if (f[0] !== user || f.length < 9) return line;
    found = true;
    f[1] = hash;
    f[2] = String(changedDays);
    return f.join(":");
  });
  if (!found) throw new DemocdError(`/etc/shadow of the bootstrapped root has no ${user} entry`);
  return lines.join("\n");
}

/** Installed packages as name=version, from dpkg's status file. */
export function installedPackages(status: string): string[] {
  const out: string[] = [];
  for (const stanza of status.split(/\n\n+/)) {
    const name = /^Package: (.+)$/m.exec(stanza)?.[1];
    const version = /^Version: (.+)$/m.exec(stanza)?.[1];
    if (name && version && /^Status: .* installed$/m.test(stanza)) out.push(`${name}=${version}`);
  }
  return out.sort();
}

/**
 * Where files of the root that a running system only reads go on the medium, as on the Xen
 * Demo CD ("files that are normally in /etc or /var that are large and actually unlikely to
 * need changing have been moved into /usr/root and replaced with links").
 */
export const ON_MEDIUM = "root";
/**
 * dpkg's per-package lists, checksums and maintainer scripts: 800 of the root's 1400 entries,
 * which every domain unpacked at each boot (measured in domain 0 under TCG: 1.7 s for
 * root.tar.gz with them, 0.9 s without).
 */
export const DPKG_INFO = "var/lib/dpkg/info";

/** The bootstrap's `rel` onto the medium (usr/root/rel, hard links), and a relative link to it in the root. */
export function moveOntoMedium(bootstrap: string, root: string, usr: string, rel: string): void {
  const dest = path.join(usr, ON_MEDIUM, rel);
  // Each parent with a fixed mode: a disk image holds them as they are, whatever the umask.
  let parent = usr;
  for (const part of path.dirname(path.join(ON_MEDIUM, rel)).split("/")) {
    parent = path.join(parent, part);
    if (!fs.existsSync(parent)) fs.mkdirSync(parent);
    fs.chmodSync(parent, 0o755);
  }
  mirrorTree(path.join(bootstrap, rel), dest, { preserve: true });
  const link = path.join(root, rel);
  removeTree(link);
  fs.symlinkSync(path.relative(path.dirname(link), path.join(root, "usr", ON_MEDIUM, rel)), link);
  // Its directory keeps the bootstrap's date, as the rest of the root does.
  const was = fs.statSync(path.dirname(path.join(bootstrap, rel)));
  fs.utimesSync(path.dirname(link), was.atime, was.mtime);
}

/** The record's owners and devices under `rel`, renamed to where moveOntoMedium put them. */
export function movedRecord(record: TreeRecord | undefined, rel: string): TreeRecord | undefined {
  if (!record) return record;
  const rename = (name: string) => (name === rel || name.startsWith(`${rel}/`) ? `usr/${ON_MEDIUM}/${name}` : name);
  return {
    owners: Object.fromEntries(Object.entries(record.owners).map(([n, o]) => [rename(n), o])),
    devices: record.devices.map((d) => ({ ...d, name: rename(d.name) })),
  };
}

/** /boot is not taken from the bootstrap (the root links it to the medium's). */
export function withoutBoot(record: TreeRecord): TreeRecord {
  const keep = (name: string) => name !== "boot" && !name.startsWith("boot/");
  return { owners: Object.fromEntries(Object.entries(record.owners).filter(([n]) => keep(n))), devices: record.devices.filter((d) => keep(d.name)) };
}

export async function bootstrapSpec(ctx: BuildContext, xen: ResolvedPackage): Promise<BootstrapSpec> {
  const d = ctx.config.debian;
  return {
    suite: d.suite,
    mirrors: await resolveMirrors(d, ctx.paths.cache),
    packages: [...new Set([...DEBIAN_BASE_PACKAGES, toolstackPackage(xen.name, xen.version), ...(d.hvm ? [HVM_DEVICE_MODEL] : []), ...d.packages])],
    minimize: d.minimize,
    aptProxy: d.aptProxy,
    sourceDateEpoch: ctx.sourceDateEpoch,
  };
}

/**
 * The debian profile: a root bootstrapped from Debian's archive (cached), split as the
 * medium wants it: /usr onto the medium (hard links into the cache), everything else
 * into the root that /linuxrc unpacks into RAM. /boot points at the medium's /boot.
 */
export interface StartedBootstrap {
  spec: BootstrapSpec;
  root: Bootstrap;
}

/**
 * The bootstrap, from the build's date and the hypervisor (its toolstack must match): it needs
 * nothing else fetch makes, so it can run beside the rest of fetch. `cancel` stops mmdebstrap.
 */
export async function startBootstrap(ctx: BuildContext, xen: ResolvedPackage, cancel?: AbortSignal): Promise<StartedBootstrap> {
  const spec = await bootstrapSpec(ctx, xen);
  return { spec, root: await bootstrapRoot(spec, ctx.paths.cache, ctx.log, cancel) };
}

export async function makeDebianRoot(ctx: BuildContext, started: Promise<StartedBootstrap>): Promise<{ reused: boolean }> {
  const { root, usr } = ctx.paths;
  const { spec, root: { dir, record, reused, key } } = await started;
  ctx.rootSource = { bootstrap: key, suite: spec.suite, mirrors: spec.mirrors };
  // A rootless bootstrap's owners and devices, for root.tar.gz and the disk images (/usr's
  // too: a disk holds it as it is; on the ISO Rock Ridge makes every owner 0).
  ctx.rootRecord = withoutBoot(record);

  // Hard links into the cache as `cp -a` would copy (owners, modes, dates), kept from the last
  // build where they still match; every file democd changes is written as a new inode.
  mirrorTree(dir, root, { owned: ["usr", "boot", DPKG_INFO], preserve: true });
  removeTree(path.join(root, "usr"));
  fs.mkdirSync(path.join(root, "usr"));
  // sysvinit 3.06 complains on the console without it.
  fs.mkdirSync(path.join(root, "etc", "inittab.d"), { recursive: true });
  symlink("usr/boot", path.join(root, "boot"));
  // Hard links into the cache, kept from the last build where they still match (the kernel modules are the assemble stage's).
  mirrorTree(path.join(dir, "usr"), usr, { owned: [mediumModulesPath(ctx), path.join(ON_MEDIUM, DPKG_INFO)] });
  moveOntoMedium(dir, root, usr, DPKG_INFO);
  linkBusyboxTools(usr);
  ctx.rootRecord = movedRecord(ctx.rootRecord, DPKG_INFO);

  ctx.rootPasswordHash = await hashRootPassword(ctx);
  const shadow = path.join(root, "etc", "shadow");
  const days = Math.floor(ctx.sourceDateEpoch / 86400);
  const text = setShadowPassword(fs.readFileSync(shadow, "utf8"), "root", ctx.rootPasswordHash, days);
  const mode = fs.statSync(shadow).mode & 0o7777;
  const { uid, gid } = fs.statSync(shadow);
  writeFile(shadow, text, mode);
  fs.chownSync(shadow, uid, gid);

  renderProfileTemplates(ctx);
  installWebConsole(usr);
  // One DHCP event script for the initrd's ip=dhcp and domain 0's uplink.
  const udhcpc = path.join(ctx.config.profileDir, "irtree", "lib", "democd", "udhcpc.sh");
  if (fs.existsSync(udhcpc)) writeFile(path.join(usr, "lib", "democd", "udhcpc"), fs.readFileSync(udhcpc), 0o755);
  installSshAccess(root, ctx.config.ssh.keys);
  ctx.rootPackages = installedPackages(fs.readFileSync(path.join(root, "var", "lib", "dpkg", "status"), "utf8"));
  return { reused };
}
