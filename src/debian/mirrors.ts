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

export async function hostMirrors(): Promise<Partial<Mirrors>> {
  try {
    return mirrorsFromIndexTargets((await run("apt-get", ["indextargets", "--format", "$(REPO_URI) $(RELEASE)"])).stdout);
  } catch {
    return {}; // no usable apt configuration here: the defaults apply
  }
}

/** The user's mirrors over the host's over deb.debian.org. */
export async function resolveMirrors(given: { mirror?: string; securityMirror?: string }): Promise<Mirrors> {
  const host = given.mirror && given.securityMirror ? {} : await hostMirrors();
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
