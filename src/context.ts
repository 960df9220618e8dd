/**
 * The build's one context and the Source interface: types only (and two tiny helpers), so
 * every layer can name them without importing what fills them.
 */
import path from "node:path";
import type { Compression } from "./archive/compress.ts";
import type { TreeRecord } from "./archive/safe-tree.ts";
import type { Config } from "./config/schema.ts";
import type { Component } from "./debian/apt.ts";
import type { SignedEfi } from "./efi/signed.ts";
import type { GrowComponent } from "./grow.ts";
import type { MasterArgs } from "./iso/xorriso.ts";
import type { Logger } from "./log.ts";

export interface Components {
  /**
   * modulesDir: plain modules (the initrd's); mediumModulesDir: the same, xz-compressed (the medium's);
   * guestKernel: the ELF kernel gzip-compressed, for the debian profile's Xen entries and demo guests (/boot/vmlinux.gz).
   */
  kernel: Component & { release: string; vmlinuz: string; modulesDir: string; mediumModulesDir: string; guestKernel?: string };
  /** xenEfi: the same Xen as an EFI binary (the package's /boot/xen-*.efi), when the package has one. */
  xen: Component & { release: string; xenGz: string; xenEfi?: string };
  busybox: Component & { binary: string };
  /** sfdisk and resize2fs with their libraries: the initrd grows an installed system's root with them. */
  grow: GrowComponent;
  /** Debian's signed shim and GRUB: UEFI boots with Secure Boot on. */
  efi: SignedEfi;
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

/** An initrd segment as the pack stage writes it: its compression, and the members it holds (empty: all the rest). */
export interface SegmentPlan {
  compression: Compression;
  members: string[];
}

/** The ISO writer's inputs a source decides: volume id, trees and boot records. */
export type IsoLayout = Omit<MasterArgs, "out" | "epoch">;

/**
 * Where a build's trees come from: the debian or minimal profile, or an unpacked medium. Each
 * leaves the same trees (ctx.paths: root, usr, irtree, boot, democd) and facts (bootVersions,
 * sourceDateEpoch, mediaId, records) for the same stages and writers.
 */
export interface Source {
  /** How the build's lines name it: "profile debian", "unpacked medium mydemo". */
  readonly label: string;
  /** A democd system (a root and an initrd) to assemble and pack; another tool's medium is repacked as it is. */
  readonly system: boolean;
  /** Its medium carries democd-install's kit (the debian profile: its root has the installer's tools). */
  readonly installer: boolean;
  /** The rootpatch/ laid over its root. */
  readonly rootpatch: string;
  /** Settings it cannot apply, `path: message` each: reported with the config's own errors, before any work. */
  refuse(config: Config): string[];
  /** What the host needs for it, told before any work (tools, subordinate ids). */
  check(ctx: BuildContext): Promise<void>;
  /** fetch stage: bootVersions, sourceDateEpoch (a profile: components). Returns the stage line's detail. */
  fetch(ctx: BuildContext): Promise<string>;
  /** root stage: the root and usr trees (rootRecord where owners could not be set on disk). */
  root(ctx: BuildContext): Promise<string>;
  /** assemble stage, after the rootpatch: kernel, hypervisor and modules in the trees, the initrd tree. */
  boot(ctx: BuildContext): Promise<string>;
  /** render stage: mediaId, grub.cfg, /linuxrc, /democd/id and build.json (an unpacked medium keeps its own). */
  render(ctx: BuildContext): Promise<string>;
  /** The ISO writer's volume id, trees and boot records. */
  isoLayout(ctx: BuildContext): Promise<IsoLayout>;
}

/** One build: the resolved config, its source, where everything goes, and what stages found out. */
export interface BuildContext {
  config: Config;
  source: Source;
  log: Logger;
  paths: Paths;
  /** Every timestamp on the medium is at most this (SOURCE_DATE_EPOCH). */
  sourceDateEpoch: number;
  /** Whether SOURCE_DATE_EPOCH came from the environment; if not, the source derives it from its inputs. */
  epochFromEnv: boolean;
  /** A profile's fetched packages. */
  components?: Components;
  /** Kernel release and Xen version the menus name: the fetched packages' or the unpacked medium's. */
  bootVersions?: { kernel: string; xen: string };
  /** A profile's root password hash (root stage). */
  rootPasswordHash?: string;
  /** The debian profile's root stage: where the root came from, and what it holds. */
  rootSource?: { bootstrap: string; suite: string; mirrors: { main: string; security: string } };
  rootPackages?: string[];
  /** Set by a profile's assemble: module paths (relative to /lib/modules/<ver>) in load order. */
  initrdModules?: string[];
  /** The part of initrdModules a Xen PV guest loads (XEN_GUEST_MODULES' closure), in load order. */
  initrdGuestModules?: string[];
  /** The part of initrdModules only an installed root needs (ROOTFS_MODULES' closure less the rest's). */
  initrdRootOnlyModules?: string[];
  /** How the initrd is segmented (a profile: one segment, as configured; an unpacked medium: as it came). */
  initrdSegments?: SegmentPlan[];
  /**
   * Owners and device nodes of the root tree that an unprivileged unpack could not apply (an
   * unpacked medium, a rootless bootstrap), by path in the installed system (usr/... for /usr).
   */
  rootRecord?: TreeRecord;
  /** The same for the initrd tree. */
  irtreeRecord?: TreeRecord;
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

export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} is not set yet (stage order)`);
  return value;
}
