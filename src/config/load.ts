import fs from "node:fs";
import path from "node:path";
import { DemocdError } from "../errors.ts";
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
 * is reported at once, one `source: path: message` line each. Nothing here reads more than
 * the config file: checks of the files a config names are the build's preflight.
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
  if (errors.length) throw configError(errors, sources.file);
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
    } else if (s.key === "profileDir" || s.key === "buildDir" || s.key === "out" || s.key.startsWith("secureBoot.")) {
      setPath(out, s.key, path.resolve(String(raw)));
    } else {
      setPath(out, s.key, raw);
    }
  }
  return out;
}

/** Every problem of a config in one error, a `path: message` line each. */
export function configError(errors: readonly string[], file?: string): DemocdError {
  const where = file ? ` (config file ${file} and flags)` : "";
  return new DemocdError(`invalid configuration${where}:\n  ${errors.join("\n  ")}`);
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
