import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import { fileSha256 } from "../../src/hash.ts";
import { expectOneCleanError } from "../helpers/cli.ts";
import { firstDifference } from "../helpers/iso-diff.ts";
import { NOBODY, democdAsNobody } from "../helpers/nobody.ts";
import { REPO, TEST_SSH_KEY } from "../helpers/paths.ts";
import { withoutSubids } from "../helpers/subids.ts";
import { needTools } from "../helpers/tools.ts";
import { tempDir } from "../helpers/temp.ts";

const rootIso = inject("debianIsoPath");
const rootDisk = inject("debianDiskPath");
const asRoot = process.getuid?.() === 0;

// The suite's debian build (test/setup/build-iso.ts, as root in CI), again as an ordinary
// user: same settings (the default password, the run's ssh key), so the same bytes. Its
// formats are not on the medium.
const ARGS = ["build", "--version", "9.9-test", "--timeout", "3", "--builder", "democd-tests", "--format", "iso,qcow2"];

describe("the debian profile as an ordinary user", () => {
  it("says what the host lacks in one line with the fix, then, fixed so, builds the root build's bytes", async () => {
    await needTools("xorriso", "mmdebstrap", "newuidmap", "newgidmap");
    const base = tempDir("rootless-debian");
    fs.chmodSync(base, 0o755);
    const build = path.join(base, "build");
    const tmp = path.join(base, "tmp");
    fs.mkdirSync(path.join(build, "cache"), { recursive: true });
    fs.mkdirSync(tmp);
    // The unpacked packages of the root build (the kernel's xz modules take minutes to make);
    // a copy, as the user's files must be theirs. The bootstrap is not copied: it is the test.
    for (const name of ["pkgs", "resolved.json"]) await execa("cp", ["-a", path.join(REPO, "build/cache", name), path.join(build, "cache")]);
    // The key's copy where nobody can read it (build/test/ssh is root's).
    const key = path.join(base, "id_ed25519.pub");
    fs.copyFileSync(`${TEST_SSH_KEY}.pub`, key);
    if (asRoot) await execa("chown", ["-R", `${NOBODY}:${NOBODY}`, base]);
    const env = { PATH: process.env.PATH, HOME: base, TMPDIR: tmp };
    const args = [...ARGS, "--ssh-key", key, "--build-dir", build, "--out", path.join(base, "demo.iso")];

    if (asRoot) {
      // nobody has no subordinate ids unless this test gives it some, and only for its length:
      // /etc/subuid and /etc/subgid are put back byte for byte afterwards.
      withoutSubids("nobody");
      const refused = await democdAsNobody(args, { env });
      expectOneCleanError(refused, /\/etc\/subuid has no range for nobody and \/etc\/subgid has no range for nobody \(as root: usermod --add-subuids \d+-\d+ --add-subgids \d+-\d+ nobody; or build as root\)/);
      expect(fs.readdirSync(path.join(build, "cache"))).not.toContain("bootstrap"); // told before any work
      // The fix it printed, as printed.
      const fix = /as root: (usermod [^;]+);/.exec(refused.stderr)![1].split(" ");
      await execa(fix[0], fix.slice(1));
    }

    const started = Date.now();
    const b = await democdAsNobody(args, { env });
    expect(b.exitCode, b.stderr).toBe(0);
    process.stderr.write(`rootless debian build (bootstrap included) took ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    expect(fs.readdirSync(path.join(build, "cache/bootstrap")).join(" ")).toMatch(/^([0-9a-f]{24})\.unshare \1\.unshare\.seal\.json$/);

    const iso = path.join(base, "demo.iso");
    if ((await fileSha256(iso)) !== (await fileSha256(rootIso))) expect.fail(`the ISOs differ; first difference: ${await firstDifference(rootIso, iso)}`);
    const disk = path.join(base, "demo.qcow2");
    if ((await fileSha256(disk)) !== (await fileSha256(rootDisk))) expect.fail(`the qcow2 disks differ: ${(await execa("cmp", [rootDisk, disk], { reject: false })).stdout}`);
  });
});
