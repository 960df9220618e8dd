/**
 * The module closure the initrd needs to find its medium, computed from the kernel's
 * own modules.dep at build time (pure: text in, load order out).
 */

/** What the initrd must be able to load to find a CD, an IDE/SATA/virtio/Xen disk or a USB stick. */
export const MEDIA_MODULES = [
  // CD and ISO 9660
  "sr_mod", "isofs",
  // IDE / SATA
  "ata_piix", "ahci",
  // virtio
  "virtio_pci", "virtio_blk", "virtio_scsi",
  // Xen block front-end (a guest's view of the CD)
  "xen_blkfront",
  // USB sticks
  "xhci_pci", "ehci_pci", "usb_storage", "uas", "sd_mod",
] as const;

/**
 * An installed system's root (ext4 on a disk). ext4 and jbd2 ask the crypto API for "crc32c"
 * (a softdep modules.dep does not list): the generic driver first, which every CPU runs (qemu64
 * has no SSE4.2), then the accelerated one where the CPU has it.
 */
export const ROOTFS_MODULES = ["crc32c_generic", "crc32c_intel", "ext4"] as const;

/** A live root's /usr: the medium under a RAM layer. */
export const LIVE_MODULES = ["overlay"] as const;

/** Network drivers so `ip=` can be applied before init (QEMU's e1000, virtio, Xen). */
export const NET_MODULES = ["e1000", "e1000e", "virtio_net", "xen_netfront"] as const;

/**
 * What a Xen PV guest booting the medium loads instead of the whole list: it has no PCI
 * devices, only Xen's front-ends (the medium on xvdd, its vif, or an installed root on xvda).
 * The other ~35 modules cost a PV guest ~8 s of insmods under emulation and find nothing.
 */
export const XEN_GUEST_MODULES = ["isofs", "xen_blkfront", "xen_netfront", ...LIVE_MODULES, ...ROOTFS_MODULES] as const;

export interface ModuleInfo {
  name: string;
  /** Path relative to /lib/modules/<version>. */
  path: string;
  /** Dependencies, as paths, in the order modules.dep lists them. */
  deps: string[];
}

/** Kernel module names treat "-" and "_" alike. */
export function moduleName(fileOrName: string): string {
  const base = fileOrName.split("/").pop()!;
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, "").replace(/-/g, "_");
}

export function parseModulesDep(text: string): Map<string, ModuleInfo> {
  const modules = new Map<string, ModuleInfo>();
  for (const line of text.split("\n")) {
    const m = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const deps = m[2].split(/\s+/).filter(Boolean);
    modules.set(moduleName(m[1]), { name: moduleName(m[1]), path: m[1], deps });
  }
  return modules;
}

export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(text.split("\n").filter(Boolean).map(moduleName));
}

export interface Closure {
  /** Modules in load order: every module after all it depends on. */
  load: ModuleInfo[];
  /** Requested modules the kernel has built in (nothing to load). */
  builtin: string[];
  /** Requested modules the kernel has neither as module nor built in. */
  missing: string[];
}

export function moduleClosure(modules: Map<string, ModuleInfo>, builtin: Set<string>, wanted: readonly string[]): Closure {
  const byPath = new Map([...modules.values()].map((m) => [m.path, m]));
  const load: ModuleInfo[] = [];
  const seen = new Set<string>();
  const result: Closure = { load, builtin: [], missing: [] };

  const visit = (m: ModuleInfo, stack: Set<string>) => {
    if (seen.has(m.name) || stack.has(m.name)) return;
    stack.add(m.name);
    for (const depPath of m.deps) {
      const dep = byPath.get(depPath) ?? modules.get(moduleName(depPath));
      if (dep) visit(dep, stack);
    }
    stack.delete(m.name);
    seen.add(m.name);
    load.push(m);
  };

  for (const raw of wanted) {
    const name = moduleName(raw);
    const m = modules.get(name);
    if (m) visit(m, new Set());
    else if (builtin.has(name)) result.builtin.push(name);
    else result.missing.push(name);
  }
  return result;
}

/** modules.dep restricted to the closure, so modprobe works inside the initrd too. */
export function renderModulesDep(load: readonly ModuleInfo[]): string {
  return [...load]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((m) => `${m.path}:${m.deps.length ? " " + m.deps.join(" ") : ""}\n`)
    .join("");
}
