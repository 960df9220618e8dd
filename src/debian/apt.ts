import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DemocdError } from "../errors.ts";
import { makeTree, reusableTree } from "../cache-tree.ts";
import { fileSha256 } from "../hash.ts";
import { run } from "../exec.ts";
import { inParallel } from "../parallel.ts";
import type { Logger } from "../log.ts";

export interface ResolvedPackage {
  name: string;
  version: string;
  arch: string;
  depends: string;
  /** The sources it was built from (Built-Using), e.g. a signed GRUB's grub2 version. */
  builtUsing?: string;
  /** The .deb's SHA256 as the archive's (signed) index gives it: a cached .deb is checked against it. */
  sha256?: string;
}

/** A package fetched and unpacked into the cache. */
export interface Component {
  pkg: ResolvedPackage;
  /** The unpacked package in the cache. */
  dir: string;
}

/** Fields of an `apt-cache show` stanza. */
export function parseStanza(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let last = "";
  for (const line of text.split("\n")) {
    if (line === "") {
      if (Object.keys(fields).length) break;
      continue;
    }
    if (/^\s/.test(line) && last) fields[last] += "\n" + line.trim();
    else {
      const m = /^([\w-]+):\s?(.*)$/.exec(line);
      if (m) fields[(last = m[1])] = m[2];
    }
  }
  return fields;
}

/** apt's package lists; what a name resolves to can only change when they do. */
export const APT_LISTS = "/var/lib/apt/lists";

/** A stamp of apt's lists (names, sizes, dates): a resolution cached under it stays true until `apt-get update`. */
export function aptListsStamp(dir = APT_LISTS): string {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dir).sort().map((n) => {
      const st = fs.statSync(path.join(dir, n));
      return `${n}:${st.size}:${st.mtimeMs}`;
    });
  } catch {
    /* no lists: nothing to stamp, nothing will be cached */
  }
  return entries.join("\n");
}

/** A package as asked for: a name, and optionally an exact version. */
export interface PackageSpec {
  name: string;
  version?: string;
}

const specText = (p: PackageSpec) => (p.version ? `${p.name}=${p.version}` : p.name);

function unknownPackage(p: PackageSpec, debug?: string): DemocdError {
  return new DemocdError(`${p.version ? `package ${p.name} version ${p.version}` : `package ${p.name}`} is not known to apt`, {
    hint: `check the name, run \`apt-cache policy ${p.name}\` for available versions, or \`apt-get update\``,
    debug,
  });
}

function resolvedOf(f: Record<string, string>): ResolvedPackage {
  return { name: f.Package, version: f.Version, arch: f.Architecture ?? "amd64", depends: f.Depends ?? "", ...(f["Built-Using"] && { builtUsing: f["Built-Using"] }), ...(f.SHA256 && { sha256: f.SHA256 }) };
}

/** Every stanza of an `apt-cache show` answer. */
export function parseStanzas(text: string): Record<string, string>[] {
  return text.split(/\n\s*\n/).map(parseStanza).filter((f) => f.Package && f.Version);
}

/**
 * The exact packages names (and optional versions) mean to apt right now, in one apt-cache
 * call (each call costs 0.5-1.5 s here). An unknown one is named on its own: apt-cache's own
 * error does not say which.
 */
export async function resolvePackages(specs: readonly PackageSpec[], log?: Logger): Promise<ResolvedPackage[]> {
  if (specs.length === 0) return [];
  let stdout = "";
  let failed: DemocdError | undefined;
  try {
    ({ stdout } = await run("apt-cache", ["show", "--no-all-versions", ...specs.map(specText)], { log }));
  } catch (e) {
    failed = e as DemocdError;
  }
  const stanzas = parseStanzas(stdout);
  return specs.map((p) => {
    // apt-cache answers an unknown version with exit 0 and no record.
    const f = stanzas.find((s) => s.Package === p.name && (!p.version || s.Version === p.version));
    if (!f) throw unknownPackage(p, failed?.debug ?? stdout);
    return resolvedOf(f);
  });
}

/**
 * Resolutions remembered in <cache>/resolved.json while apt's lists are unchanged, so a warm
 * build does not ask apt-cache again; what is not remembered is asked in one call.
 */
export async function resolveAllCached(cacheDir: string, wanted: readonly (PackageSpec & { key: string })[], stamp: string, log?: Logger): Promise<ResolvedPackage[]> {
  const file = path.join(cacheDir, "resolved.json");
  let cache: { stamp: string; packages: Record<string, ResolvedPackage> } = { stamp, packages: {} };
  try {
    const read = JSON.parse(fs.readFileSync(file, "utf8"));
    if (read.stamp === stamp) cache = read;
  } catch {
    /* first build, or an unreadable cache: resolve afresh */
  }
  // A resolution without the .deb's sha256 was remembered by an older democd: asked again.
  const missing = wanted.filter((w) => !(stamp && cache.packages[w.key]?.sha256));
  const answers = await resolvePackages(missing, log);
  if (stamp && missing.length) {
    missing.forEach((w, i) => (cache.packages[w.key] = answers[i]));
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(cache));
    fs.renameSync(tmp, file);
  }
  return wanted.map((w) => cache.packages[w.key] ?? answers[missing.indexOf(w)]);
}

/**
 * A kernel metapackage (linux-image-amd64) names the real image in its Depends;
 * the image package itself, which the cache is keyed by.
 */
export function kernelImageSpec(pkg: ResolvedPackage): PackageSpec | undefined {
  if (/^linux-image-\d/.test(pkg.name)) return undefined;
  const m = /\b(linux-image-\d[\w.+-]*)\s*\(=\s*([^)\s]+)\)/.exec(pkg.depends);
  if (!m) throw new DemocdError(`${pkg.name} ${pkg.version} does not depend on a linux-image-<abi> package`, { hint: "name the kernel image package itself" });
  return { name: m[1], version: m[2] };
}

/** apt's file name for a package (epoch colon escaped as %3a). */
export function debFileName(p: Pick<ResolvedPackage, "name" | "version" | "arch">): string {
  return `${p.name}_${p.version.replace(/:/g, "%3a")}_${p.arch}.deb`;
}

/** A package to fetch, and what to do to its unpacked tree before it is cached. */
export interface FetchRequest {
  pkg: ResolvedPackage;
  prepare?: (dir: string) => Promise<void>;
  /**
   * Told as soon as this package's .deb is in the cache and matches the index, before anything
   * is unpacked: work that needs only the package file can start. Its .deb is fetched even when
   * its unpacked tree is cached.
   */
  debReady?: (deb: string) => void;
}

const unpackedDir = (pkgsDir: string, p: ResolvedPackage) => path.join(pkgsDir, `${p.name}_${p.version.replace(/:/g, "%3a")}_${p.arch}`);

/**
 * Packages downloaded (apt verifies them against the signed archive) and unpacked into
 * `<cache>/pkgs/<name>_<version>`, reusing both when already there. What is missing is
 * downloaded in one apt-get call into a directory of its own, checked against the index's
 * sha256 and only then given its name; the packages are unpacked side by side, one per core.
 * `prepare` runs on an unpacked tree before it is published, so a half-prepared tree is never cached.
 */
export async function fetchPackages(requests: readonly FetchRequest[], cacheDir: string, log?: Logger): Promise<string[]> {
  const debDir = path.join(cacheDir, "debs");
  const pkgsDir = path.join(cacheDir, "pkgs");
  fs.mkdirSync(debDir, { recursive: true });
  fs.mkdirSync(pkgsDir, { recursive: true });
  const dirs = requests.map(({ pkg }) => unpackedDir(pkgsDir, pkg));
  // Each unpacked tree is used only while it is what was sealed; a damaged one is made again.
  const reusable = new Map<string, boolean>();
  for (const dir of new Set(dirs)) reusable.set(dir, await reusableTree(dir, log));
  const results = requests.map(({ pkg }, i) => ({ dir: dirs[i], deb: path.join(debDir, debFileName(pkg)), cached: reusable.get(dirs[i]) === true }));
  // Each missing package once, however often it was asked for.
  const asked = requests.map((r, i) => ({ ...r, ...results[i] }));
  const todo = asked.filter((r, i, all) => !r.cached && all.findIndex((o) => o.dir === r.dir) === i);

  // A .deb cut short (a download killed half-way) or changed is never unpacked or read: fetched again.
  const wanted = [...todo, ...asked.filter((r) => r.debReady)].filter((r, i, all) => all.findIndex((o) => o.deb === r.deb) === i);
  const download: ResolvedPackage[] = [];
  for (const r of wanted) {
    if (fs.existsSync(r.deb) && r.pkg.sha256 && (await fileSha256(r.deb)) !== r.pkg.sha256) {
      log?.warn(`cache: ${r.deb} is damaged (its sha256 is not the archive's): downloading it again`);
      fs.rmSync(r.deb);
    }
    if (!fs.existsSync(r.deb)) download.push(r.pkg);
  }
  // Those already here at once; the others once downloaded.
  const here = results.map((r) => fs.existsSync(r.deb));
  const tell = (downloaded: boolean) => requests.forEach((r, i) => here[i] !== downloaded && r.debReady?.(results[i].deb));
  tell(false);
  if (download.length) await downloadDebs(download, debDir, log);
  tell(true);

  let done = 0;
  // In the order asked: the caller lists first what the rest of its work waits for.
  await inParallel(todo, os.availableParallelism(), async (r) => {
    await unpack(r.deb, r.dir, r.prepare, log);
    log?.progress(`unpacking packages: ${++done}/${todo.length}`);
  });
  return results.map((r) => r.dir);
}

/** One apt-get call for every .deb, in a directory of its own; each renamed into the cache once its sha256 is the index's. */
async function downloadDebs(pkgs: readonly ResolvedPackage[], debDir: string, log?: Logger): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(debDir, ".download-"));
  try {
    log?.progress(`downloading ${pkgs.length} package${pkgs.length === 1 ? "" : "s"}`);
    try {
      await run("apt-get", ["download", ...pkgs.map((p) => `${p.name}=${p.version}`)], { cwd: tmp, log, onLine: (l) => /^Get:/.test(l) && log?.progress(`downloading: ${l.replace(/^Get:\d+ \S+ /, "")}`) });
    } catch (e) {
      throw new DemocdError(`could not download ${pkgs.map((p) => `${p.name} ${p.version}`).join(", ")}: ${(e as Error).message}`, {
        hint: "check the network and apt's sources; run `apt-get update`",
        debug: (e as DemocdError).debug,
      });
    }
    for (const p of pkgs) {
      const got = path.join(tmp, debFileName(p));
      if (!fs.existsSync(got)) throw new DemocdError(`apt-get download did not produce ${debFileName(p)}`);
      if (p.sha256 && (await fileSha256(got)) !== p.sha256) {
        throw new DemocdError(`${debFileName(p)} as downloaded does not have the sha256 the archive's index gives`, { hint: "run `apt-get update` and build again" });
      }
      fs.renameSync(got, path.join(debDir, debFileName(p)));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function unpack(deb: string, dir: string, prepare: FetchRequest["prepare"], log?: Logger): Promise<void> {
  await makeTree(dir, async (tmp) => {
    await run("dpkg-deb", ["-x", deb, tmp], { log, background: true });
    await prepare?.(tmp);
  });
}
