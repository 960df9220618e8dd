import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { debBuildDate, envSourceDateEpoch, packagesEpoch } from "../../src/epoch.ts";
import { tempDir } from "../helpers/temp.ts";

/** A package as dpkg-deb builds it with the package's SOURCE_DATE_EPOCH, holding one file dated earlier. */
async function deb(dir: string, name: string, epoch: number): Promise<string> {
  const root = path.join(dir, name);
  fs.mkdirSync(path.join(root, "DEBIAN"), { recursive: true });
  fs.writeFileSync(path.join(root, "DEBIAN", "control"), `Package: ${name}\nVersion: 1\nArchitecture: all\nMaintainer: democd <democd@localhost>\nDescription: test\n`);
  fs.mkdirSync(path.join(root, "usr"));
  fs.writeFileSync(path.join(root, "usr", "file"), name);
  fs.utimesSync(path.join(root, "usr", "file"), epoch - 3600, epoch - 3600);
  const out = path.join(dir, `${name}.deb`);
  await execa("dpkg-deb", ["--root-owner-group", "-b", root, out], { env: { SOURCE_DATE_EPOCH: String(epoch) } });
  return out;
}

describe("the build's date", () => {
  it("is SOURCE_DATE_EPOCH when the environment sets it to a number", () => {
    expect(envSourceDateEpoch({ SOURCE_DATE_EPOCH: "1700000000" })).toBe(1700000000);
    expect(envSourceDateEpoch({ SOURCE_DATE_EPOCH: "yesterday" })).toBeUndefined();
    expect(envSourceDateEpoch({})).toBeUndefined();
  });

  it("is otherwise the newest date dpkg-deb built the packages at, read from their first bytes", async () => {
    const dir = tempDir("epoch");
    const a = await deb(dir, "kernel", 1795713176);
    const b = await deb(dir, "busybox", 1778186025);
    expect(debBuildDate(a)).toBe(1795713176);
    expect(debBuildDate(b)).toBe(1778186025);
    expect(packagesEpoch([b, a])).toBe(1795713176);
  });

  it("refuses a file that is not a Debian package, naming it", () => {
    const dir = tempDir("epoch-bad");
    const short = path.join(dir, "short.deb");
    fs.writeFileSync(short, "!<arch>\n");
    const text = path.join(dir, "text.deb");
    fs.writeFileSync(text, "x".repeat(100));
    expect(() => debBuildDate(short)).toThrow(`${short} is not a Debian package: it has no ar header with a date`);
    expect(() => debBuildDate(text)).toThrow(`${text} is not a Debian package`);
  });
});
