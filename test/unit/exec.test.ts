import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DemocdError } from "../../src/errors.ts";
import { lastMeaningfulLine, run } from "../../src/exec.ts";

describe("the exec door", () => {
  it("turns a tool's failure into one line with what it said", async () => {
    const e = await run("tar", ["-xf", "/nonexistent/archive.tar"]).catch((x) => x);
    expect(e).toBeInstanceOf(DemocdError);
    expect(e.message).toMatch(/^tar failed \(exit 2\): .*Cannot open: No such file or directory/);
    expect(e.message).not.toContain("\n");
    expect(e.debug).toContain("$ tar -xf /nonexistent/archive.tar");
  });

  it("streams stdout to a sink, byte for byte, and keeps the messages from stderr", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "democd-exec-"));
    const data = Buffer.alloc(3 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) >>> 11;
    fs.writeFileSync(path.join(dir, "big"), data);
    const chunks: Buffer[] = [];
    const r = await run("tar", ["-cvf", "-", "-C", dir, "big"], { stdoutSink: (c) => chunks.push(c) });
    const tarred = Buffer.concat(chunks);
    expect(tarred.length).toBeGreaterThan(data.length);
    expect(tarred.subarray(512, 512 + data.length).equals(data)).toBe(true);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim()).toBe("big");
    fs.rmSync(dir, { recursive: true });
  });

  it("stops the tool when the sink throws, and reports the sink's error", async () => {
    const e = await run("tar", ["-cf", "-", "-C", path.resolve(import.meta.dirname, ".."), "."], {
      stdoutSink: () => {
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      },
    }).catch((x) => x);
    expect(e.code).toBe("ENOSPC");
  });

  it("prefers the line that explains the error", () => {
    expect(lastMeaningfulLine("working...\nE: Unable to locate package foo\ndone\n")).toBe("E: Unable to locate package foo");
    expect(lastMeaningfulLine("a\nb\n\n")).toBe("b");
  });
});
