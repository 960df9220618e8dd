import { peSections } from "./pe.ts";

/** One SBAT component and its generation ("grub,5,..."). */
export interface SbatEntry {
  component: string;
  generation: number;
}

/** A .sbat section's CSV, or an SbatLevel policy's lines ("sbat,1,2025021800" first, then "grub,5"). */
export function parseSbat(text: string): SbatEntry[] {
  return text
    .replace(/\0.*$/s, "")
    .split("\n")
    .map((l) => l.trim().split(","))
    .filter((f) => f.length >= 2 && /^\d+$/.test(f[1]))
    .map((f) => ({ component: f[0], generation: Number(f[1]) }));
}

/**
 * shim's .sbatlevel section: a version, then the offsets (from the end of the version) of its
 * "previous" and "latest" revocation policies, NUL-terminated. A machine may hold either (another
 * OS may have applied the latest): a binary on a medium must pass the stricter.
 */
export function shimSbatLevel(shim: Buffer): { previous: SbatEntry[]; latest: SbatEntry[] } {
  const level = peSections(shim).get(".sbatlevel");
  if (!level || level.length < 12) throw new Error("shim has no .sbatlevel section");
  const at = (offset: number) => level.toString("latin1", 4 + offset, level.indexOf(0, 4 + offset));
  return { previous: parseSbat(at(level.readUInt32LE(4))), latest: parseSbat(at(level.readUInt32LE(8))) };
}

/** The generations of `binary` a policy revokes: empty when shim starts it. */
export function sbatRefusals(binary: SbatEntry[], policy: SbatEntry[]): string[] {
  const refused: string[] = [];
  for (const p of policy) {
    if (p.component === "sbat") continue;
    const own = binary.find((b) => b.component === p.component);
    if (own && own.generation < p.generation) refused.push(`${p.component},${own.generation} (shim requires ${p.component},${p.generation} or later)`);
  }
  return refused;
}

/** A PE binary's own SBAT entries (its .sbat section). */
export function binarySbat(binary: Buffer): SbatEntry[] {
  const s = peSections(binary).get(".sbat");
  if (!s) throw new Error("no .sbat section (shim refuses binaries without one)");
  return parseSbat(s.toString("latin1"));
}
