import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listTar, packTree } from "../../../src/archive/tar.ts";
import { needTools } from "../../helpers/tools.ts";
import { tempDir } from "../../helpers/temp.ts";

function sampleTree(): string {
  const dir = tempDir("tar");
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
    await packTree(dir, out, { mtime: 1_000_000_000, ownersFromDisk: false });
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
    await packTree(a, oa, { mtime: 1_000_000_000, ownersFromDisk: false });
    await packTree(b, ob, { mtime: 1_000_000_000, ownersFromDisk: false });
    expect(fs.readFileSync(oa).equals(fs.readFileSync(ob))).toBe(true);
  });
});

describe("the in-process tar writer, read back by GNU tar", () => {
  beforeAll(() => needTools("tar"));

  it("carries long names and link targets in pax headers", async () => {
    const dir = tempDir("tar-long");
    const deep = path.join(dir, "a".repeat(60), "b".repeat(60));
    fs.mkdirSync(deep, { recursive: true });
    fs.writeFileSync(path.join(deep, "c".repeat(90)), "deep");
    fs.symlinkSync("t".repeat(150), path.join(dir, "longlink"));
    fs.writeFileSync(path.join(dir, "ünïcode"), "u");
    const out = `${dir}.tar.gz`;
    packTree(dir, out, { mtime: 1_000_000_000, ownersFromDisk: false });
    const x = tempDir("tar-x");
    const { execa } = await import("execa");
    await execa("tar", ["-xzf", out, "-C", x]);
    expect(fs.readFileSync(path.join(x, "a".repeat(60), "b".repeat(60), "c".repeat(90)), "utf8")).toBe("deep");
    expect(fs.readlinkSync(path.join(x, "longlink"))).toBe("t".repeat(150));
    expect(fs.readFileSync(path.join(x, "ünïcode"), "utf8")).toBe("u");
  });

  it("applies owners and device nodes recorded by an unprivileged unpack", async () => {
    const dir = tempDir("tar-rec");
    fs.mkdirSync(path.join(dir, "var/mail"), { recursive: true });
    fs.mkdirSync(path.join(dir, "dev"));
    const out = `${dir}.tar.gz`;
    packTree(dir, out, {
      mtime: 1_000_000_000,
      ownersFromDisk: false,
      record: { owners: { "var/mail": { uid: 0, gid: 8 } }, devices: [{ name: "dev/null", type: "char", perm: 0o666, uid: 0, gid: 0, mtime: 5, rdevMajor: 1, rdevMinor: 3 }] },
    });
    const lines = await listTar(out);
    expect(lines.find((l) => l.endsWith("./var/mail/"))).toMatch(/^drwxr-xr-x 0\/8 /);
    expect(lines.find((l) => l.endsWith("./dev/null"))).toMatch(/^crw-rw-rw- 0\/0 +1,3 /);
  });
});
