import fs from "node:fs";
import path from "node:path";
import { DemocdError } from "../errors.ts";
import { readPublicKeyFiles } from "../ssh/keys.ts";
import { checkImage } from "../xenguest/commands.ts";
import { guestName } from "../xenguest/medium.ts";
import { configSchema, type Config } from "./schema.ts";
import { SETTINGS, defaults, optionProperty, setPath } from "./settings.ts";

export interface ConfigSources {
  /** A JSON config file the user wrote (all keys optional). */
  file?: string;
  /** Parsed CLI options, keyed by commander's property names. Undefined = not given. */
  cli?: Record<string, unknown>;
  /** Values that sit between the file and the CLI (e.g. a recovered build.json). */
  base?: Record<string, unknown>;
}

/**
 * defaults <- base <- config file <- CLI flags, then validated as a whole. Every problem
 * is reported at once, one `source: path: message` line each.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const errors: string[] = [];
  let merged = defaults();
  if (sources.base) merged = deepMerge(merged, sources.base);
  if (sources.file) merged = deepMerge(merged, readConfigFile(sources.file, errors));
  merged = deepMerge(merged, cliValues(sources.cli ?? {}, errors));
  if (merged.out === undefined && typeof merged.version === "string" && typeof merged.buildDir === "string") {
    merged.out = path.join(merged.buildDir, `democd-${merged.version}.iso`);
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const where = issue.path.length ? issue.path.join(".") : "(config)";
      const unknown = issue.code === "unrecognized_keys" ? `: ${issue.keys.join(", ")}` : "";
      errors.push(`${where}: ${issue.message}${unknown}`);
    }
  }
  if (parsed.success) errors.push(...checkPaths(parsed.data));
  if (errors.length) {
    const where = sources.file ? ` (config file ${sources.file} and flags)` : "";
    throw new DemocdError(`invalid configuration${where}:\n  ${errors.join("\n  ")}`);
  }
  return parsed.data!;
}

function readConfigFile(file: string, errors: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    errors.push(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
    return {};
  }
  try {
    const value = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      errors.push(`${file}: must hold a JSON object`);
      return {};
    }
    return value as Record<string, unknown>;
  } catch (e) {
    errors.push(`${file}: not valid JSON (${(e as Error).message})`);
    return {};
  }
}

function cliValues(cli: Record<string, unknown>, errors: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const raw = cli[optionProperty(s)];
    if (raw === undefined) continue;
    if (s.kind === "int") {
      const n = Number(raw);
      if (!Number.isInteger(n)) {
        errors.push(`${s.flag.split(" ")[0]}: must be a whole number, got "${raw}"`);
        continue;
      }
      setPath(out, s.key, n);
    } else if (s.kind === "csv") {
      setPath(out, s.key, String(raw).split(",").map((x) => x.trim()).filter(Boolean));
    } else if (s.key === "guests" || s.key === "ssh.keys") {
      setPath(out, s.key, (raw as string[]).map((g) => path.resolve(g)));
    } else if (s.key === "profileDir" || s.key === "buildDir" || s.key === "out") {
      setPath(out, s.key, path.resolve(String(raw)));
    } else {
      setPath(out, s.key, raw);
    }
  }
  return out;
}

/** Checks that need the file system: reported with the schema errors. */
function checkPaths(config: Config): string[] {
  const errors: string[] = [];
  const outDir = path.dirname(path.resolve(config.out));
  if (!isDirectory(outDir)) errors.push(`out: directory ${outDir} does not exist (create it or choose another --out)`);
  if (fs.existsSync(config.out) && isDirectory(config.out)) errors.push(`out: ${config.out} is a directory, not a file name`);
  if (!isDirectory(config.profileDir)) errors.push(`profileDir: ${config.profileDir} is not a directory`);
  errors.push(...checkGuests(config));
  errors.push(...checkSshKeys(config));
  for (const sub of ["rootpatch", "irtree", "templates"]) {
    const p = path.join(config.profileDir, sub);
    if (fs.existsSync(p) && !isDirectory(p)) errors.push(`${sub}: ${p} is not a directory (move it away or make it a directory)`);
  }
  return errors;
}

/** Each guest image checked as `democd xenguest check` does; names unique; debian profile only. */
function checkGuests(config: Config): string[] {
  const errors: string[] = [];
  if (config.guests.length && config.profile !== "debian") {
    errors.push(`guests: the ${config.profile} profile has no Xen toolstack to run them (use --profile debian)`);
  }
  const seen = new Map<string, number>();
  config.guests.forEach((file, i) => {
    const name = guestName(file);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) errors.push(`guests[${i}]: ${file}: the guest name ${JSON.stringify(name)} (the file name without .xenguest) must be letters, digits and _ . -`);
    if (seen.has(name)) errors.push(`guests[${i}]: ${file}: the name ${name} is also guests[${seen.get(name)}]'s`);
    seen.set(name, i);
    for (const p of checkImage(file)) errors.push(`guests[${i}]: ${file}: ${p}`);
  });
  return errors;
}

/** The key files must hold OpenSSH public keys (never a private key); only the debian profile runs sshd. */
function checkSshKeys(config: Config): string[] {
  const errors = readPublicKeyFiles(config.ssh.keys, "ssh.keys").errors;
  if (config.ssh.keys.length && config.profile !== "debian") errors.unshift(`ssh.keys: the ${config.profile} profile has no ssh server (use --profile debian)`);
  return errors;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      isPlainObject(cur) && isPlainObject(v) ? deepMerge(cur, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The resolved config as recorded on the medium. Not recorded: secrets, the building machine's
 * paths (guests: the manifest lists the images on the medium by name and sha256 instead; ssh key
 * files: their keys are root's authorized_keys on the medium), and
 * which files the build writes (the medium is the same whatever else is written beside it).
 */
export function publicConfig(config: Config): Omit<Config, "rootPassword" | "profileDir" | "buildDir" | "out" | "formats" | "disk" | "guests" | "ssh"> {
  const { rootPassword: _pw, profileDir: _p, buildDir: _b, out: _o, formats: _f, disk: _d, guests: _g, ssh: _s, ...rest } = config;
  return rest;
}
