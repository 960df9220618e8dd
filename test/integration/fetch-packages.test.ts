import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { debFileName, fetchPackages, type ResolvedPackage } from "../../src/debian/apt.ts";
import { fileSha256 } from "../../src/hash.ts";
import { Logger } from "../../src/log.ts";
import { REPO } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";
import { needTools } from "../helpers/tools.ts";

/** Packages the suite's builds already fetched: their .debs, with what apt's index says of them. */
async function cachedPackages(names: string[]): Promise<{ pkg: ResolvedPackage; deb: string }[]> {
  const debs = path.join(REPO, "build/cache/debs");
  return Promise.all(
    names.map(async (name) => {
      const file = fs.readdirSync(debs).find((f) => f.startsWith(`${name}_`) && f.endsWith(".deb"));
      if (!file) throw new Error(`no ${name} .deb in ${debs}: the suite's builds fetch it`);
      const deb = path.join(debs, file);
      const f = (field: string) => execa("dpkg-deb", ["-f", deb, field]).then((r) => r.stdout.trim());
      return { pkg: { name, version: await f("Version"), arch: await f("Architecture"), depends: "", sha256: await fileSha256(deb) }, deb };
    }),
  );
}

describe("fetchPackages", () => {
  it("tells each package's `ready` once its tree is in the cache: a reused tree at once, a new one when unpacked", async () => {
    await needTools("dpkg-deb");
    const dir = tempDir("fetch");
    const cache = path.join(dir, "cache");
    const log = new Logger({ file: path.join(dir, "log"), quiet: true });
    const pkgs = await cachedPackages(["busybox-static", "libtinfo6", "libuuid1"]);
    fs.mkdirSync(path.join(cache, "debs"), { recursive: true });
    for (const p of pkgs) fs.copyFileSync(p.deb, path.join(cache, "debs", debFileName(p.pkg)));

    const events: string[] = [];
    const request = (i: number, withReady: boolean) => ({
      pkg: pkgs[i].pkg,
      prepare: async () => void events.push(`unpacked ${pkgs[i].pkg.name}`),
      ...(withReady && { ready: (d: string) => events.push(`ready ${pkgs[i].pkg.name} ${path.relative(cache, d)}`) }),
    });
    // The package with a `ready` is listed last, and unpacked first.
    const dirs = await fetchPackages([request(1, false), request(2, false), request(0, true)], cache, log);
    expect(dirs.map((d) => path.relative(cache, d))).toEqual(pkgs.map((p) => `pkgs/${p.pkg.name}_${p.pkg.version.replace(/:/g, "%3a")}_${p.pkg.arch}`).slice(1).concat(`pkgs/busybox-static_${pkgs[0].pkg.version.replace(/:/g, "%3a")}_amd64`));
    const started = [...fs.readFileSync(path.join(dir, "log"), "utf8").matchAll(/^\$ dpkg-deb -x \S+\/([^_/]+)_/gm)].map((m) => m[1]);
    expect(started).toEqual(["busybox-static", "libtinfo6", "libuuid1"]);
    expect(events.filter((e) => e.startsWith("unpacked")).sort()).toEqual(["unpacked busybox-static", "unpacked libtinfo6", "unpacked libuuid1"]);
    expect(events.indexOf(`ready busybox-static ${path.relative(cache, dirs[2])}`)).toBeGreaterThan(events.indexOf("unpacked busybox-static"));
    expect(events.filter((e) => e.startsWith("ready"))).toEqual([`ready busybox-static ${path.relative(cache, dirs[2])}`]);
    expect(fs.existsSync(path.join(dirs[2], "bin", "busybox"))).toBe(true);

    // Reused: told before anything else happens, nothing unpacked again.
    events.length = 0;
    await fetchPackages([request(1, true), request(0, true)], cache, log);
    expect(events).toEqual([`ready libtinfo6 ${path.relative(cache, dirs[0])}`, `ready busybox-static ${path.relative(cache, dirs[2])}`]);
    log.close();
  });
});
