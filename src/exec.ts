import fs from "node:fs";
import path from "node:path";
import { execa, type Options, type ResultPromise } from "execa";
import { DISK_FULL_HINT, diskFullLine } from "./diskspace.ts";
import { DemocdError } from "./errors.ts";
import type { Logger } from "./log.ts";

/**
 * The one door to external tools. Each tool democd runs is listed here with the
 * Debian package that provides it, so a missing tool fails with the fix, and
 * `doctor` can list them all.
 */
export const TOOLS = {
  "apt-get": { pkg: "apt", why: "download Debian packages (verified by apt)" },
  "apt-cache": { pkg: "apt", why: "resolve package versions" },
  "dpkg-deb": { pkg: "dpkg", why: "unpack .deb files without installing them" },
  depmod: { pkg: "kmod", why: "generate modules.dep for the kernel" },
  mmdebstrap: { pkg: "mmdebstrap", why: "bootstrap the debian profile's root from Debian's archive" },
  newuidmap: { pkg: "uidmap", why: "mmdebstrap's user namespace, for a debian-profile build as an ordinary user" },
  newgidmap: { pkg: "uidmap", why: "mmdebstrap's user namespace, for a debian-profile build as an ordinary user" },
  tar: { pkg: "tar", why: "list archives (checks and tests)" },
  xz: { pkg: "xz-utils", why: "xz-compressed initrds and kernel modules; the kernel out of its bzImage" },
  zstd: { pkg: "zstd", why: "zstd-compressed initrds" },
  lz4: { pkg: "lz4", why: "lz4-compressed initrds (unpacking other tools' media)" },
  openssl: { pkg: "openssl", why: "hash the root password (SHA-512 crypt)" },
  objcopy: { pkg: "binutils", why: "add an .sbat section to Xen's EFI binary (--secure-boot-key)" },
  sbsign: { pkg: "sbsigntool", why: "sign Xen's EFI binary with the user's Secure Boot key (--secure-boot-key)" },
  sbverify: { pkg: "sbsigntool", why: "check that signature against the user's certificate" },
  xorriso: { pkg: "xorriso", why: "master and unpack ISO images" },
  "grub-mkimage": { pkg: "grub-common", why: "make the GRUB BIOS and UEFI core images" },
  mformat: { pkg: "mtools", why: "make the UEFI boot FAT image without root" },
  mmd: { pkg: "mtools", why: "make directories in the FAT image" },
  mcopy: { pkg: "mtools", why: "copy BOOTX64.EFI into the FAT image" },
  sfdisk: { pkg: "fdisk", why: "write disk images' partition tables (GPT)" },
  "mkfs.ext4": { pkg: "e2fsprogs", why: "make disk images' root file systems from a directory" },
  debugfs: { pkg: "e2fsprogs", why: "set owners and dates inside a disk image without mounting it" },
  "qemu-img": { pkg: "qemu-utils", why: "convert disk images to qcow2, VHD and VMDK (and resize them in tests)" },
  "qemu-system-x86_64": { pkg: "qemu-system-x86", why: "boot the ISO" },
  mknod: { pkg: "coreutils", why: "restore device nodes when unpacking as root" },
  cp: { pkg: "coreutils", why: "copy an unpacked root with its owners" },
  flock: { pkg: "util-linux", why: "hold a build directory's lock (the kernel releases it when the build dies)" },
  nice: { pkg: "coreutils", why: "run fetch's work at a lower priority than the bootstrap beside it" },
} as const satisfies Record<string, { pkg: string; why: string }>;

export type ToolName = keyof typeof TOOLS;

/** Files a tool needs besides its binary (GRUB platform dirs, firmware). */
export const TOOL_FILES = {
  "grub i386-pc": { path: "/usr/lib/grub/i386-pc/moddep.lst", pkg: "grub-pc-bin" },
  "grub x86_64-efi": { path: "/usr/lib/grub/x86_64-efi/moddep.lst", pkg: "grub-efi-amd64-bin" },
  "OVMF firmware": { path: "/usr/share/ovmf/OVMF.fd", pkg: "ovmf" },
  "OVMF Secure Boot firmware": { path: "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", pkg: "ovmf" },
  "OVMF variables with Microsoft's keys": { path: "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", pkg: "ovmf" },
} as const;

const found = new Map<string, string | undefined>();

/**
 * The tool's path on PATH, or undefined: looked up in-process as `command -v` would (a
 * shell per tool cost 50-100 ms each on a busy machine, a dozen times per build).
 */
export async function whichTool(name: string): Promise<string | undefined> {
  if (!found.has(name)) found.set(name, searchPath(name, process.env.PATH ?? ""));
  return found.get(name);
}

/** The first executable regular file called `name` in the PATH's directories. */
export function searchPath(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(":")) {
    const file = path.join(dir || ".", name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return path.isAbsolute(file) ? file : path.resolve(file);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export async function requireTool(name: ToolName): Promise<void> {
  if (!(await whichTool(name))) {
    throw new DemocdError(`${name} is not installed`, { hint: `apt-get install ${TOOLS[name].pkg}` });
  }
}

/** A stage's tools, all checked before it starts: the first missing one is reported with its package. */
export async function requireTools(...names: ToolName[]): Promise<void> {
  for (const n of names) await requireTool(n);
}

/** Every tool runs in UTC and the C locale: FAT and ISO dates, sort orders and messages must not depend on the caller's. */
export const PINNED_ENV = { TZ: "UTC", LC_ALL: "C" } as const;

export interface RunOptions extends Pick<Options, "cwd" | "env" | "input" | "inputFile" | "cancelSignal"> {
  log?: Logger;
  /** Called with each line the tool writes (stderr and stdout), for progress. */
  onLine?: (line: string) => void;
  /** Accept these exit codes as success. */
  okCodes?: number[];
  /** The tool sees only `env` (and the pinned TZ and locale), none of the caller's environment. */
  cleanEnv?: boolean;
  /** An open file descriptor of ours the tool gets as its fd 3 (and no stdin). */
  fd3?: number;
  /** Work that yields the CPU to the rest (nice 10): fetch's, while the bootstrap, the longer path, runs beside it. */
  background?: boolean;
}

export const BACKGROUND_NICE = 10;

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Run a tool: check it exists, log the command, keep its output in the log, and turn a
 * failure into one readable line (the last thing the tool said).
 */
export async function run(tool: ToolName, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { log, onLine, okCodes = [0], cleanEnv = false, fd3, background = false, ...execaOptions } = options;
  await requireTool(tool);
  if (background) await requireTool("nice");
  log?.command([tool, ...args]);
  const started = process.hrtime.bigint();
  // execa hands any descriptor number to node as it is; its types name only 3 to 9.
  const stdio = fd3 === undefined ? {} : { stdio: ["ignore", "pipe", "pipe", fd3] as unknown as Options["stdio"] };
  // nice(1) sets the priority before the tool runs, so whatever it starts inherits it.
  const [file, argv] = background ? ["nice", ["-n", String(BACKGROUND_NICE), tool, ...args]] : [tool, args];
  const child = execa(file, argv, { ...execaOptions, ...stdio, env: { ...PINNED_ENV, ...execaOptions.env }, extendEnv: !cleanEnv, reject: false, all: true, stripFinalNewline: false });
  if (onLine) forEachLine(child, onLine);
  const r = await child;
  const all = typeof r.all === "string" ? r.all : "";
  const exitCode = r.exitCode ?? -1;
  // Each command's time in the log, and when it ended: where a slow build's seconds went, and what ran beside what, without a profiler.
  log?.record(`${all && !all.endsWith("\n") ? `${all}\n` : all}(${tool}: ${r.signal ?? `exit ${exitCode}`}, ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s, done at +${log.elapsed().toFixed(1)} s)`);
  if (!okCodes.includes(exitCode)) {
    const why = r.signal ? `killed by ${r.signal}` : `exit ${exitCode}`;
    const debug = `$ ${tool} ${args.join(" ")}\n${all}`;
    const full = diskFullLine(all);
    if (full) throw new DemocdError(`${tool} failed (${why}): the disk is full: ${full}`, { hint: DISK_FULL_HINT, debug });
    throw new DemocdError(`${tool} failed (${why}): ${lastMeaningfulLine(all) || "no output"}`, { debug });
  }
  return { stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? ""), exitCode };
}

function forEachLine(child: ResultPromise, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream?.on("data", (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split(/\r?\n|\r/);
      rest = lines.pop() ?? "";
      lines.forEach(onLine);
    });
  }
}

/** Closing lines tools print after the real error, which explain nothing. */
const BOILERPLATE = /Error is not recoverable|Exiting with failure status|exiting now|aborted by -abort_on|-return_with/i;

/** The line that best explains a failure: the last non-empty one, preferring error-ish lines. */
export function lastMeaningfulLine(output: string): string {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !BOILERPLATE.test(l));
  const errorish = lines.filter((l) => /\b(error|fatal|failed|cannot|can't|unable|not found|no such|E:)/i.test(l));
  return (errorish.at(-1) ?? lines.at(-1) ?? "").slice(0, 300);
}

/** Run a tool as a filter over bytes (compressors): stdin from `input`, stdout returned. */
export async function runFilter(tool: ToolName, args: readonly string[], input: Buffer, log?: Logger): Promise<Buffer> {
  await requireTool(tool);
  log?.command([tool, ...args]);
  const r = await execa(tool, args, { input, env: PINNED_ENV, encoding: "buffer", reject: false });
  if (r.exitCode !== 0) {
    const err = Buffer.from(r.stderr ?? []).toString();
    throw new DemocdError(`${tool} failed (exit ${r.exitCode}): ${lastMeaningfulLine(err) || "no output"}`, { debug: err });
  }
  return Buffer.from(r.stdout);
}

/** Run a program democd fetched itself (busybox from the cache): same logging and errors, no PATH lookup. */
export async function runFetched(file: string, args: readonly string[], log?: Logger): Promise<string> {
  log?.command([file, ...args]);
  const r = await execa(file, args, { env: PINNED_ENV, reject: false, all: true });
  if (r.exitCode !== 0) {
    throw new DemocdError(`${file} failed (exit ${r.exitCode}): ${lastMeaningfulLine(String(r.all ?? ""))}`, { debug: String(r.all ?? "") });
  }
  return String(r.stdout);
}

/** Start a long-running tool with piped stdio (QEMU); the caller drives it. */
export type Spawned = ResultPromise<{ reject: false; stdin: "pipe"; stdout: "pipe"; stderr: "pipe"; buffer: false }>;

/** Wrapped in an object: returning the child itself from an async function would await its exit. */
export async function spawnTool(tool: ToolName, args: readonly string[], log?: Logger): Promise<{ child: Spawned }> {
  await requireTool(tool);
  log?.command([tool, ...args]);
  return { child: execa(tool, args, { reject: false, stdin: "pipe", stdout: "pipe", stderr: "pipe", buffer: false }) };
}
