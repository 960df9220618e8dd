import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { tempDir } from "./temp.ts";

/** The first file that differs between two ISOs (by listing, then by content), or undefined. */
export async function firstDifference(a: string, b: string): Promise<string | undefined> {
  const list = async (iso: string) => (await execa("xorriso", ["-indev", iso, "-find", "/", "-exec", "lsdl"], { stderr: "ignore" })).stdout.split("\n").sort();
  const [la, lb] = await Promise.all([list(a), list(b)]);
  const i = la.findIndex((l, n) => l !== lb[n]);
  if (i >= 0 || la.length !== lb.length) return `listing: ${la[i] ?? "(end)"} vs ${lb[i] ?? "(end)"}`;
  const dirs = await Promise.all([a, b].map(async (iso) => {
    const d = tempDir("diff");
    await execa("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/boot", path.join(d, "boot"), "-extract", "/democd", path.join(d, "democd")]);
    return d;
  }));
  for (const f of fs.readdirSync(dirs[0], { recursive: true }) as string[]) {
    const [pa, pb] = dirs.map((d) => path.join(d, f));
    if (fs.statSync(pa).isFile() && !fs.readFileSync(pa).equals(fs.readFileSync(pb))) return `/${f}`;
  }
  return "(same files; the difference is in ISO metadata or the system area)";
}
