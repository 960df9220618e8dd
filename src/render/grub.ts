import type { Config, EntryId } from "../config/schema.ts";
import { ENTRY_IDS } from "../config/schema.ts";

export interface MenuEntry {
  id: EntryId;
  title: string;
  /** The key that boots this entry from the menu (also what `boot --entry` types). */
  hotkey: string;
  /** Xen command line; undefined for the bare-Linux entry. */
  xen?: string;
  linux: string;
}

export const ENTRY_HOTKEYS: Record<EntryId, string> = { xen: "x", "xen-ip": "i", "xen-safe": "s", linux: "l" };

/**
 * Xen 4.17's spellings for the safe-mode entry: no secondary CPUs, everything logged
 * synchronously, no reboot on a crash. Linux's own `nosmp` panics a PV dom0, so Xen's
 * dom0_max_vcpus=1 does that job. No `acpi=off`: measured here, Xen 4.17 faults in its
 * MP-table parser with it under SeaBIOS, and under OVMF dom0's hvc console then loses
 * its IRQ to the RTC (as it does with Linux's acpi=off) — the entry would never boot.
 * Hardware that needs it can add it with --xen-args.
 */
export const XEN_SAFE_ARGS = "nosmp dom0_max_vcpus=1 loglvl=all guest_loglvl=all sync_console noreboot";

/** Where the menu lives: the live medium (found by its id file) or an installed disk (by its root's UUID). */
export type GrubTarget = { kind: "live" } | { kind: "disk"; rootUuid: string };

/**
 * The entry pvgrub2 boots when the disk runs as a Xen PV guest ($grub_platform is "xen"):
 * Linux itself as the PV kernel, its console on hvc0.
 */
export const PV_ENTRY_ID = "xen-pv-guest";

/** The live medium's Xen signed with the user's key (--secure-boot-key), on its ESP: xen.efi with its xen.cfg, kernel and initrd inside. */
export const USER_XEN_PATH = "/EFI/democd/xen.efi";

export interface GrubVars {
  version: string;
  /** How GRUB finds the file system holding /boot. */
  search: string;
  /** Set only for disks: the entry GRUB boots under Xen's pvgrub2. */
  pvEntry?: Omit<MenuEntry, "id"> & { id: string };
  kernelVersion: string;
  xenVersion: string;
  /** The file in /boot that Xen's entries load as domain 0's kernel (xenKernelFile). */
  xenKernel: string;
  serialSpeed: number;
  timeout: number;
  defaultEntry: string;
  /** The default when Secure Boot is on: the configured one if it starts without Xen, else bare Linux (unless userXen). */
  secureDefault: string;
  /** Set when the live medium holds Xen signed with the user's key (its path there): under Secure Boot the Xen entries chainload it. */
  userXen?: string;
  entries: MenuEntry[];
}

const join = (...parts: string[]) => parts.map((p) => p.trim()).filter(Boolean).join(" ");

/** The root an installed system's kernel mounts (its /linuxrc takes root= instead of looking for a medium). */
export function diskRootArgs(rootUuid: string): string {
  return `root=UUID=${rootUuid} rw`;
}

export function menuEntries(config: Config, kernelVersion: string, target: GrubTarget = { kind: "live" }): MenuEntry[] {
  const b = config.boot;
  const root = target.kind === "disk" ? diskRootArgs(target.rootUuid) : "";
  const xen = join(`dom0_mem=${b.dom0Mem}`, `console=com1,vga com1=${b.serialSpeed},8n1`, b.xenArgs);
  const dom0 = join("console=tty0 console=hvc0", root, b.linuxArgs);
  const bare = join(`console=tty0 console=ttyS0,${b.serialSpeed}n8`, root, b.linuxArgs);
  const kv = kernelVersion;
  return [
    { id: "xen", title: `Xen / Linux ${kv}`, hotkey: ENTRY_HOTKEYS.xen, xen, linux: dom0 },
    { id: "xen-ip", title: `Xen / Linux ${kv} (command-line IP configuration)`, hotkey: ENTRY_HOTKEYS["xen-ip"], xen, linux: join(dom0, `ip=${b.ip}`) },
    { id: "xen-safe", title: `Xen / Linux ${kv} (safe mode)`, hotkey: ENTRY_HOTKEYS["xen-safe"], xen: join(xen, XEN_SAFE_ARGS), linux: join(dom0, "loglevel=7") },
    { id: "linux", title: `Linux ${kv} (no hypervisor)`, hotkey: ENTRY_HOTKEYS.linux, linux: bare },
  ];
}

export function grubVars(config: Config, kernelVersion: string, xenVersion: string, target: GrubTarget = { kind: "live" }, xenKernel = "vmlinuz"): GrubVars {
  const disk = target.kind === "disk";
  const userXen = !disk && config.secureBoot.key ? USER_XEN_PATH : undefined;
  return {
    version: config.version,
    search: disk ? `search --no-floppy --set=root --fs-uuid ${target.rootUuid}` : "search --no-floppy --set=root --file /democd/id",
    pvEntry: disk
      ? { id: PV_ENTRY_ID, title: `Linux ${kernelVersion} (Xen PV guest)`, hotkey: "p", linux: join("console=hvc0", diskRootArgs(target.rootUuid), config.boot.linuxArgs) }
      : undefined,
    kernelVersion,
    xenVersion,
    xenKernel,
    serialSpeed: config.boot.serialSpeed,
    timeout: config.boot.timeout,
    defaultEntry: config.boot.default,
    secureDefault: config.boot.default.startsWith("xen") && !userXen ? "linux" : config.boot.default,
    userXen,
    entries: menuEntries(config, kernelVersion, target),
  };
}

export { ENTRY_IDS };
