import fs from "node:fs";
import path from "node:path";
import { fileInside } from "../fsutil.ts";

/** A boot loader configuration found on a medium, with the kernels and initrds it loads. */
export interface BootConfig {
  /** Path on the medium ("/isolinux/isolinux.cfg"). */
  file: string;
  loader: "grub" | "syslinux";
  kernels: string[];
  initrds: string[];
}

const GRUB_NAMES = /^(grub|loopback)\.cfg$/;
const SYSLINUX_NAMES = /^(isolinux|syslinux|extlinux|txt|menu|live|install)\.cfg$/i;

/** What a GRUB config loads: linux/linuxefi/multiboot* kernels, initrd/module lines. */
export function parseGrubConfig(text: string): { kernels: string[]; initrds: string[] } {
  const kernels: string[] = [];
  const initrds: string[] = [];
  let modules = 0; // under multiboot, an entry's first module is the kernel, the rest its initrds
  for (const raw of text.split("\n")) {
    const [cmd, ...args] = raw.trim().split(/\s+/);
    const files = args.filter((a) => !a.startsWith("-"));
    if (cmd === "menuentry") modules = 0;
    else if (/^(linux|linuxefi|linux16|kernel|multiboot|multiboot2)$/.test(cmd) && files[0]) kernels.push(files[0]);
    else if (/^(initrd|initrdefi|initrd16)$/.test(cmd)) initrds.push(...files);
    else if (/^(module|module2)$/.test(cmd) && files[0]) (modules++ === 0 ? kernels : initrds).push(files[0]);
  }
  return { kernels: unique(kernels), initrds: unique(initrds) };
}

/** What an isolinux/syslinux config loads: KERNEL/LINUX lines, INITRD lines and initrd= in APPEND. */
export function parseSyslinuxConfig(text: string): { kernels: string[]; initrds: string[] } {
  const kernels: string[] = [];
  const initrds: string[] = [];
  for (const raw of text.split("\n")) {
    const m = /^\s*(\w+)\s+(.*)$/.exec(raw);
    if (!m) continue;
    const key = m[1].toLowerCase();
    const rest = m[2].trim();
    if ((key === "kernel" || key === "linux") && !/\.c32$/i.test(rest)) kernels.push(rest.split(/\s+/)[0]);
    if (key === "initrd") initrds.push(...rest.split(","));
    if (key === "append") for (const a of rest.split(/\s+/)) if (a.startsWith("initrd=")) initrds.push(...a.slice(7).split(","));
  }
  return { kernels: unique(kernels), initrds: unique(initrds.filter(Boolean)) };
}

const unique = (xs: string[]) => [...new Set(xs)];

/** Find boot configs under an unpacked medium and resolve what they load to paths on it. */
export function findBootConfigs(medium: string): BootConfig[] {
  const found: BootConfig[] = [];
  const walk = (rel: string, depth: number) => {
    if (depth > 6) return;
    for (const e of fs.readdirSync(path.join(medium, rel), { withFileTypes: true })) {
      const r = path.posix.join(rel, e.name);
      if (e.isDirectory()) walk(r, depth + 1);
      else if (e.isFile() && (GRUB_NAMES.test(e.name) || SYSLINUX_NAMES.test(e.name))) {
        const abs = path.join(medium, r);
        if (fs.statSync(abs).size > 1024 * 1024) continue;
        const loader = GRUB_NAMES.test(e.name) ? "grub" : "syslinux";
        const text = fs.readFileSync(abs, "utf8");
        const parsed = loader === "grub" ? parseGrubConfig(text) : parseSyslinuxConfig(text);
        const resolve = (p: string) => resolveOnMedium(medium, path.posix.dirname("/" + r), p);
        found.push({ file: "/" + r, loader, kernels: parsed.kernels.map(resolve), initrds: parsed.initrds.map(resolve) });
      }
    }
  };
  walk("", 0);
  return found;
}

/** GRUB paths may carry a device ("($root)/x"); syslinux paths are relative to the config's directory. */
function resolveOnMedium(medium: string, configDir: string, p: string): string {
  const clean = p.replace(/^\([^)]*\)/, "");
  const candidates = clean.startsWith("/") ? [clean] : [path.posix.join(configDir, clean), "/" + clean];
  return candidates.find((c) => fileInside(medium, c)) ?? candidates[0];
}
