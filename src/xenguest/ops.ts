import fs from "node:fs";
import path from "node:path";
import { SafeTree } from "../archive/safe-tree.ts";
import { checkMembers, PART_FS, xlFiles } from "./check.ts";
import { cloneMembers, setText, textOf, type ImageMembers } from "./image.ts";
import { formatShellVars, parseShellVars, setVar, SHELL_NAME, unsetVar } from "./shellvars.ts";
import { formatCfgSize, parseSizeOption, SIZE_HELP } from "./sizes.ts";
import { disableXl, getXl, mentions, parseXlConfig, setXl, xlList, xlNumber, xlString, type XlValue } from "./xlcfg.ts";

/** The default files of a new image (the original's settings; memory sized for a demo CD). */
export const DEFAULT_PARAMS = `# xenguest image: parameters for the host (sourced before each hook)
# Edit with: democd xenguest update IMAGE --set-param=NAME=VALUE

# Guest created and started when domain 0 boots
GUEST_AUTOBOOT="1"
`;

export const DEFAULT_GUEST_CFG = `# xenguest image: xen configuration (xl syntax); parts in guest.d/ are merged after it
# Edit with: democd xenguest update IMAGE --xen-...

# Guest name (set by the manager when the guest is created)
# name = ""

# Guest memory size in MB
memory = 256

# Number of VCPUS
vcpus = 1

# Guest command line
extra = "console=hvc0 rw"

# Guest root filesystem device (from guest point of view)
# root = "/dev/xvda2"

# Disk that will be used by the guest (set by the manager when the guest is created)
# disk = [ "phy:/var/lib/xenguest/NAME/disk.img,xvda,w" ]
`;

export const DEFAULT_DISK_CFG = `DISK_SIZE="0"
DISK_DEVICE=""
`;

export function newImageMembers(): ImageMembers {
  const m: ImageMembers = new Map();
  setText(m, "params.cfg", DEFAULT_PARAMS);
  setText(m, "guest.cfg", DEFAULT_GUEST_CFG);
  setText(m, "disk.cfg", DEFAULT_DISK_CFG);
  return m;
}

/** The options of create and update, as commander parses them (repeatable ones as lists, in command-line order). */
export interface XenguestOptions {
  guestResetConfig?: boolean;
  xenResetConfig?: boolean;
  diskResetConfig?: boolean;
  xenCleanExtra?: boolean;
  setParam?: string[];
  xenRmFile?: string[];
  xenAddFile?: string[];
  diskRmFile?: string[];
  diskAddFile?: string[];
  initScript?: string[];
  initPre?: string[];
  initPost?: string[];
  xenName?: string;
  xenKernel?: string;
  kernel?: string;
  xenRamdisk?: string;
  xenDeviceTree?: string;
  xenMemory?: string;
  xenVcpus?: string;
  xenRoot?: string;
  xenDisk?: string;
  xenClean?: boolean;
  xenExtra?: string[];
  xenAppend?: string[];
  diskSize?: string;
  diskRmPart?: string[];
  diskAddPart?: string[];
}

export interface OptionSpec {
  flag: string;
  help: string;
  repeat?: boolean;
}

/** The options in the order they apply (the order of this table); --help prints it so. */
export const OPTION_SPECS: OptionSpec[] = [
  { flag: "--guest-reset-config", help: "1. reset params.cfg to the default (GUEST_AUTOBOOT=1)" },
  { flag: "--xen-reset-config", help: "1. reset guest.cfg to the default and drop guest.d/" },
  { flag: "--disk-reset-config", help: "1. reset disk.cfg to the default (no disk)" },
  { flag: "--xen-clean-extra", help: "1. set the guest command line (extra) to \"\"" },
  { flag: "--set-param <NAME[=VALUE]>", help: "2. set a params.cfg variable (NAME alone removes it)", repeat: true },
  { flag: "--xen-rm-file <DST>", help: "3. remove files/DST", repeat: true },
  { flag: "--xen-add-file <SRC[:DST]>", help: "3. add SRC as files/DST (default: its base name)", repeat: true },
  { flag: "--disk-rm-file <DST>", help: "3. remove disk/DST", repeat: true },
  { flag: "--disk-add-file <SRC[:DST]>", help: "3. add SRC as disk/DST, for a partition's CONTENT", repeat: true },
  { flag: "--init-pre <FILE>", help: "3. add a hook run before the guest is created (init.pre/)", repeat: true },
  { flag: "--init-script <FILE>", help: "3. add a hook run after xl create -p, before unpause (init.d/)", repeat: true },
  { flag: "--init-post <FILE>", help: "3. add a hook run after the guest is started (init.post/)", repeat: true },
  { flag: "--xen-name <NAME>", help: "4. guest name (empty: comment it out; the manager sets it)" },
  { flag: "--xen-kernel <FILE>", help: "4. guest kernel, stored as files/kernel (empty: remove); alias --kernel" },
  { flag: "--xen-ramdisk <FILE>", help: "4. guest ramdisk, stored as files/ramdisk.img (empty: remove)" },
  { flag: "--xen-device-tree <FILE>", help: "4. guest device tree, stored as files/guest.dtb (empty: remove)" },
  { flag: "--xen-memory <MB>", help: "4. guest memory in MB" },
  { flag: "--xen-vcpus <N>", help: "4. number of virtual CPUs" },
  { flag: "--xen-root <DEV>", help: "4. root= of the guest (empty: comment it out)" },
  { flag: "--xen-disk <DEV>", help: "4. disk = [ \"phy:DEV,xvda,w\" ] (empty: comment it out)" },
  { flag: "--xen-extra <ARG>", help: "4. append ARG to the guest command line", repeat: true },
  { flag: "--xen-append <FILE>", help: "4. add FILE (xl syntax) as guest.d/<its name>", repeat: true },
  { flag: "--disk-size <SIZE>", help: `5. guest disk size, ${SIZE_HELP}; 0: no disk` },
  { flag: "--disk-rm-part <NUM>", help: "5. remove partition NUM", repeat: true },
  { flag: "--disk-add-part <NUM:SIZE:FS:CONTENT>", help: `5. partition NUM (1-4) of SIZE (${SIZE_HELP}), FS ext2|ext3|ext4|vfat|swap|none, CONTENT a file of disk/ (.tar[.gz|.bz2|.xz] or .img[.gz|.bz2]) or empty`, repeat: true },
];

export const ORDER_HELP = `Options apply in this order, whatever their order on the command line: 1 resets, 2 parameters,
3 files and hooks, 4 xen settings (--xen-extra in command-line order), 5 disk size and partitions
(removals first); then the whole image is checked. Nothing is written unless every option is valid
and the result passes check.`;

interface Ctx {
  m: ImageMembers;
  problems: string[];
}

function readSource(c: Ctx, opt: string, file: string): Buffer | undefined {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) {
      c.problems.push(`${opt}=${file}: not a regular file`);
      return undefined;
    }
    return fs.readFileSync(file);
  } catch (e) {
    c.problems.push(`${opt}=${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
    return undefined;
  }
}

/** A name inside a directory of the image (files/, disk/), or a problem. */
function memberName(c: Ctx, opt: string, dir: string, rel: string): string | undefined {
  const n = SafeTree.normalize(rel);
  if ("why" in n || n.rel === "") {
    c.problems.push(`${opt}: ${JSON.stringify(rel)} must be a relative name inside ${dir}/${"why" in n ? ` (${n.why})` : ""}`);
    return undefined;
  }
  return `${dir}/${n.rel}`;
}

function splitSrcDst(arg: string): { src: string; dst: string } {
  const i = arg.indexOf(":");
  if (i < 0) return { src: arg, dst: path.basename(arg) };
  const dst = arg.slice(i + 1);
  return { src: arg.slice(0, i), dst: dst === "" ? path.basename(arg.slice(0, i)) : dst };
}

const oneLine = (c: Ctx, opt: string, v: string): boolean => {
  if (/[\n\r\0]/.test(v)) {
    c.problems.push(`${opt}: must be one line`);
    return false;
  }
  return true;
};

/** The file where setting key takes effect: where it is set last, else guest.cfg if it names it, else guest.d/KEY.cfg (as the original). */
function xlTarget(m: ImageMembers, key: string): string {
  let target: string | undefined;
  for (const { file, cfg } of xlFiles(m)) if (cfg.settings.some((s) => s.key === key)) target = file;
  if (target) return target;
  const g = textOf(m, "guest.cfg");
  if (g !== undefined && mentions(parseXlConfig(g), key)) return "guest.cfg";
  return `guest.d/${key}.cfg`;
}

function setXlKey(m: ImageMembers, key: string, value: XlValue): void {
  const file = xlTarget(m, key);
  setText(m, file, setXl(parseXlConfig(textOf(m, file) ?? ""), key, value).text);
}

function disableXlKey(m: ImageMembers, key: string): void {
  for (const { file, cfg } of xlFiles(m)) if (cfg.settings.some((s) => s.key === key)) setText(m, file, disableXl(cfg, key).text);
}

function editShell(m: ImageMembers, file: string, edit: (f: ReturnType<typeof parseShellVars>) => void): void {
  const f = parseShellVars(textOf(m, file) ?? "");
  edit(f);
  setText(m, file, formatShellVars(f));
}

const FILE_OPTS = [
  ["xenKernel", "--xen-kernel", "kernel", "files/kernel"],
  ["xenRamdisk", "--xen-ramdisk", "ramdisk", "files/ramdisk.img"],
  ["xenDeviceTree", "--xen-device-tree", "device_tree", "files/guest.dtb"],
] as const;

/**
 * Apply the options to a copy of the image, in the documented order. Every option is
 * validated (and every source file read) first; the result is checked as a whole. Returns
 * the new members, or every problem.
 */
export function applyOptions(members: ImageMembers, o: XenguestOptions): { members: ImageMembers; problems: string[] } {
  const c: Ctx = { m: cloneMembers(members), problems: [] };
  const m = c.m;
  const opts: XenguestOptions = { ...o, xenKernel: o.xenKernel ?? o.kernel };
  if (o.kernel !== undefined && o.xenKernel !== undefined) c.problems.push("--kernel: the same as --xen-kernel; give one");

  // Validation and reading: nothing applied yet.
  const params: { key: string; value?: string }[] = [];
  for (const p of opts.setParam ?? []) {
    const eq = p.indexOf("=");
    const key = eq < 0 ? p : p.slice(0, eq);
    if (!SHELL_NAME.test(key)) c.problems.push(`--set-param=${p}: ${JSON.stringify(key)} is not a shell variable name`);
    else if (oneLine(c, `--set-param=${key}`, p)) params.push({ key, value: eq < 0 ? undefined : p.slice(eq + 1) });
  }
  if (params.some((p) => p.key === "GUEST_AUTOBOOT" && p.value !== undefined && !["0", "1"].includes(p.value))) {
    c.problems.push("--set-param=GUEST_AUTOBOOT: must be 0 or 1");
  }
  const adds: { dst: string; data: Buffer; mode: number }[] = [];
  const rms: string[] = [];
  for (const [list, opt, dir] of [[opts.xenRmFile, "--xen-rm-file", "files"], [opts.diskRmFile, "--disk-rm-file", "disk"]] as const) {
    for (const r of list ?? []) {
      const n = memberName(c, `${opt}=${r}`, dir, r);
      if (n && m.get(n)?.type !== "file") c.problems.push(`${opt}=${r}: there is no ${n} in the image`);
      else if (n) rms.push(n);
    }
  }
  for (const [list, opt, dir] of [[opts.xenAddFile, "--xen-add-file", "files"], [opts.diskAddFile, "--disk-add-file", "disk"]] as const) {
    for (const a of list ?? []) {
      const { src, dst } = splitSrcDst(a);
      const n = memberName(c, `${opt}=${a}`, dir, dst);
      const data = readSource(c, opt, src);
      if (n && data) adds.push({ dst: n, data, mode: 0o644 });
    }
  }
  for (const [list, opt, dir] of [[opts.initPre, "--init-pre", "init.pre"], [opts.initScript, "--init-script", "init.d"], [opts.initPost, "--init-post", "init.post"]] as const) {
    for (const f of list ?? []) {
      const data = readSource(c, opt, f);
      if (data) adds.push({ dst: `${dir}/${path.basename(f)}`, data, mode: 0o755 });
    }
  }
  const fileSettings: { key: string; dst: string; data?: Buffer }[] = [];
  for (const [prop, opt, key, dst] of FILE_OPTS) {
    const v = opts[prop];
    if (v === undefined) continue;
    if (v === "") fileSettings.push({ key, dst });
    else {
      const data = readSource(c, opt, v);
      if (data) fileSettings.push({ key, dst, data });
    }
  }
  if (opts.xenName !== undefined && opts.xenName !== "" && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(opts.xenName)) {
    c.problems.push(`--xen-name=${opts.xenName}: must be letters, digits and _ . - (at most 64)`);
  }
  const whole = (opt: string, v: string | undefined, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      c.problems.push(`${opt}=${v}: must be a whole number from ${min} to ${max}`);
      return undefined;
    }
    return Number(v);
  };
  const memory = whole("--xen-memory", opts.xenMemory, 16, 1048576);
  const vcpus = whole("--xen-vcpus", opts.xenVcpus, 1, 512);
  if (opts.xenRoot !== undefined) oneLine(c, "--xen-root", opts.xenRoot);
  if (opts.xenDisk !== undefined && opts.xenDisk !== "" && /[,\s"'\\]/.test(opts.xenDisk)) c.problems.push(`--xen-disk=${opts.xenDisk}: a device or file path without commas, spaces or quotes`);
  for (const e of opts.xenExtra ?? []) oneLine(c, "--xen-extra", e);
  const appends: { dst: string; text: string }[] = [];
  for (const f of opts.xenAppend ?? []) {
    const data = readSource(c, "--xen-append", f);
    if (!data) continue;
    const cfg = parseXlConfig(data.toString("utf8"));
    for (const p of cfg.problems) c.problems.push(`--xen-append=${f}:${p.line ?? ""}: ${p.message}`);
    appends.push({ dst: `guest.d/${path.basename(f)}`, text: cfg.text });
  }
  let diskSize: number | undefined;
  if (opts.diskSize !== undefined) {
    const s = parseSizeOption(opts.diskSize, true);
    if ("error" in s) c.problems.push(`--disk-size=${opts.diskSize}: ${s.error}`);
    else diskSize = s.mib;
  }
  const rmParts: number[] = [];
  for (const r of opts.diskRmPart ?? []) {
    if (!/^[1-4]$/.test(r)) c.problems.push(`--disk-rm-part=${r}: partition numbers are 1 to 4`);
    else rmParts.push(Number(r));
  }
  const addParts: { num: number; value: string }[] = [];
  for (const a of opts.diskAddPart ?? []) {
    const f = a.split(":");
    if (f.length !== 4) {
      c.problems.push(`--disk-add-part=${a}: must be NUM:SIZE:FS:CONTENT (FS and CONTENT may be empty)`);
      continue;
    }
    const [num, size, fsType, content] = f;
    let ok = true;
    if (!/^[1-4]$/.test(num)) ok = !c.problems.push(`--disk-add-part=${a}: partition numbers are 1 to 4`);
    const s = parseSizeOption(size);
    if ("error" in s) ok = !c.problems.push(`--disk-add-part=${a}: ${s.error}`);
    if (!(PART_FS as readonly string[]).includes(fsType)) ok = !c.problems.push(`--disk-add-part=${a}: filesystem ${JSON.stringify(fsType)} is not one of ext2, ext3, ext4, vfat, swap, none (or empty)`);
    if (addParts.some((p) => p.num === Number(num))) ok = !c.problems.push(`--disk-add-part=${a}: partition ${num} is given twice`);
    // "none" is written empty: the original's manager knows only an empty FS as "do not format".
    if (ok && "mib" in s) addParts.push({ num: Number(num), value: `${formatCfgSize(s.mib)}:${fsType === "none" ? "" : fsType}:${content}` });
  }
  if (c.problems.length) return { members, problems: c.problems };

  // 1. resets
  if (opts.guestResetConfig) setText(m, "params.cfg", DEFAULT_PARAMS);
  if (opts.xenResetConfig) {
    setText(m, "guest.cfg", DEFAULT_GUEST_CFG);
    for (const k of [...m.keys()]) if (k === "guest.d" || k.startsWith("guest.d/")) m.delete(k);
  }
  if (opts.diskResetConfig) setText(m, "disk.cfg", DEFAULT_DISK_CFG);
  if (opts.xenCleanExtra) setXlKey(m, "extra", xlString(""));
  // 2. parameters
  for (const p of params) editShell(m, "params.cfg", (f) => (p.value === undefined ? unsetVar(f, p.key) : setVar(f, p.key, p.value)));
  // 3. files and hooks
  for (const r of rms) m.delete(r);
  for (const a of adds) m.set(a.dst, { type: "file", mode: a.mode, data: a.data });
  // 4. xen settings
  if (opts.xenName !== undefined) opts.xenName === "" ? disableXlKey(m, "name") : setXlKey(m, "name", xlString(opts.xenName));
  for (const f of fileSettings) {
    if (f.data) {
      m.set(f.dst, { type: "file", mode: 0o644, data: f.data });
      setXlKey(m, f.key, xlString(f.dst));
    } else {
      m.delete(f.dst);
      disableXlKey(m, f.key);
    }
  }
  if (memory !== undefined) setXlKey(m, "memory", xlNumber(memory));
  if (vcpus !== undefined) setXlKey(m, "vcpus", xlNumber(vcpus));
  if (opts.xenRoot !== undefined) opts.xenRoot === "" ? disableXlKey(m, "root") : setXlKey(m, "root", xlString(opts.xenRoot));
  if (opts.xenDisk !== undefined) opts.xenDisk === "" ? disableXlKey(m, "disk") : setXlKey(m, "disk", xlList([`phy:${opts.xenDisk},xvda,w`]));
  for (const e of opts.xenExtra ?? []) {
    const merged = parseXlConfig(xlFiles(m).map((x) => x.cfg.text + "\n").join(""));
    const cur = getXl(merged, "extra");
    const before = cur?.kind === "string" ? cur.value : "";
    setXlKey(m, "extra", xlString(before === "" ? e : `${before} ${e}`));
  }
  for (const a of appends) setText(m, a.dst, a.text);
  // 5. disk
  if (diskSize !== undefined) editShell(m, "disk.cfg", (f) => setVar(f, "DISK_SIZE", formatCfgSize(diskSize)));
  for (const n of rmParts) editShell(m, "disk.cfg", (f) => unsetVar(f, `DISK_PART${n}`));
  for (const p of addParts) editShell(m, "disk.cfg", (f) => setVar(f, `DISK_PART${p.num}`, p.value));

  const problems = checkMembers(m);
  return problems.length ? { members, problems } : { members: m, problems: [] };
}
