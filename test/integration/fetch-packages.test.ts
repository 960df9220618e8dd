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
  it("tells each package's `debReady` once its .deb is in the cache, before anything is unpacked; unpacks in the order asked", async () => {
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
      ...(withReady && { debReady: (deb: string) => events.push(`deb ${pkgs[i].pkg.name} ${path.relative(cache, deb)} ${fs.statSync(deb).size}`) }),
    });
    const debOf = (i: number) => `debs/${debFileName(pkgs[i].pkg)} ${fs.statSync(pkgs[i].deb).size}`;
    const dirs = await fetchPackages([request(1, false), request(2, false), request(0, true)], cache, log);
    expect(dirs.map((d) => path.relative(cache, d))).toEqual([1, 2, 0].map((i) => `pkgs/${pkgs[i].pkg.name}_${pkgs[i].pkg.version.replace(/:/g, "%3a")}_${pkgs[i].pkg.arch}`));
    const started = [...fs.readFileSync(path.join(dir, "log"), "utf8").matchAll(/^\$ dpkg-deb -x \S+\/([^_/]+)_/gm)].map((m) => m[1]);
    expect(started).toEqual(["libtinfo6", "libuuid1", "busybox-static"]);
    expect(events[0]).toBe(`deb busybox-static ${debOf(0)}`);
    expect(events.slice(1).sort()).toEqual(["unpacked busybox-static", "unpacked libtinfo6", "unpacked libuuid1"]);
    expect(fs.existsSync(path.join(dirs[2], "bin", "busybox"))).toBe(true);

    // Trees reused: each .deb still told (the build's date is read from it), nothing unpacked again.
    events.length = 0;
    await fetchPackages([request(1, true), request(0, true)], cache, log);
    expect(events).toEqual([`deb libtinfo6 ${debOf(1)}`, `deb busybox-static ${debOf(0)}`]);

    // A damaged .deb beside a cached tree is not read: it is fetched again (apt-get, from the archive), then told.
    fs.writeFileSync(path.join(cache, "debs", debFileName(pkgs[0].pkg)), "!<arch>\nnot a package");
    events.length = 0;
    await fetchPackages([request(0, true)], cache, log);
    expect(events).toEqual([`deb busybox-static ${debOf(0)}`]);
    expect(await fileSha256(path.join(cache, "debs", debFileName(pkgs[0].pkg)))).toBe(pkgs[0].pkg.sha256);
    log.close();
  });
});
