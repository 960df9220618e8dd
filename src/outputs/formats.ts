/**
 * The output formats, one table (linuxkit's model): the live ISO, and an installed-system
 * disk written once as raw and converted by qemu-img into what each hypervisor imports.
 * Pure data: the config validates --format against it before any work starts.
 */
export interface OutputFormat {
  /** What the file name ends with. */
  suffix: string;
  what: string;
  /** Disk formats share one raw image; conversions name qemu-img's output format and options. */
  disk: boolean;
  convert?: { format: string; options: string[] };
  /** Fields qemu-img stamps with the time or a random id, set from the build afterwards. */
  fixup?: "vhd" | "vmdk";
  /** An appliance packing another format's image (the OVA: its VMDK, made once). */
  packs?: "vmdk";
}

export const OUTPUT_FORMATS = {
  iso: { suffix: ".iso", what: "live medium: CD, DVD or USB stick, BIOS and UEFI", disk: false },
  raw: { suffix: ".raw", what: "installed system on a GPT disk (dd to a disk, or any hypervisor)", disk: true },
  qcow2: { suffix: ".qcow2", what: "QEMU/KVM, OpenStack (compressed, compat 1.1)", disk: true, convert: { format: "qcow2", options: ["-c", "-o", "compat=1.1"] } },
  vhd: { suffix: ".vhd", what: "XenServer / XCP-ng (dynamic VHD)", disk: true, convert: { format: "vpc", options: ["-o", "subformat=dynamic"] }, fixup: "vhd" },
  "vhd-fixed": { suffix: "-fixed.vhd", what: "Hyper-V, Azure (fixed VHD, size a whole number of MiB)", disk: true, convert: { format: "vpc", options: ["-o", "subformat=fixed,force_size=on"] }, fixup: "vhd" },
  vmdk: { suffix: ".vmdk", what: "VMware (streamOptimized VMDK; a VM is made around it by hand)", disk: true, convert: { format: "vmdk", options: ["-o", "subformat=streamOptimized"] }, fixup: "vmdk" },
  ova: { suffix: ".ova", what: "VMware, VirtualBox (OVF 1.0 appliance: descriptor, manifest and the VMDK)", disk: true, packs: "vmdk" },
} as const satisfies Record<string, OutputFormat>;

export type FormatName = keyof typeof OUTPUT_FORMATS;
export const FORMAT_NAMES = Object.keys(OUTPUT_FORMATS) as FormatName[];

/** `--out x` (or x.iso, x.qcow2 ...) gives x<suffix> for each format: one base, many files. */
export function outputPath(out: string, format: FormatName): string {
  const suffixes = Object.values(OUTPUT_FORMATS).map((f) => f.suffix).sort((a, b) => b.length - a.length);
  const known = suffixes.find((s) => out.endsWith(s));
  return (known ? out.slice(0, -known.length) : out) + OUTPUT_FORMATS[format].suffix;
}

/** qemu-img convert's arguments from the raw image to a format. */
export function convertArgs(format: FormatName, raw: string, out: string): string[] {
  const c = (OUTPUT_FORMATS[format] as OutputFormat).convert;
  if (!c) throw new Error(`internal: ${format} is not a conversion`);
  return ["convert", "-f", "raw", "-O", c.format, ...c.options, raw, out];
}
