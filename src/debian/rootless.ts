import fs from "node:fs";
import os from "node:os";
import { DemocdError } from "../errors.ts";
import { whichTool } from "../exec.ts";

/**
 * What an ordinary user's debian-profile build needs from the host: mmdebstrap's unshare mode
 * runs the bootstrap as root inside a user namespace, mapping its ids onto the user's
 * subordinate ids with the setuid helpers newuidmap/newgidmap (package uidmap). Each missing
 * piece is told with the command that fixes it, before any work starts.
 */
export interface RootlessFacts {
  /** The user's name (mmdebstrap looks /etc/subuid up by name, not by uid); undefined when the uid has none. */
  user: string | undefined;
  uid: number;
  /** Contents of /etc/subuid and /etc/subgid; undefined when missing. */
  subuid: string | undefined;
  subgid: string | undefined;
  /** /proc/sys/user/max_user_namespaces. */
  maxUserNamespaces: number | undefined;
  /** /proc/sys/kernel/unprivileged_userns_clone (Debian kernels before 6.x, some others); undefined when the kernel has no such switch. */
  unprivilegedUsernsClone: number | undefined;
  /** /proc/sys/kernel/apparmor_restrict_unprivileged_userns (Ubuntu 23.10 and later). */
  apparmorRestrict: number | undefined;
  newuidmap: boolean;
  newgidmap: boolean;
}

/** A user namespace maps ids 0..65535 of the chroot (nobody is 65534): a smaller range cannot hold a Debian root. */
export const SUBID_COUNT = 65536;

export interface SubidRange {
  name: string;
  start: number;
  count: number;
}

export function parseSubids(text: string | undefined): SubidRange[] {
  const out: SubidRange[] = [];
  for (const line of (text ?? "").split("\n")) {
    const [name, start, count] = line.trim().split(":");
    if (name && /^\d+$/.test(start ?? "") && /^\d+$/.test(count ?? "")) out.push({ name, start: Number(start), count: Number(count) });
  }
  return out;
}

/** mmdebstrap takes the first entry whose name is the user's (a numeric uid entry is not read). */
export function userRange(text: string | undefined, user: string): SubidRange | undefined {
  return parseSubids(text).find((r) => r.name === user);
}

/** A range of SUBID_COUNT ids from 100000 up (as useradd allocates) that no entry of either file uses, as usermod wants it: "first-last". */
export function freeRange(subuid: string | undefined, subgid: string | undefined): string {
  const taken = [...parseSubids(subuid), ...parseSubids(subgid)];
  let start = 100000;
  for (const r of taken.sort((a, b) => a.start - b.start)) {
    if (r.start < start + SUBID_COUNT && r.start + r.count > start) start = r.start + r.count;
  }
  return `${start}-${start + SUBID_COUNT - 1}`;
}

export interface RootlessProblem {
  message: string;
  hint: string;
}

const WHY = "the debian profile bootstraps as an ordinary user in a user namespace (mmdebstrap --mode=unshare)";
const OR_ROOT = "or build as root";

/** Every missing prerequisite, in the order to fix them; empty when a rootless bootstrap can run. */
export function rootlessProblems(f: RootlessFacts): RootlessProblem[] {
  const out: RootlessProblem[] = [];
  if (!f.newuidmap || !f.newgidmap) out.push({ message: `${WHY}, which needs newuidmap and newgidmap`, hint: `as root: apt-get install uidmap; ${OR_ROOT}` });
  if (f.maxUserNamespaces === 0) out.push({ message: `${WHY}, but user namespaces are disabled (user.max_user_namespaces is 0)`, hint: `as root: sysctl -w user.max_user_namespaces=15000 (and in /etc/sysctl.d/ to keep it); ${OR_ROOT}` });
  if (f.unprivilegedUsernsClone === 0) out.push({ message: `${WHY}, but this kernel forbids them to ordinary users (kernel.unprivileged_userns_clone is 0)`, hint: `as root: sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d/ to keep it); ${OR_ROOT}` });
  if (f.apparmorRestrict === 1) out.push({ message: `${WHY}, but AppArmor denies them to ordinary users (kernel.apparmor_restrict_unprivileged_userns is 1)`, hint: `as root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0; ${OR_ROOT}` });
  if (f.user === undefined) {
    out.push({ message: `${WHY}, but uid ${f.uid} has no user name, by which /etc/subuid is read`, hint: `add the user to /etc/passwd; ${OR_ROOT}` });
    return out;
  }
  const missing: string[] = [];
  const flags: string[] = [];
  const range = freeRange(f.subuid, f.subgid);
  for (const [file, text, flag] of [["/etc/subuid", f.subuid, "--add-subuids"], ["/etc/subgid", f.subgid, "--add-subgids"]] as const) {
    const r = userRange(text, f.user);
    if (!r) missing.push(`${file} has no range for ${f.user}`);
    else if (r.count < SUBID_COUNT) {
      // mmdebstrap reads the first entry only: the short one goes.
      missing.push(`${file} gives ${f.user} ${r.count} ids, fewer than ${SUBID_COUNT}`);
      flags.push(`${flag.replace("add", "del")} ${r.start}-${r.start + r.count - 1}`);
    } else continue;
    flags.push(`${flag} ${range}`);
  }
  if (missing.length) out.push({ message: `${WHY}, but ${missing.join(" and ")}`, hint: `as root: usermod ${flags.join(" ")} ${f.user}; ${OR_ROOT}` });
  return out;
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function userName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

export async function rootlessFacts(): Promise<RootlessFacts> {
  return {
    user: userName(),
    uid: process.getuid?.() ?? -1,
    subuid: readText("/etc/subuid"),
    subgid: readText("/etc/subgid"),
    maxUserNamespaces: readNumber("/proc/sys/user/max_user_namespaces"),
    unprivilegedUsernsClone: readNumber("/proc/sys/kernel/unprivileged_userns_clone"),
    apparmorRestrict: readNumber("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
    newuidmap: Boolean(await whichTool("newuidmap")),
    newgidmap: Boolean(await whichTool("newgidmap")),
  };
}

/** Before a rootless debian build starts: the first missing prerequisite, as one line with its fix. */
export async function checkRootless(): Promise<void> {
  const [p] = rootlessProblems(await rootlessFacts());
  if (p) throw new DemocdError(p.message, { hint: p.hint });
}
