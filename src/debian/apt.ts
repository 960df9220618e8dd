import fs from "node:fs";
import path from "node:path";
import { DemocdError } from "../errors.ts";
import { fileSha256 } from "../hash.ts";
import { run } from "../exec.ts";
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

/**
 * Resolutions remembered in <cache>/resolved.json while apt's lists are unchanged, so a warm
 * build does not ask apt-cache again (each question costs about half a second).
 */
export async function resolveCached(
  cacheDir: string,
  key: string,
  resolve: () => Promise<ResolvedPackage>,
  stamp: string,
): Promise<ResolvedPackage> {
  const file = path.join(cacheDir, "resolved.json");
  let cache: { stamp: string; packages: Record<string, ResolvedPackage> } = { stamp, packages: {} };
  try {
    const read = JSON.parse(fs.readFileSync(file, "utf8"));
    if (read.stamp === stamp) cache = read;
  } catch {
    /* first build, or an unreadable cache: resolve afresh */
  }
  // A resolution without the .deb's sha256 was remembered by an older democd: asked again.
  if (stamp && cache.packages[key]?.sha256) return cache.packages[key];
  const pkg = await resolve();
  if (stamp) {
    cache.packages[key] = pkg;
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(cache));
    fs.renameSync(tmp, file);
  }
  return pkg;
}

/** The exact package a name (and optional version) means to apt right now. */
export async function resolvePackage(name: string, version: string | undefined, log?: Logger): Promise<ResolvedPackage> {
  const spec = version ? `${name}=${version}` : name;
  const unknown = (debug?: string) =>
    new DemocdError(`${version ? `package ${name} version ${version}` : `package ${name}`} is not known to apt`, {
      hint: `check the name, run \`apt-cache policy ${name}\` for available versions, or \`apt-get update\``,
      debug,
    });
  let stdout: string;
  try {
    ({ stdout } = await run("apt-cache", ["show", "--no-all-versions", spec], { log }));
  } catch (e) {
    throw unknown((e as DemocdError).debug);
  }
  // apt-cache answers an unknown version with exit 0 and no record.
  const f = parseStanza(stdout);
  if (!f.Package || !f.Version) throw unknown(stdout);
  return { name: f.Package, version: f.Version, arch: f.Architecture ?? "amd64", depends: f.Depends ?? "", ...(f["Built-Using"] && { builtUsing: f["Built-Using"] }), ...(f.SHA256 && { sha256: f.SHA256 }) };
}

/**
 * A kernel metapackage (linux-image-amd64) names the real image in its Depends;
 * follow it so the cache is keyed by the exact image package.
 */
export async function resolveKernelPackage(name: string, version: string | undefined, log?: Logger): Promise<ResolvedPackage> {
  const pkg = await resolvePackage(name, version, log);
  if (/^linux-image-\d/.test(pkg.name)) return pkg;
  const m = /\b(linux-image-\d[\w.+-]*)\s*\(=\s*([^)\s]+)\)/.exec(pkg.depends);
  if (!m) throw new DemocdError(`${pkg.name} ${pkg.version} does not depend on a linux-image-<abi> package`, { hint: "name the kernel image package itself" });
  return resolvePackage(m[1], m[2], log);
}

/** apt's file name for a package (epoch colon escaped as %3a). */
export function debFileName(p: Pick<ResolvedPackage, "name" | "version" | "arch">): string {
  return `${p.name}_${p.version.replace(/:/g, "%3a")}_${p.arch}.deb`;
}

/**
 * Download (apt verifies it against the signed archive) and unpack a package into
 * `<cache>/pkgs/<name>_<version>`, reusing both when already there. `prepare` runs on the
 * unpacked tree before it is published to the cache, so a half-prepared tree is never cached.
 */
export async function fetchPackage(
  pkg: ResolvedPackage,
  cacheDir: string,
  options: { log?: Logger; prepare?: (dir: string) => Promise<void> } = {},
): Promise<{ dir: string; deb: string; cached: boolean }> {
  const debDir = path.join(cacheDir, "debs");
  const pkgsDir = path.join(cacheDir, "pkgs");
  const dir = path.join(pkgsDir, `${pkg.name}_${pkg.version.replace(/:/g, "%3a")}_${pkg.arch}`);
  const deb = path.join(debDir, debFileName(pkg));
  if (fs.existsSync(path.join(dir, ".complete"))) return { dir, deb, cached: true };

  fs.mkdirSync(debDir, { recursive: true });
  fs.mkdirSync(pkgsDir, { recursive: true });
  // A .deb cut short (a download killed half-way) or changed is never unpacked: fetched again.
  if (fs.existsSync(deb) && pkg.sha256 && (await fileSha256(deb)) !== pkg.sha256) {
    options.log?.warn(`cache: ${deb} is damaged (its sha256 is not the archive's): downloading it again`);
    fs.rmSync(deb);
  }
  if (!fs.existsSync(deb)) {
    options.log?.progress(`downloading ${pkg.name} ${pkg.version}`);
    try {
      await run("apt-get", ["download", `${pkg.name}=${pkg.version}`], { cwd: debDir, log: options.log });
    } catch (e) {
      throw new DemocdError(`could not download ${pkg.name} ${pkg.version}: ${(e as Error).message}`, {
        hint: "check the network and apt's sources; run `apt-get update`",
        debug: (e as DemocdError).debug,
      });
    }
    if (!fs.existsSync(deb)) throw new DemocdError(`apt-get download did not produce ${deb}`);
    if (pkg.sha256 && (await fileSha256(deb)) !== pkg.sha256) {
      fs.rmSync(deb);
      throw new DemocdError(`${debFileName(pkg)} as downloaded does not have the sha256 the archive's index gives`, { hint: "run `apt-get update` and build again" });
    }
  }
  const tmp = fs.mkdtempSync(path.join(pkgsDir, ".unpack-"));
  try {
    options.log?.progress(`unpacking ${pkg.name}`);
    await run("dpkg-deb", ["-x", deb, tmp], { log: options.log });
    await options.prepare?.(tmp);
    fs.writeFileSync(path.join(tmp, ".complete"), `${pkg.name} ${pkg.version}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir, deb, cached: false };
}
