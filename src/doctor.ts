import fs from "node:fs";
import { isRoot } from "./archive/devices.ts";
import { rootlessFacts, rootlessProblems } from "./debian/rootless.ts";
import { DemocdError } from "./errors.ts";
import { TOOLS, TOOL_FILES, run, whichTool } from "./exec.ts";

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
  return rows;
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
