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

  it("prefers the line that explains the error", () => {
    expect(lastMeaningfulLine("working...\nE: Unable to locate package foo\ndone\n")).toBe("E: Unable to locate package foo");
    expect(lastMeaningfulLine("a\nb\n\n")).toBe("b");
  });
});
