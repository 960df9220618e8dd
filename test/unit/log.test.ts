import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { DemocdError } from "../../src/errors.ts";
import { Logger } from "../../src/log.ts";
import { tempDir } from "../helpers/temp.ts";

/** A terminal-like stream that keeps what it is given. */
function terminal(): Writable & { isTTY: boolean; text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({ write: (c, _e, done) => (chunks.push(String(c)), done()) }) as Writable & { isTTY: boolean; text: () => string };
  w.isTTY = true;
  w.text = () => chunks.join("");
  return w;
}

describe("the build's log", () => {
  it("colours a terminal's lines, never the log file's", async () => {
    const file = path.join(tempDir("log"), "build.log");
    const stream = terminal();
    const before = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    const log = new Logger({ file, stream });
    if (before !== undefined) process.env.NO_COLOR = before;
    log.warn("careful");
    await log.stage("fetch", async () => "x", (r) => r);
    log.close();
    expect(stream.text()).toContain("\x1b[33mwarning: careful\x1b[0m");
    expect(stream.text()).toContain("\x1b[32m✓\x1b[0m fetch");
    const written = fs.readFileSync(file, "utf8");
    expect(written).toMatch(/^warning: careful\n== stage fetch\n✓ fetch +\d+\.\ds  x\n$/);
    expect(written).not.toContain("\x1b[");
  });

  it("records the error a run ends with, whole: message, hint and the tools' output", () => {
    const file = path.join(tempDir("log"), "build.log");
    const log = new Logger({ file, quiet: true });
    log.recordFailure(new DemocdError("mastering x.iso failed", { hint: "free some space", debug: "xorriso : FAILURE : no space left" }));
    log.close();
    const text = fs.readFileSync(file, "utf8");
    expect(text).toContain("===== failed: mastering x.iso failed\nhint: free some space\nxorriso : FAILURE : no space left\n");
  });

  it("keeps the last few runs' logs, the newest in build.log", () => {
    const dir = tempDir("log");
    const file = path.join(dir, "build.log");
    for (let run = 1; run <= 7; run++) {
      Logger.rotate(file, 5);
      fs.writeFileSync(file, `run ${run}\n`);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(["build.log", "build.log.1", "build.log.2", "build.log.3", "build.log.4"]);
    expect(fs.readFileSync(file, "utf8")).toBe("run 7\n");
    expect(fs.readFileSync(`${file}.4`, "utf8")).toBe("run 3\n");
  });
});
