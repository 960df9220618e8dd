/**
 * --minimize: what dpkg leaves out of the root (the copyright files stay), as dpkg's own
 * path filters, in the order dpkg reads them (the last pattern a path matches decides).
 */
export const MINIMIZE_FILTERS: readonly { include: boolean; pattern: string }[] = [
  { include: false, pattern: "/usr/share/man/*" },
  { include: false, pattern: "/usr/share/info/*" },
  { include: false, pattern: "/usr/share/locale/*" },
  { include: false, pattern: "/usr/share/doc/*" },
  { include: true, pattern: "/usr/share/doc/*/copyright" },
  { include: false, pattern: "/usr/share/lintian/*" },
];

/** Where the root keeps the filters, so that what is installed into it later is minimized too. */
export const MINIMIZE_DPKG_CFG = "/etc/dpkg/dpkg.cfg.d/democd-minimize";

const dpkgLines = (): string[] => MINIMIZE_FILTERS.map((f) => `path-${f.include ? "include" : "exclude"}=${f.pattern}`);

/** Our own constant words only: a quote in one would be a bug here, not input to escape. */
function sq(word: string): string {
  if (word.includes("'")) throw new Error(`cannot single-quote ${word}`);
  return `'${word}'`;
}

/** A pattern's text before its first wildcard. */
function literalPrefix(pattern: string): string {
  const wildcard = pattern.search(/[*?[\\]/);
  return wildcard < 0 ? pattern : pattern.slice(0, wildcard);
}

/** The directory every pattern is under: where the sweep looks (never the chroot's /proc or /dev). */
function searchRoot(): string {
  const dirs = MINIMIZE_FILTERS.map((f) => literalPrefix(f.pattern).replace(/\/[^/]*$/, ""));
  let root = dirs[0]!;
  while (!dirs.every((d) => d === root || d.startsWith(`${root}/`))) root = root.replace(/\/[^/]*$/, "");
  return root;
}

const alternatives = (exprs: string[][]): string[] => ["\\(", ...exprs.flatMap((e, i) => [...(i ? ["-o"] : []), ...e]), "\\)"];

/**
 * find's expression for what dpkg's filters skip (dpkg's filter_should_skip): find's -path,
 * like dpkg, matches with fnmatch(3) where `*` also matches `/`. The last pattern a path
 * matches decides, so a path is skipped when an exclude matches it and no later include does;
 * but a directory or symlink that starts with an include's text before its first wildcard
 * stays (dpkg keeps them so that the included files have somewhere to go).
 */
function removedExpression(): string[] {
  const skipped = MINIMIZE_FILTERS.flatMap((f, i) => {
    if (f.include) return [];
    const later = MINIMIZE_FILTERS.slice(i + 1).filter((g) => g.include);
    return [["-path", sq(`.${f.pattern}`), ...(later.length ? ["!", ...alternatives(later.map((g) => ["-path", sq(`.${g.pattern}`)]))] : [])]];
  });
  const prefixes = MINIMIZE_FILTERS.filter((f) => f.include).map((f) => literalPrefix(f.pattern).replace(/\/+$/, ""));
  const reincluded = prefixes.length ? ["!", "\\(", "\\(", "-type", "d", "-o", "-type", "l", "\\)", ...alternatives(prefixes.map((p) => ["-path", sq(`.${p}*`)])), "\\)"] : [];
  return [...alternatives(skipped), ...reincluded];
}

/**
 * mmdebstrap's arguments for --minimize. Not --dpkgopt: with path filters in its own dpkg
 * config, mmdebstrap pipes each essential package through mmtarfilter (Python) as it extracts
 * them, which took 34 s of an 81 s bootstrap here against 5 s without. So the filters go into
 * a dpkg config of democd's own at setup (dpkg applies them to every package it installs),
 * the essential packages are extracted whole, and what the filters skip is removed, with the
 * directories left empty, before dpkg installs them: their maintainer scripts must
 * not see it (update-alternatives would link to man pages that then go).
 */
export function minimizeArgs(): string[] {
  const cfg = `"$1"${MINIMIZE_DPKG_CFG}`;
  const setup = `mkdir -p "$1/etc/dpkg/dpkg.cfg.d" && printf '%s\\n' ${dpkgLines().map(sq).join(" ")} > ${cfg} && chmod 0644 ${cfg}`;
  const sweep = `cd "$1" && find ${sq(`.${searchRoot()}`)} -depth ${removedExpression().join(" ")} \\( ! -type d -o -empty \\) -delete`;
  return [`--setup-hook=${setup}`, `--extract-hook=${sweep}`];
}
