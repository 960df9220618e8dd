import path from "node:path";
import { execa } from "execa";
import { tempDir } from "./temp.ts";

/** Extract files from an ISO with xorriso (no mount, no root). */
export async function extractFromIso(iso: string, files: string[]): Promise<string> {
  const dir = tempDir("iso");
  const args = ["-osirrox", "on", "-indev", iso];
  for (const f of files) args.push("-extract", f, path.join(dir, f));
  await execa("xorriso", args);
  return dir;
}

/** Every path on the ISO (Rock Ridge names). */
export async function listIso(iso: string): Promise<string[]> {
  const r = await execa("xorriso", ["-indev", iso, "-find", "/"], { stderr: "ignore" });
  return r.stdout.split("\n").filter(Boolean).map((l) => l.replace(/^'(.*)'$/, "$1").replace(/'\\''/g, "'"));
}

export async function xorrisoReport(iso: string, what: "-report_el_torito" | "-report_system_area"): Promise<string> {
  const r = await execa("xorriso", ["-indev", iso, what, "plain"], { all: true });
  return r.all ?? "";
}
