import fs from "node:fs";
import { TOOLS, TOOL_FILES, whichTool } from "./exec.ts";

export interface DoctorRow {
  name: string;
  ok: boolean;
  where: string;
  pkg: string;
  why: string;
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
  return rows;
}

export function formatDoctor(rows: DoctorRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length));
  const lines = rows.map((r) => `${r.ok ? "ok     " : "MISSING"} ${r.name.padEnd(w)}  ${r.pkg.padEnd(18)} ${r.ok ? r.where : `apt-get install ${r.pkg}`}`);
  const missing = [...new Set(rows.filter((r) => !r.ok).map((r) => r.pkg))];
  if (missing.length) lines.push("", `to install what is missing: apt-get install ${missing.join(" ")}`);
  return lines.join("\n");
}
