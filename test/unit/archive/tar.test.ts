import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listTar, packTree } from "../../../src/archive/tar.ts";
import { needTools } from "../../helpers/tools.ts";

function sampleTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "democd-tar-"));
  fs.mkdirSync(path.join(dir, "etc"));
  fs.writeFileSync(path.join(dir, "etc", "shadow"), "root:*:1:0:99999:7:::\n", { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "etc", "hostname"), "democd\n");
  fs.symlinkSync("usr/bin", path.join(dir, "bin"));
  fs.mkdirSync(path.join(dir, "tmp"), { mode: 0o1777 });
  fs.chmodSync(path.join(dir, "tmp"), 0o1777);
  return dir;
}

describe("root.tar.gz packing", () => {
  beforeAll(() => needTools("tar", "gzip"));

  it("records owner 0:0, modes, symlinks, sorted members and clamped mtimes", async () => {
    const dir = sampleTree();
    const out = path.join(dir, "..", `${path.basename(dir)}.tar.gz`);
    await packTree(dir, out, { mtime: 1_000_000_000, forceRootOwner: true });
    const lines = await listTar(out);
    const members = lines.map((l) => l.split(/\s+/).slice(5).join(" "));
    expect(members).toEqual(["./", "./bin -> usr/bin", "./etc/", "./etc/hostname", "./etc/shadow", "./tmp/"]);
    expect(lines.every((l) => l.split(/\s+/)[1] === "0/0")).toBe(true);
    expect(lines.find((l) => l.endsWith("./etc/shadow"))).toMatch(/^-rw------- /);
    expect(lines.find((l) => l.endsWith("./tmp/"))).toMatch(/^drwxrwxrwt /);
    expect(lines.every((l) => l.includes("2001-09-09"))).toBe(true);
  });

  it("gives the same bytes for the same tree built at different times", async () => {
    const a = sampleTree();
    await new Promise((r) => setTimeout(r, 1100));
    const b = sampleTree();
    const [oa, ob] = [a, b].map((d) => `${d}.tar.gz`);
    await packTree(a, oa, { mtime: 1_000_000_000, forceRootOwner: true });
    await packTree(b, ob, { mtime: 1_000_000_000, forceRootOwner: true });
    expect(fs.readFileSync(oa).equals(fs.readFileSync(ob))).toBe(true);
  });
});
