import fs from "node:fs";
import path from "node:path";
import { DemocdError } from "../errors.ts";
import { run } from "../exec.ts";

export interface Mirrors {
  /** The archive: <suite> and <suite>-updates. */
  main: string;
  /** <suite>-security. */
  security: string;
}

export const DEFAULT_MIRRORS: Mirrors = {
  main: "http://deb.debian.org/debian",
  security: "http://deb.debian.org/debian-security",
};

/**
 * The archives this host's apt uses, from `apt-get indextargets` lines of
 * "REPO_URI RELEASE": whatever format its sources are written in, apt has parsed them.
 */
export function mirrorsFromIndexTargets(lines: string): Partial<Mirrors> {
  const found: Partial<Mirrors> = {};
  for (const line of lines.split("\n")) {
    const [uri, release] = line.trim().split(/\s+/);
    if (!uri || !release || !/^(https?|file):\/\//.test(uri)) continue;
    const key = release.endsWith("-security") ? "security" : "main";
    found[key] ??= uri.replace(/\/+$/, "");
  }
  return found;
}

/** apt's configuration (names, sizes, dates under /etc/apt): the host's mirrors can only change with it. */
export function aptConfigStamp(etc = "/etc/apt"): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      const st = fs.statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p);
      else if (st) out.push(`${p}:${st.size}:${st.mtimeMs}`);
    }
  };
  walk(etc);
  return out.join("\n");
}

const queryHost = async () => (await run("apt-get", ["indextargets", "--format", "$(REPO_URI) $(RELEASE)"])).stdout;

/**
 * The host apt's archives. Asking apt costs seconds here, so with a cache directory the
 * answer is kept in <cache>/host-mirrors.json while apt's configuration is unchanged.
 */
export async function hostMirrors(cacheDir?: string, query = queryHost, stamp = cacheDir ? aptConfigStamp() : ""): Promise<Partial<Mirrors>> {
  const file = cacheDir && stamp ? path.join(cacheDir, "host-mirrors.json") : undefined;
  if (file) {
    try {
      const kept = JSON.parse(fs.readFileSync(file, "utf8"));
      if (kept.stamp === stamp) return kept.mirrors;
    } catch {
      /* first build, or an unreadable cache: ask apt */
    }
  }
  let found: Partial<Mirrors>;
  try {
    found = mirrorsFromIndexTargets(await query());
  } catch {
    return {}; // no usable apt configuration here: the defaults apply
  }
  if (file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp-${process.pid}`, JSON.stringify({ stamp, mirrors: found }));
    fs.renameSync(`${file}.tmp-${process.pid}`, file);
  }
  return found;
}

/** The user's mirrors over the host's over deb.debian.org. */
export async function resolveMirrors(given: { mirror?: string; securityMirror?: string }, cacheDir?: string): Promise<Mirrors> {
  const host = given.mirror && given.securityMirror ? {} : await hostMirrors(cacheDir);
  return {
    main: (given.mirror ?? host.main ?? DEFAULT_MIRRORS.main).replace(/\/+$/, ""),
    security: (given.securityMirror ?? host.security ?? DEFAULT_MIRRORS.security).replace(/\/+$/, ""),
  };
}

/** One-line sources for the bootstrap: the suite, its updates and its security suite. */
export function sourceLines(m: Mirrors, suite: string): string[] {
  return [`deb ${m.main} ${suite} main`, `deb ${m.main} ${suite}-updates main`, `deb ${m.security} ${suite}-security main`];
}

/**
 * Ask each mirror for its suite's InRelease before a bootstrap that would take a minute
 * to fail: an unreachable mirror or one without the suite is named in one line.
 * file:// mirrors and proxied builds are left to apt.
 */
export async function checkMirrors(m: Mirrors, suite: string, timeoutMs = 15000): Promise<void> {
  for (const [url, dist] of [[m.main, suite], [m.security, `${suite}-security`]] as const) {
    if (!/^https?:/.test(url)) continue;
    const release = `${url}/dists/${dist}/InRelease`;
    let status: number;
    try {
      const r = await fetch(release, { method: "HEAD", signal: AbortSignal.timeout(timeoutMs) });
      status = r.status;
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new DemocdError(`mirror ${url} is unreachable (${cause?.code ?? cause?.message ?? (e as Error).message})`, {
        hint: "check --mirror/--security-mirror and the network, or set --apt-proxy",
      });
    }
    if (status === 404) {
      throw new DemocdError(`mirror ${url} has no suite ${dist} (no ${release})`, { hint: "check --suite and --mirror" });
    }
    if (status >= 400) throw new DemocdError(`mirror ${url} refused ${release} (HTTP ${status})`, { hint: "check --mirror" });
  }
}
