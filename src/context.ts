import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "./config/schema.ts";
import type { Logger } from "./log.ts";
import type { ResolvedPackage } from "./debian/apt.ts";
import type { TreeRecord } from "./archive/safe-tree.ts";
import type { UnpackedSource } from "./sources/unpacked.ts";
import type { GrowComponent } from "./grow.ts";

export interface Component {
  pkg: ResolvedPackage;
  /** The unpacked package in the cache. */
  dir: string;
}

export interface Components {
  /**
   * modulesDir: plain modules (the initrd's); mediumModulesDir: the same, xz-compressed (the medium's);
   * guestKernel: the ELF kernel gzip-compressed, for the debian profile's Xen entries and demo guests (/boot/vmlinux.gz).
   */
  kernel: Component & { release: string; vmlinuz: string; modulesDir: string; mediumModulesDir: string; guestKernel?: string };
  xen: Component & { release: string; xenGz: string };
  busybox: Component & { binary: string };
  /** sfdisk and resize2fs with their libraries: the initrd grows an installed system's root with them. */
  grow: GrowComponent;
}

export interface Paths {
  build: string;
  cache: string;
  /** The mutable root, packed into /democd/root.tar.gz. */
  root: string;
  /** The read-only tree: the medium's top level, mounted at /usr. */
  usr: string;
  /** The initramfs tree. */
  irtree: string;
  /** The medium's /boot and /democd. */
  work: string;
  boot: string;
  democd: string;
  log: string;
}

/** One build: the resolved config, where everything goes, and what stages found out. */
export interface BuildContext {
  config: Config;
  log: Logger;
  paths: Paths;
  /** Every timestamp on the medium is at most this (SOURCE_DATE_EPOCH). */
  sourceDateEpoch: number;
  /** Whether SOURCE_DATE_EPOCH came from the environment; if not, fetch derives it from the inputs. */
  epochFromEnv: boolean;
  components?: Components;
  /** Set by the root stage. */
  rootPasswordHash?: string;
  /** Set by the debian profile's root stage: where the root came from, and what it holds. */
  rootSource?: { bootstrap: string; suite: string; mirrors: { main: string; security: string } };
  rootPackages?: string[];
  /** Set by assemble: module paths (relative to /lib/modules/<ver>) in load order. */
  initrdModules?: string[];
  /** Set by assemble: the part of initrdModules a Xen PV guest loads (XEN_GUEST_MODULES' closure), in load order. */
  initrdGuestModules?: string[];
  /** Set by assemble: the part of initrdModules only an installed root needs (ROOTFS_MODULES' closure less the rest's). */
  initrdRootOnlyModules?: string[];
  /** Set when the source is an unpacked medium (build --from) instead of a profile. */
  unpacked?: UnpackedSource;
  /** Kernel release and Xen version the menus name: from the fetched packages or the unpacked medium's manifest. */
  bootVersions?: { kernel: string; xen: string };
  /**
   * Owners and device nodes of the root tree that an unprivileged unpack could not apply (build
   * --from, a rootless bootstrap), by path in the installed system (usr/... for /usr).
   */
  rootRecord?: TreeRecord;
  /** Set by assemble: the xenguest images on the medium (usr/share/guests). */
  guests?: { name: string; sha256: string }[];
  /** Set by render: the medium's id that /linuxrc looks for. */
  mediaId?: string;
}

export function buildPaths(buildDir: string): Paths {
  const work = path.join(buildDir, "work");
  return {
    build: buildDir,
    cache: path.join(buildDir, "cache"),
    root: path.join(buildDir, "root"),
    usr: path.join(buildDir, "usr"),
    irtree: path.join(buildDir, "irtree"),
    work,
    boot: path.join(work, "boot"),
    democd: path.join(work, "democd"),
    log: path.join(buildDir, "log", "build.log"),
  };
}

/** SOURCE_DATE_EPOCH from the environment, if set. */
export function envSourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * Without SOURCE_DATE_EPOCH, the newest date among the files democd builds from: the kernel,
 * hypervisor and busybox as their Debian packages carry them. The same inputs give the same
 * epoch, so reproducibility needs no action from the user.
 */
export function derivedEpoch(files: readonly string[]): number {
  return Math.max(...files.map((f) => Math.floor(fs.statSync(f).mtimeMs / 1000)));
}

export function sha256(data: string | Buffer): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} is not set yet (stage order)`);
  return value;
}
