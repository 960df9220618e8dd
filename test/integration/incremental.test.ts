import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { fileSha256 } from "../../src/hash.ts";
import { democd, scratch } from "../helpers/cli.ts";
import { REPO } from "../helpers/paths.ts";
import { needTools } from "../helpers/tools.ts";

describe("incremental rebuilds", () => {
  it("after a one-file rootpatch edit, reuse what did not change and redo what did", async () => {
    await needTools("xorriso", "tar");
    const { dir, buildDir } = scratch();
    const profile = path.join(dir, "profile");
    for (const d of ["rootpatch", "irtree", "templates"]) fs.cpSync(path.join(REPO, d), path.join(profile, d), { recursive: true });
    const args = ["build", "--profile", "minimal", "--build-dir", buildDir, "--profile-dir", profile, "--out", path.join(dir, "x.iso"), "--root-password", "pw", "--builder", "t"];
    const first = await democd(args);
    expect(first.exitCode, first.stderr).toBe(0);

    fs.writeFileSync(path.join(profile, "rootpatch/etc/issue"), "edited issue\n");
    const log = path.join(buildDir, "log/build.log");
    const logStart = fs.statSync(log).size;
    const second = await democd(args);
    expect(second.exitCode, second.stderr).toBe(0);
    const secondLog = fs.readFileSync(log, "utf8").slice(logStart);

    expect(second.stderr).toMatch(/initrd\.img [\d.]+ MB \(gzip, unchanged: reused\)/);
    expect(secondLog).not.toMatch(/^\$ apt-cache /m); // resolutions reused while apt's lists are unchanged
    expect(secondLog).not.toMatch(/^\$ (apt-get|dpkg-deb|depmod|grub-mkimage (?!--version)|mformat)/m); // packages and GRUB images reused
    expect(second.stderr).toMatch(/stage times: fetch .* master .*total/);
    // The sha256 is taken while xorriso writes (reading behind it): it must be the finished file's.
    const iso = path.join(dir, "x.iso");
    expect(fs.readFileSync(`${iso}.sha256`, "utf8")).toBe(`${await fileSha256(iso)}  x.iso\n`);
    const x = path.join(dir, "root.tar.gz");
    await execa("xorriso", ["-osirrox", "on", "-indev", path.join(dir, "x.iso"), "-extract", "/democd/root.tar.gz", x]);
    expect((await execa("tar", ["-xOzf", x, "./etc/issue"])).stdout).toBe("edited issue");
  });
});
