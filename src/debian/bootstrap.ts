import fs from "node:fs";
import path from "node:path";
import { createDevices, isRoot } from "../archive/devices.ts";
import { SafeTree, type TreeRecord } from "../archive/safe-tree.ts";
import { untarInto } from "../archive/untar.ts";
import { sha256 } from "../hash.ts";
import { DemocdError } from "../errors.ts";
import { lastMeaningfulLine, run } from "../exec.ts";
import { cachedTree } from "../cache-tree.ts";
import { toolVersion } from "../tool-version.ts";
import type { Logger } from "../log.ts";
import { checkMirrors, sourceLines, type Mirrors } from "./mirrors.ts";
import { minimizeArgs } from "./minimize.ts";

export interface BootstrapSpec {
  suite: string;
  mirrors: Mirrors;
  /** Everything to install, with `name=version` pins. */
  packages: string[];
  minimize: boolean;
  aptProxy?: string;
  sourceDateEpoch: number;
}

/**
 * What a demo dom0 runs: sysvinit (measured faster to a login than systemd under TCG, and
 * its runlevels are the original CD's dom0/guest switch), the Xen toolstack, module
 * loading, networking for the guests' bridge and nftables for xen_nat_enable; and what
 * xenguest-manager makes guest disks with, without mounting: sfdisk (fdisk), mkfs.ext4 -d
 * (e2fsprogs), mkfs.vfat (dosfstools) and mcopy (mtools); and pvgrub2 (grub-xen-host), which boots
 * a disk image as a PV guest (/etc/xen/disk-guest.cfg); and openssh-server, for ssh into every
 * domain (its host keys are removed from the medium and made at each boot); and mokutil, which
 * tells whether Secure Boot is on and enrols a user's key (/democd/secure-boot.der) for MokManager.
 */
/** QEMU built as Xen's device model: what an HVM guest's emulated disks, NIC and firmware run in (--hvm). */
export const HVM_DEVICE_MODEL = "qemu-system-xen";

export const DEBIAN_BASE_PACKAGES = ["sysvinit-core", "passwd", "kmod", "iproute2", "nftables", "procps", "busybox", "xenstore-utils", "fdisk", "e2fsprogs", "dosfstools", "mtools", "grub-xen-host", "openssh-server", "mokutil"];

/** xen-utils for the hypervisor package: xen-hypervisor-4.17-amd64 1.2 -> xen-utils-4.17=1.2. */
export function toolstackPackage(hypervisorName: string, hypervisorVersion: string): string {
  const m = /^xen-hypervisor-(\d+\.\d+)(-|$)/.exec(hypervisorName);
  if (!m) throw new DemocdError(`cannot tell the Xen toolstack for hypervisor package ${hypervisorName}`, { hint: "use a xen-hypervisor-<major.minor>-<arch> package" });
  return `xen-utils-${m[1]}=${hypervisorVersion}`;
}

/**
 * mmdebstrap's arguments that decide the root: not the mode, the target or the proxy
 * (which do not change the result), so root and rootless builds share one key.
 */
export function bootstrapArgs(spec: BootstrapSpec): string[] {
  const args = ["--variant=apt", `--include=${[...spec.packages].sort().join(",")}`];
  if (spec.minimize) args.push(...minimizeArgs());
  // Without the lists a minimized root cannot `apt-get install` until `apt-get update`: as on any minimized image.
  if (!spec.minimize) args.push("--skip=cleanup/apt/lists");
  return args;
}

/**
 * root as root; as anyone else unshare: root inside a user namespace on the user's subordinate
 * ids (newuidmap), where maintainer scripts run in a real chroot. fakechroot mode gave the same
 * bytes but was slower (222 s against 179 s here) and cannot bootstrap a suite whose libc differs
 * from the host's.
 */
export type BootstrapMode = "root" | "unshare";
export const bootstrapMode = (): BootstrapMode => (isRoot() ? "root" : "unshare");

/**
 * Always a tarball: mmdebstrap writes it bit for bit the same in both modes (owners as inside
 * the chroot, device nodes, dates clamped to SOURCE_DATE_EPOCH), where a root-mode directory
 * would differ from it (/dev's date). democd unpacks it like any archive.
 */
export function modeArgs(mode: BootstrapMode): string[] {
  return [`--mode=${mode}`, "--format=tar"];
}

/**
 * mmdebstrap hands its environment on to the maintainer scripts in the chroot, where it can
 * change the root: with PYTHONDONTWRITEBYTECODE=1 in the caller's environment python3's own
 * .pyc files came out in another format (measured). So it gets a fixed one, plus where to put
 * its temporary files and how to reach the mirror, which do not change the result.
 */
export function bootstrapEnv(callerEnv: NodeJS.ProcessEnv, epoch: number): Record<string, string> {
  const env: Record<string, string> = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", SOURCE_DATE_EPOCH: String(epoch) };
  for (const k of ["TMPDIR", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"]) {
    const v = callerEnv[k];
    if (v) env[k] = v;
  }
  return env;
}

/** The cache key: the same inputs give the same root. */
export function bootstrapKey(spec: BootstrapSpec, mmdebstrapVersion: string): string {
  return sha256(JSON.stringify({ args: bootstrapArgs(spec), sources: sourceLines(spec.mirrors, spec.suite), mmdebstrapVersion, epoch: spec.sourceDateEpoch })).slice(0, 24);
}

/** One line that names what the user got wrong, from mmdebstrap's (apt's) output. */
export function explainBootstrapFailure(output: string, spec: Pick<BootstrapSpec, "suite" | "mirrors">): { message: string; hint: string } {
  const where = `${spec.mirrors.main} ${spec.suite}`;
  let m = /Unable to locate package (\S+)/.exec(output) ?? /Package '?([^'\s]+)'? has no installation candidate/.exec(output);
  if (m) return { message: `package ${m[1]} is not in ${where} (or its -updates/-security suites)`, hint: "check the name (apt-cache policy NAME) or drop it from --packages" };
  m = /Version '([^']+)' for '([^']+)' was not found/.exec(output);
  if (m) return { message: `${m[2]} ${m[1]} is not in ${where} (or its -updates/-security suites)`, hint: "the Xen toolstack must match the hypervisor: choose --xen-version the mirror has" };
  m = /The repository '(\S+) (\S+) Release' does not have a Release file/.exec(output);
  if (m) return { message: `mirror ${m[1]} has no suite ${m[2]}`, hint: "check --suite, --mirror and --security-mirror" };
  m = /^E: .*(?:unshare|newuidmap|newgidmap|subuid|subgid|user namespace).*$/m.exec(output) ?? /^newuidmap: .*$/m.exec(output);
  if (m) return { message: `mmdebstrap could not bootstrap in a user namespace: ${m[0].replace(/^E: /, "")}`, hint: "./make.ts doctor checks what a rootless build needs; or build as root" };
  m = /(?:Could not resolve|Failed to fetch|Could not connect to|Unable to connect to)[^\n]*/.exec(output);
  if (m) return { message: `the mirror is unreachable: ${m[0].trim()}`, hint: "check --mirror/--security-mirror and the network, or set --apt-proxy" };
  return { message: `mmdebstrap failed: ${lastMeaningfulLine(output) || "no output"}`, hint: `the full output is in the build log` };
}

/** A cached bootstrap: the unpacked tree, and what it could not hold (owners and devices, when unpacked rootless). */
export interface Bootstrap {
  /** The unpacked root. */
  dir: string;
  record: TreeRecord;
  reused: boolean;
  key: string;
}

/**
 * The root, bootstrapped from Debian's archive into the cache under a key of its inputs.
 * Unpacked as root it holds its owners and devices; as a user they are recorded beside it:
 * the two cannot share an entry (a user cannot read root's /etc/shadow), so each mode has its
 * own, from the same bytes. It is built under a temporary name and renamed when complete: a
 * failed or interrupted bootstrap never leaves a tree that a later build would take for a finished one.
 */
export async function bootstrapRoot(spec: BootstrapSpec, cacheDir: string, log: Logger, cancel?: AbortSignal): Promise<Bootstrap> {
  const mode = bootstrapMode();
  const version = await toolVersion("mmdebstrap", cacheDir, log);
  const key = bootstrapKey(spec, version);
  const entry = path.join(cacheDir, "bootstrap", `${key}.${mode}`);
  const { reused } = await cachedTree(
    entry,
    async (tmp) => {
      if (!spec.aptProxy) await checkMirrors(spec.mirrors, spec.suite);
      fs.mkdirSync(tmp, { recursive: true });
      const tarball = path.join(tmp, "bootstrap.tar");
      await runMmdebstrap(spec, mode, tarball, log, cancel);
      log.progress("bootstrap: unpacking");
      const tree = new SafeTree(path.join(tmp, "tree"), { privileged: isRoot() });
      await untarInto(tarball, tree);
      if (tree.refused.length) throw new DemocdError(`mmdebstrap's tarball has members democd cannot unpack: ${tree.refused.slice(0, 3).join("; ")}`, { debug: tree.refused.join("\n") });
      await createDevices(tree, log);
      fs.writeFileSync(path.join(tmp, "record.json"), JSON.stringify(tree.record) + "\n");
      fs.rmSync(tarball);
    },
    log,
  );
  return { dir: path.join(entry, "tree"), record: JSON.parse(fs.readFileSync(path.join(entry, "record.json"), "utf8")) as TreeRecord, reused, key };
}

async function runMmdebstrap(spec: BootstrapSpec, mode: BootstrapMode, tarball: string, log: Logger, cancel?: AbortSignal): Promise<void> {
  const args = [...modeArgs(mode), ...bootstrapArgs(spec)];
  if (spec.aptProxy) args.push(`--aptopt=Acquire::http::Proxy "${spec.aptProxy}"`, `--aptopt=Acquire::https::Proxy "${spec.aptProxy}"`);
  args.push(spec.suite, tarball, ...sourceLines(spec.mirrors, spec.suite));
  try {
    await run("mmdebstrap", args, {
      log,
      env: bootstrapEnv(process.env, spec.sourceDateEpoch),
      cleanEnv: true,
      cancelSignal: cancel,
      onLine: (line) => {
        if (/^I: /.test(line)) log.progress(`bootstrap: ${line.slice(3)}`);
      },
    });
  } catch (e) {
    const output = e instanceof DemocdError ? (e.debug ?? e.message) : String(e);
    const { message, hint } = explainBootstrapFailure(output, spec);
    throw new DemocdError(message, { hint, debug: output });
  }
}
