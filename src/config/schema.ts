import { z } from "zod";
import { COMPRESSIONS } from "../archive/compress.ts";
import { parseSize } from "../disk/layout.ts";
import { FORMAT_NAMES, type FormatName } from "../outputs/formats.ts";

/**
 * Xen 4.17's dom0_mem (xen-command-line): a list of `min:<sz>`, `max:<sz>` and `<sz>`, where
 * `<sz>` is `<size>` or `[<size>+]<frac>%` (a share of the machine's memory), either one
 * optionally `-` (all but that much). A size without unit is KiB to Xen.
 */
const DOM0_MEM_SIZE = String.raw`-?(?:\d+[KMGTB]?(?:\+\d{1,2}%)?|\d{1,2}%)`;
const DOM0_MEM = new RegExp(String.raw`^(?:(?:min|max):)?${DOM0_MEM_SIZE}(?:,(?:(?:min|max):)?${DOM0_MEM_SIZE})*$`);

/** The GRUB menu entries democd renders, by the id `boot --entry` takes. */
export const ENTRY_IDS = ["xen", "xen-ip", "xen-safe", "linux"] as const;
export type EntryId = (typeof ENTRY_IDS)[number];

/** debian: a Debian userland bootstrapped by mmdebstrap, with the Xen toolstack; minimal: busybox only. */
export const PROFILES = ["debian", "minimal"] as const;

const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, "must be a Debian package name");

const packageRef = z
  .object({
    name: packageName,
    version: z
      .string()
      .regex(/^[0-9A-Za-z.+~:-]+$/, "must be a Debian version")
      .optional(),
  })
  .strict();

/** A size for tmpfs: bytes with a k/m/g suffix, or a percentage of RAM. */
const tmpfsSize = z.string().regex(/^(\d+[kmgKMG]?|\d{1,3}%)$/, 'must be like "512m", "2g" or "50%"');

/** Kernel nfsroot syntax: ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>[:<dns0>:<dns1>] or a keyword. */
const ipConfig = z
  .string()
  .regex(/^(dhcp|on|any|off|none|[0-9.]*(:[^:\s]*){0,8})$/, "must use the kernel's nfsroot ip= syntax, e.g. 169.254.0.1::169.254.0.254:255.255.255.0:democd:eth0:off");

/** An http(s) or file URL of a Debian archive. */
const mirrorUrl = z.string().regex(/^(https?|file):\/\/[^\s"'`$\\]+$/, "must be an http://, https:// or file:// URL");

const cmdline = z.string().regex(/^[^\n\r'"`\\$]*$/, "must be a single line without quotes, backslashes or $");

export const configSchema = z
  .object({
    version: z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/, "must be letters, digits and . + _ -"),
    builder: z.string().min(1).max(200).regex(/^[^\n\r]*$/, "must be one line"),
    profile: z.enum(PROFILES),
    hostname: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, "must be a valid hostname"),
    /** Plain text only on the way in: it is hashed and never written anywhere. */
    rootPassword: z.string().min(1).max(256).optional(),
    out: z.string().min(1),
    /** What the build writes: the live ISO and/or installed-system disk images (src/outputs/formats.ts). */
    formats: z
      .array(z.string().refine((f) => (FORMAT_NAMES as string[]).includes(f), (f) => ({ message: `unknown format "${f}" (known: ${FORMAT_NAMES.join(", ")})` })))
      .min(1, `name at least one format (known: ${FORMAT_NAMES.join(", ")})`)
      .refine((l) => new Set(l).size === l.length, "names a format twice")
      .transform((l) => l as FormatName[]),
    disk: z
      .object({
        size: z.string().refine((s) => (parseSize(s) ?? 0) > 0, 'must be like "4G" or "2048M" (binary units: G = GiB, M = MiB)').optional(),
      })
      .strict()
      .default({}),
    /** The virtual machine an appliance (--format ova) describes. */
    vm: z
      .object({
        cpus: z.number().int().min(1).max(128),
        memory: z.number().int().min(128).max(1048576),
        firmware: z.enum(["bios", "efi"]),
      })
      .strict(),
    packages: z
      .object({ kernel: packageRef, xen: packageRef, busybox: packageRef })
      .strict(),
    boot: z
      .object({
        timeout: z.number().int().min(0).max(3600),
        default: z.enum(ENTRY_IDS),
        serialSpeed: z.number().int().refine((n) => [9600, 19200, 38400, 57600, 115200].includes(n), "must be a standard baud rate"),
        dom0Mem: z.string().regex(DOM0_MEM, 'must be Xen\'s dom0_mem: a comma list of [min:|max:]<size>, a size like 512M, -64M (all but) or 25% / 1G+25% (of the machine), e.g. "max:512M" or "512M,max:512M"'),
        xenArgs: cmdline,
        linuxArgs: cmdline,
        ip: ipConfig,
      })
      .strict(),
    /** The ISO's files: zisofs-compressed (Linux's isofs inflates them as it reads; GRUB's /boot stays plain) or not. */
    medium: z
      .object({
        compression: z.enum(["zisofs", "none"]),
      })
      .strict(),
    initrd: z
      .object({
        compression: z.enum(COMPRESSIONS),
        extraModules: z.array(z.string().regex(/^[\w-]+$/, "must be a module name")),
        tmpfsSize,
        mediaTimeout: z.number().int().min(1).max(600),
      })
      .strict(),
    /** The kernel modules on the medium. */
    modules: z
      .object({
        exclude: z.array(z.string().regex(/^(?!.*\.\.)[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, "must be a directory under the kernel's kernel/, like sound or drivers/media")),
      })
      .strict(),
    /** The debian profile's bootstrap (mmdebstrap). Mirrors default to the ones the host's apt uses. */
    debian: z
      .object({
        suite: z.string().regex(/^[a-z][a-z0-9-]*$/, "must be a Debian suite name like bookworm"),
        mirror: mirrorUrl.optional(),
        securityMirror: mirrorUrl.optional(),
        aptProxy: z.string().regex(/^https?:\/\/[^\s"'`$\\]+$/, "must be an http:// or https:// URL").optional(),
        packages: z.array(packageName),
        minimize: z.boolean(),
        /** QEMU's device model in domain 0 (qemu-system-xen), for full HVM guests. */
        hvm: z.boolean(),
      })
      .strict(),
    /** Demo domains started off the medium with `xl create /etc/xen/demo.cfg`. */
    guest: z
      .object({
        memory: z.number().int().min(64).max(65536),
      })
      .strict(),
    /** xenguest images copied onto the medium (/usr/share/guests/NAME.xenguest); xenguest-manager starts the autoboot ones. */
    guests: z.array(z.string().min(1)),
    /** root's authorized keys on every domain (files of OpenSSH public keys). */
    ssh: z
      .object({
        keys: z.array(z.string().min(1)),
      })
      .strict(),
    /** The user's Secure Boot key pair: Xen signed with it on the medium's ESP (never recorded anywhere). */
    secureBoot: z
      .object({
        key: z.string().min(1).optional(),
        cert: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    /** The profile directory holding rootpatch/, irtree/ and templates/. */
    profileDir: z.string().min(1),
    buildDir: z.string().min(1),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/**
 * The resolved config as recorded on the medium. Not recorded: secrets, the building machine's
 * paths (guests: the manifest lists the images on the medium by name and sha256 instead; ssh key
 * files: their keys are root's authorized_keys on the medium; the Secure Boot key pair: the
 * certificate is /democd/secure-boot.der on the medium), and
 * which files the build writes (the medium is the same whatever else is written beside it).
 */
export type PublicConfig = Omit<Config, "rootPassword" | "profileDir" | "buildDir" | "out" | "formats" | "disk" | "vm" | "guests" | "ssh" | "secureBoot">;
export function publicConfig(config: Config): PublicConfig {
  const { rootPassword: _pw, profileDir: _p, buildDir: _b, out: _o, formats: _f, disk: _d, vm: _v, guests: _g, ssh: _s, secureBoot: _sb, ...rest } = config;
  return rest;
}
