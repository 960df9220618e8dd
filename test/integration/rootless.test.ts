import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import { fileSha256 } from "../../src/stages/master.ts";
import { REPO } from "../helpers/paths.ts";
import { needTools } from "../helpers/tools.ts";
import { tempDir } from "../helpers/temp.ts";

const iso = inject("isoPath");
const NOBODY = 65534;

/** Run ./make.ts as an unprivileged user (CI runs as root; a user's machine may not). */
async function democdAsNobody(args: string[], home: string) {
  const asRoot = process.getuid?.() === 0;
  const cmd = [process.execPath, "--import", "tsx", path.join(REPO, "make.ts"), ...args];
  return asRoot
    ? execa("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", ...cmd], { cwd: REPO, reject: false, env: { PATH: process.env.PATH, HOME: home } })
    : execa(cmd[0], cmd.slice(1), { cwd: REPO, reject: false, env: { PATH: process.env.PATH, HOME: home } });
}

describe("rootless unpack-iso and build --from", () => {
  it("an unprivileged round trip records what it cannot apply and gives back the same bytes", async () => {
    await needTools("xorriso");
    if (process.getuid?.() === 0) await needTools("setpriv");
    const dir = tempDir("rootless");
    fs.chmodSync(dir, 0o755);
    const work = path.join(dir, "work");
    fs.mkdirSync(work);
    if (process.getuid?.() === 0) fs.chownSync(work, NOBODY, NOBODY);

    const target = path.join(work, "mydemo");
    const u = await democdAsNobody(["unpack-iso", iso, target], work);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(fs.statSync(path.join(target, "root/etc/motd")).uid).toBe(process.getuid?.() === 0 ? NOBODY : process.getuid?.());
    // The initrd's device nodes could not be made: they are recorded instead.
    const record = JSON.parse(fs.readFileSync(path.join(target, "work/irtree.record.json"), "utf8"));
    expect(record.devices).toEqual(expect.arrayContaining([expect.objectContaining({ name: "dev/console", type: "char", rdevMajor: 5, rdevMinor: 1 })]));
    expect(fs.existsSync(path.join(target, "irtree/dev/console"))).toBe(false);

    const out = path.join(work, "rebuilt.iso");
    const b = await democdAsNobody(["build", "--from", target, "--out", out, "--build-dir", path.join(work, "build")], work);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(await fileSha256(out)).toBe(await fileSha256(iso));
  });
});
