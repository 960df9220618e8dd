import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DemocdError } from "../../src/errors.ts";
import { BACKGROUND_NICE, lastMeaningfulLine, run, searchPath } from "../../src/exec.ts";

describe("the exec door", () => {
  it("turns a tool's failure into one line with what it said", async () => {
    const e = await run("tar", ["-xf", "/nonexistent/archive.tar"]).catch((x) => x);
    expect(e).toBeInstanceOf(DemocdError);
    expect(e.message).toMatch(/^tar failed \(exit 2\): .*Cannot open: No such file or directory/);
    expect(e.message).not.toContain("\n");
    expect(e.debug).toContain("$ tar -xf /nonexistent/archive.tar");
  });

  it("finds a tool on PATH as the shell would: the first executable file, skipping directories and plain files", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "democd-path-"));
    for (const d of ["a", "b", "c", "d"]) fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, "a", "tool"), "not executable");
    fs.mkdirSync(path.join(dir, "b", "tool"));
    fs.writeFileSync(path.join(dir, "c", "tool"), "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "d", "tool"), "#!/bin/sh\n", { mode: 0o755 });
    const p = ["a", "b", "c", "d"].map((d) => path.join(dir, d)).join(":");
    expect(searchPath("tool", p)).toBe(path.join(dir, "c", "tool"));
    expect(searchPath("nosuchtool", p)).toBeUndefined();
    fs.rmSync(dir, { recursive: true });
  });

  it("runs background work at nice 10, and what it starts inherits it; other work at the caller's", async () => {
    const lock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "democd-nice-")), "lock");
    const niceness = async (background: boolean) => (await run("flock", [lock, "sh", "-c", "nice"], { background })).stdout.trim();
    expect(await niceness(true)).toBe(String(os.getPriority() + BACKGROUND_NICE));
    expect(await niceness(false)).toBe(String(os.getPriority()));
    fs.rmSync(path.dirname(lock), { recursive: true });
  });

  it("prefers the line that explains the error", () => {
    expect(lastMeaningfulLine("working...\nE: Unable to locate package foo\ndone\n")).toBe("E: Unable to locate package foo");
    expect(lastMeaningfulLine("a\nb\n\n")).toBe("b");
  });
});
