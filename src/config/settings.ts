import path from "node:path";
import { FORMAT_NAMES } from "../outputs/formats.ts";
import { COMPRESSIONS } from "../archive/compress.ts";
import { ENTRY_IDS, PROFILES } from "./schema.ts";

/**
 * The one table of user-facing settings: each drives a config-file key, a CLI flag and
 * its help text. Defaults live here too, so what `--help` says is what a build does.
 */
export interface Setting {
  key: string;
  flag: string;
  help: string;
  kind: "string" | "int" | "list" | "bool" | "csv";
  default: unknown;
}

const projectDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

/**
 * Who built a medium, unless the user says: a constant, never the account or host that ran
 * the build, so two people building the same config get the same bytes (reproducible-builds
 * practice varies both between its two builds).
 */
export const DEFAULT_BUILDER = "the democd project";

export const SETTINGS: Setting[] = [
  { key: "version", flag: "--version <v>", help: "version of the demo medium", kind: "string", default: "1.0" },
  { key: "builder", flag: "--builder <who>", help: "who built it (shown in /etc/motd and build.json)", kind: "string", default: DEFAULT_BUILDER },
  { key: "profile", flag: "--profile <name>", help: `root to build: ${PROFILES.join(", ")}`, kind: "string", default: "debian" },
  { key: "hostname", flag: "--hostname <name>", help: "hostname of the running demo", kind: "string", default: "democd" },
  { key: "rootPassword", flag: "--root-password <pw>", help: "root password (stored only as a SHA-512 crypt hash)", kind: "string", default: undefined },
  { key: "out", flag: "--out <file>", help: "output file; each format adds its own suffix (.iso, .qcow2 ...) to the name without one (default build/democd-<version>.iso)", kind: "string", default: undefined },
  { key: "formats", flag: "--format <list>", help: `what to write, comma-separated: ${FORMAT_NAMES.join(", ")}`, kind: "csv", default: ["iso"] },
  { key: "disk.size", flag: "--disk-size <size>", help: "size of disk images, like 4G or 2048M (binary units); default: the contents plus a quarter (at least 256 MiB) free", kind: "string", default: undefined },
  { key: "vm.cpus", flag: "--vm-cpus <n>", help: "virtual CPUs of the appliance's machine (--format ova)", kind: "int", default: 2 },
  { key: "vm.memory", flag: "--vm-memory <mb>", help: "memory of the appliance's machine in MB (--format ova)", kind: "int", default: 1024 },
  { key: "vm.firmware", flag: "--vm-firmware <fw>", help: "firmware of the appliance's machine: bios or efi (the image boots on both; --format ova)", kind: "string", default: "bios" },
  { key: "packages.kernel.name", flag: "--kernel <pkg>", help: "Debian kernel package", kind: "string", default: "linux-image-amd64" },
  { key: "packages.kernel.version", flag: "--kernel-version <v>", help: "exact kernel package version", kind: "string", default: undefined },
  { key: "packages.xen.name", flag: "--xen <pkg>", help: "Debian hypervisor package", kind: "string", default: "xen-hypervisor-4.17-amd64" },
  { key: "packages.xen.version", flag: "--xen-version <v>", help: "exact hypervisor package version", kind: "string", default: undefined },
  { key: "packages.busybox.name", flag: "--busybox <pkg>", help: "Debian busybox package (must be static)", kind: "string", default: "busybox-static" },
  { key: "packages.busybox.version", flag: "--busybox-version <v>", help: "exact busybox package version", kind: "string", default: undefined },
  { key: "boot.timeout", flag: "--timeout <s>", help: "GRUB menu timeout in seconds", kind: "int", default: 5 },
  { key: "boot.default", flag: "--default-entry <id>", help: `default menu entry: ${ENTRY_IDS.join(", ")}`, kind: "string", default: "xen" },
  { key: "boot.serialSpeed", flag: "--serial-speed <baud>", help: "serial console speed", kind: "int", default: 115200 },
  // max:512M and no amount: Xen gives domain 0 all the machine's memory but its own reserve
  // (1/16, at most 128M), up to 512M. A fixed 512M panicked Xen on a 512 MB machine ("Not
  // enough RAM for DOM0 reservation"); now 384 MB reach a login, 1 GB leave a demo guest its
  // 256 MB, and from ~600 MB up domain 0 has 512M as before.
  { key: "boot.dom0Mem", flag: "--dom0-mem <mem>", help: "Xen dom0_mem (e.g. 512M,max:512M; -64M; min:256M,max:1G)", kind: "string", default: "max:512M" },
  // bootscrub=false: Xen's scrubbing of all free RAM cost ~30 s of dom0's boot and ~30 s of each
  // xl create under emulation. The trade: RAM left over from before this boot may reach a demo
  // guest unscrubbed; --xen-args "" (or any other value) brings scrubbing back.
  { key: "boot.xenArgs", flag: "--xen-args <args>", help: "extra Xen command line", kind: "string", default: "bootscrub=false" },
  { key: "boot.linuxArgs", flag: "--linux-args <args>", help: "extra Linux command line", kind: "string", default: "" },
  // Not 169.254.1.0/24: that is the demo domains' network on dom0's bridge.
  { key: "boot.ip", flag: "--ip <ip=>", help: "ip= value of the command-line IP entry (nfsroot syntax)", kind: "string", default: "169.254.0.1::169.254.0.254:255.255.255.0:democd:eth0:off" },
  { key: "medium.compression", flag: "--medium-compression <c>", help: "the ISO's files (not /boot): zisofs (Linux inflates them as it reads) or none", kind: "string", default: "zisofs" },
  { key: "initrd.compression", flag: "--initrd-compression <c>", help: `initrd compression: ${COMPRESSIONS.join(", ")}`, kind: "string", default: "gzip" },
  { key: "initrd.extraModules", flag: "--initrd-module <mod...>", help: "extra kernel modules for the initrd", kind: "list", default: [] },
  { key: "initrd.tmpfsSize", flag: "--tmpfs-size <size>", help: "size of the RAM root (democd.tmpfs= at boot)", kind: "string", default: "50%" },
  { key: "initrd.mediaTimeout", flag: "--media-timeout <s>", help: "seconds /linuxrc looks for the medium", kind: "int", default: 30 },
  // Hardware a Xen demo never drives, or cannot without non-free firmware Debian's kernel does not
  // ship: 37 MB of the 94 MB of compressed modules. A config file's "modules": {"exclude": []} keeps all.
  {
    key: "modules.exclude", flag: "--modules-exclude <dir...>", help: "kernel/ subdirectories of modules left off the medium", kind: "list",
    default: ["sound", "drivers/media", "drivers/net/wireless", "net/wireless", "net/mac80211", "drivers/bluetooth", "net/bluetooth", "drivers/infiniband", "drivers/iio", "drivers/staging", "drivers/isdn", "drivers/gpu/drm/amd"],
  },
  { key: "debian.suite", flag: "--suite <suite>", help: "Debian suite of the debian profile's root", kind: "string", default: "bookworm" },
  { key: "debian.mirror", flag: "--mirror <url>", help: "Debian mirror (default: the one this host's apt uses)", kind: "string", default: undefined },
  { key: "debian.securityMirror", flag: "--security-mirror <url>", help: "Debian security mirror (default: this host's, else deb.debian.org)", kind: "string", default: undefined },
  { key: "debian.aptProxy", flag: "--apt-proxy <url>", help: "HTTP proxy for the bootstrap's apt", kind: "string", default: undefined },
  { key: "debian.packages", flag: "--packages <pkg...>", help: "extra Debian packages for the debian profile", kind: "list", default: [] },
  { key: "debian.hvm", flag: "--hvm", help: "add QEMU's device model (qemu-system-xen, about 62 MiB) to domain 0 for full HVM guests (debian profile; /etc/xen/disk-guest-hvm.cfg)", kind: "bool", default: false },
  { key: "debian.minimize", flag: "--minimize", help: "drop docs, man pages, locales and apt lists from the root (--no-minimize keeps them)", kind: "bool", default: true },
  { key: "guests", flag: "--guest <image...>", help: "xenguest image put on the medium as /usr/share/guests/<name>.xenguest (repeatable; debian profile; started at boot if its GUEST_AUTOBOOT is 1)", kind: "list", default: [] },
  { key: "ssh.keys", flag: "--ssh-key <file...>", help: "public key file whose keys may log in as root over ssh, in domain 0 and the demo guests (repeatable; debian profile)", kind: "list", default: [] },
  { key: "secureBoot.key", flag: "--secure-boot-key <file>", help: "your Secure Boot private key (PEM, no passphrase): signs Xen on the medium so its entries start under Secure Boot once you enrol the certificate (with --secure-boot-cert; never copied anywhere)", kind: "string", default: undefined },
  { key: "secureBoot.cert", flag: "--secure-boot-cert <file>", help: "the certificate of --secure-boot-key (PEM); put on the medium as /democd/secure-boot.der for mokutil --import or MokManager", kind: "string", default: undefined },
  { key: "guest.memory", flag: "--guest-memory <mb>", help: "memory of a demo domain (xl create /etc/xen/demo.cfg), in MB", kind: "int", default: 256 },
  { key: "profileDir", flag: "--profile-dir <dir>", help: "directory with rootpatch/, irtree/, templates/", kind: "string", default: projectDir },
  { key: "buildDir", flag: "--build-dir <dir>", help: "work and cache directory", kind: "string", default: path.join(projectDir, "build") },
];

/** The settings' defaults as a nested object. */
export function defaults(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) if (s.default !== undefined) setPath(out, s.key, structuredClone(s.default));
  return out;
}

/** The camelCase property commander gives a flag ("--root-password <pw>" -> rootPassword). */
export function optionProperty(s: Setting): string {
  const long = s.flag.split(/\s/)[0].replace(/^--/, "");
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== "object" || cur[p] === null || Array.isArray(cur[p])) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts.at(-1)!] = value;
}
