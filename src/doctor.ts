import fs from "node:fs";
import { isRoot } from "./archive/devices.ts";
import { rootlessFacts, rootlessProblems } from "./debian/rootless.ts";
import { DemocdError } from "./errors.ts";
import { TOOLS, TOOL_FILES, run, whichTool } from "./exec.ts";
import { EFI_PACKAGES } from "./efi/signed.ts";

export interface DoctorRow {
  name: string;
  ok: boolean;
  where: string;
  pkg: string;
  why: string;
  /** The fix when it is not a package to install. */
  fix?: string;
}

/** Every host tool and file democd uses: there or not, and the package that provides it. */
export async function doctor(): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  for (const [name, t] of Object.entries(TOOLS)) {
    const where = await whichTool(name);
    rows.push({ name, ok: Boolean(where), where: where ?? "missing", pkg: t.pkg, why: t.why });
  }
  for (const [name, f] of Object.entries(TOOL_FILES)) {
    const ok = fs.existsSync(f.path);
    rows.push({ name, ok, where: ok ? f.path : "missing", pkg: f.pkg, why: "boot support files" });
  }
  rows.push(await rootlessRow());
  rows.push(await secureBootRow());
  return rows;
}

/**
 * Whether apt can give the signed boot chain every build fetches, and what Secure Boot then
 * covers: the bare Linux entry starts with it on; Xen needs it off (Debian signs neither Xen
 * nor GRUB's multiboot2).
 */
export async function secureBootRow(): Promise<DoctorRow> {
  const names = Object.values(EFI_PACKAGES).filter((n) => n !== EFI_PACKAGES.grubModules);
  const row = { name: "secure boot", pkg: names.join(" "), why: "Debian's signed shim and GRUB on every medium and disk image" };
  const known: string[] = [];
  for (const n of names) {
    const r = await run("apt-cache", ["show", "--no-all-versions", n]).catch(() => undefined);
    if (r && /^Version: /m.test(r.stdout)) known.push(n);
  }
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) return { ...row, ok: false, where: `apt does not know ${unknown.join(", ")}`, fix: "add Debian's main component to apt's sources and run apt-get update" };
  return { ...row, ok: true, where: "fetched by every build: Linux boots with Secure Boot on; the Xen entries need it off" };
}

const ROOTLESS = "rootless debian";

/**
 * Whether this user can build the debian profile: as root mmdebstrap needs nothing more; as
 * anyone else the prerequisites, then a real round trip into mmdebstrap's user namespace
 * (a container or a security module can refuse what the files allow).
 */
export async function rootlessRow(): Promise<DoctorRow> {
  const row = { name: ROOTLESS, pkg: "-", why: "mmdebstrap --mode=unshare, for a debian-profile build as an ordinary user" };
  if (isRoot()) return { ...row, ok: true, where: "not needed: as root mmdebstrap runs in root mode" };
  const [p] = rootlessProblems(await rootlessFacts());
  if (p) return { ...row, ok: false, where: p.message, fix: p.hint };
  if (!(await whichTool("mmdebstrap"))) return { ...row, ok: false, where: "mmdebstrap is missing", fix: "apt-get install mmdebstrap" };
  try {
    await run("mmdebstrap", ["--unshare-helper", "true"]);
  } catch (e) {
    return { ...row, ok: false, where: `mmdebstrap cannot enter a user namespace: ${e instanceof DemocdError ? e.message : String(e)}`, fix: "build as root, or allow user namespaces in this container" };
  }
  return { ...row, ok: true, where: "subordinate ids and user namespaces work" };
}

export function formatDoctor(rows: DoctorRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length));
  const lines = rows.map((r) => `${r.ok ? "ok     " : "MISSING"} ${r.name.padEnd(w)}  ${r.pkg.padEnd(18)} ${r.ok ? r.where : r.fix ? `${r.where} (${r.fix})` : `apt-get install ${r.pkg}`}`);
  const missing = [...new Set(rows.filter((r) => !r.ok && !r.fix).map((r) => r.pkg))];
  if (missing.length) lines.push("", `to install what is missing: apt-get install ${missing.join(" ")}`);
  return lines.join("\n");
}
