import fs from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { fileSha256 } from "../../src/hash.ts";
import { NOBODY, democdAsNobody } from "../helpers/nobody.ts";
import { needTools } from "../helpers/tools.ts";
import { tempDir } from "../helpers/temp.ts";

const iso = inject("isoPath");
describe("rootless unpack-iso and build --from", () => {
  it("an unprivileged round trip records what it cannot apply and gives back the same bytes", async () => {
    await needTools("xorriso");
    const dir = tempDir("rootless");
    fs.chmodSync(dir, 0o755);
    const work = path.join(dir, "work");
    fs.mkdirSync(work);
    if (process.getuid?.() === 0) fs.chownSync(work, NOBODY, NOBODY);

    const target = path.join(work, "mydemo");
    const u = await democdAsNobody(["unpack-iso", iso, target], { env: { PATH: process.env.PATH, HOME: work } });
    expect(u.exitCode, u.stderr).toBe(0);
    expect(fs.statSync(path.join(target, "root/etc/motd")).uid).toBe(process.getuid?.() === 0 ? NOBODY : process.getuid?.());
    // The initrd's device nodes could not be made: they are recorded instead.
    const record = JSON.parse(fs.readFileSync(path.join(target, "work/irtree.record.json"), "utf8"));
    expect(record.devices).toEqual(expect.arrayContaining([expect.objectContaining({ name: "dev/console", type: "char", rdevMajor: 5, rdevMinor: 1 })]));
    expect(fs.existsSync(path.join(target, "irtree/dev/console"))).toBe(false);

    const out = path.join(work, "rebuilt.iso");
    const b = await democdAsNobody(["build", "--from", target, "--out", out, "--build-dir", path.join(work, "build")], { env: { PATH: process.env.PATH, HOME: work } });
    expect(b.exitCode, b.stderr).toBe(0);
    expect(await fileSha256(out)).toBe(await fileSha256(iso));
  });
});
