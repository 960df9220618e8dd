/**
 * Disk and partition sizes. On democd's command line a size needs its unit: M is a MiB
 * (1048576 bytes), G is 1024 MiB; `MiB`/`GiB` are accepted as the same. In disk.cfg democd
 * always writes MiB as `<n>M`, which the original xenguest-manager reads as LVM does (MiB).
 * Reading disk.cfg keeps the original's rules for what it wrote earlier: a bare number is
 * GB and G is 1000 M (its "1G" meant 1000 MB).
 */
export const SIZE_HELP = "M = MiB, G = 1024 MiB (e.g. 512M, 2G)";

/** A size from the command line, in MiB; 0 (no unit needed) only where allowZero. */
export function parseSizeOption(s: string, allowZero = false): { mib: number } | { error: string } {
  if (allowZero && s === "0") return { mib: 0 };
  const m = /^(\d+)(M|MiB|G|GiB)$/.exec(s);
  if (!m) return { error: `size ${JSON.stringify(s)} needs a unit: ${SIZE_HELP}` };
  const n = Number(m[1]) * (m[2].startsWith("G") ? 1024 : 1);
  if (!Number.isSafeInteger(n) || n > 16 * 1024 * 1024) return { error: `size ${JSON.stringify(s)} is too large (at most 16T)` };
  if (n === 0 && !allowZero) return { error: `size ${JSON.stringify(s)} must be more than 0` };
  return { mib: n };
}

/** A size as disk.cfg holds it (the original's spellings included), in MiB. */
export function parseCfgSize(s: string): number | undefined {
  const m = /^(\d+)([MG]?)$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === "M" ? n : n * 1000;
}

export const formatCfgSize = (mib: number): string => `${mib}M`;
