import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { DEFAULT_BUILDER } from "../../src/config/settings.ts";
import { FORMAT_NAMES, outputPath } from "../../src/outputs/formats.ts";
import { fileSha256 } from "../../src/hash.ts";
import { democd } from "../helpers/cli.ts";
import { firstDifference } from "../helpers/iso-diff.ts";
import { NOBODY, democdAsNobody } from "../helpers/nobody.ts";
import { REPO } from "../helpers/paths.ts";
import { needTools } from "../helpers/tools.ts";
import { requireUnderCi } from "../helpers/ci.ts";
import { tempDir } from "../helpers/temp.ts";

// No --builder: the default must not depend on who builds where. Every format: the disk
// images must not either (ids, dates, owners of an unprivileged build).
const ARGS = ["build", "--profile", "minimal", "--version", "7.7", "--root-password", "same", "--format", FORMAT_NAMES.join(",")];

describe("reproducible, rootless builds", () => {
  it("two builds of the same inputs give the same bytes: other directory, user, host name, home, TMPDIR, umask, locale and time", async () => {
    await needTools("xorriso");
    const base = tempDir("repro");
    fs.chmodSync(base, 0o755);
    const env = { ...process.env };
    delete env.SOURCE_DATE_EPOCH;

    // A: as the caller (root in CI), sharing the project's package cache.
    const a = path.join(base, "a");
    fs.mkdirSync(path.join(a, "build"), { recursive: true });
    fs.symlinkSync(path.join(REPO, "build/cache"), path.join(a, "build/cache"));
    const ra = await democd([...ARGS, "--build-dir", path.join(a, "build"), "--out", path.join(a, "demo.iso")], { ...env, LC_ALL: "C" });
    expect(ra.exitCode, ra.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));

    // B: as nobody on another host name, umask 077, another locale, home and TMPDIR, a cache of its own
    // (only the downloads are shared).
    const b = path.join(base, "b");
    fs.mkdirSync(path.join(b, "build/cache/debs"), { recursive: true });
    for (const deb of fs.readdirSync(path.join(REPO, "build/cache/debs"))) fs.linkSync(path.join(REPO, "build/cache/debs", deb), path.join(b, "build/cache/debs", deb));
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await execa("chown", ["-R", `${NOBODY}:${NOBODY}`, b]);
    const tmpB = path.join(b, "tmp");
    fs.mkdirSync(tmpB);
    if (asRoot) fs.chownSync(tmpB, NOBODY, NOBODY);
    requireUnderCi(asRoot, "the second build would run under this host's name");
    const hostname = asRoot ? "another-builder-host" : undefined;
    const rb = await democdAsNobody([...ARGS, "--build-dir", path.join(b, "build"), "--out", path.join(b, "demo.iso")], {
      umask: "077", hostname, env: { PATH: env.PATH, HOME: b, TMPDIR: tmpB, USER: "someone", LOGNAME: "someone", LANG: "C.UTF-8", TZ: "Pacific/Kiritimati" },
    });
    expect(rb.exitCode, rb.stderr).toBe(0);

    for (const format of FORMAT_NAMES) {
      // One name in both directories: a VMDK names its own file in its descriptor.
      const [fa, fb] = [outputPath(path.join(a, "demo"), format), outputPath(path.join(b, "demo"), format)];
      const [ha, hb] = await Promise.all([fileSha256(fa), fileSha256(fb)]);
      if (ha !== hb) {
        const where = format === "iso" ? await firstDifference(fa, fb) : (await execa("cmp", [fa, fb], { reject: false })).stdout;
        expect.fail(`the ${format} outputs differ; first difference: ${where}`);
      }
    }
    // The epoch both derived, recorded on the medium.
    const x = path.join(base, "build.json");
    await execa("xorriso", ["-osirrox", "on", "-indev", path.join(a, "demo.iso"), "-extract", "/democd/build.json", x]);
    const manifest = JSON.parse(fs.readFileSync(x, "utf8"));
    expect(manifest.sourceDateEpoch).toBeLessThan(Date.now() / 1000 - 3600);
    expect(manifest.builder).toBe(DEFAULT_BUILDER);
    // Nothing of either builder's machine or account on the medium.
    const leaks = [os.hostname(), hostname, a, b, REPO, os.userInfo().username, "someone"].filter((s): s is string => !!s && s.length > 3);
    const text = fs.readFileSync(x, "utf8");
    for (const leak of leaks) expect(text, `build.json holds ${leak}`).not.toContain(leak);
  });
});
