import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { rememberedVersion } from "../../src/tool-version.ts";

describe("a tool's version, remembered", () => {
  it("asks once, and again when the executable changes or the memo is damaged", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "democd-toolversion-"));
    const tool = path.join(dir, "tool");
    const memo = path.join(dir, "cache", "tool.json");
    fs.writeFileSync(tool, "#!/bin/sh\necho 1.0\n", { mode: 0o755 });
    let asked = 0;
    const ask = async () => `tool ${++asked}.0`;
    expect(await rememberedVersion(tool, memo, ask)).toBe("tool 1.0");
    expect(await rememberedVersion(tool, memo, ask)).toBe("tool 1.0");
    expect(asked).toBe(1);
    // An upgrade replaces the file: a new inode, size and times.
    fs.rmSync(tool);
    fs.writeFileSync(tool, "#!/bin/sh\necho 2.0 upgraded\n", { mode: 0o755 });
    expect(await rememberedVersion(tool, memo, ask)).toBe("tool 2.0");
    // Changed in place, same size: the times differ.
    fs.utimesSync(tool, new Date(0), new Date(0));
    expect(await rememberedVersion(tool, memo, ask)).toBe("tool 3.0");
    fs.writeFileSync(memo, "{ not json");
    expect(await rememberedVersion(tool, memo, ask)).toBe("tool 4.0");
    expect(await rememberedVersion(tool, memo, ask)).toBe("tool 4.0");
    // Reached through a symlink (alternatives), the file it names counts.
    fs.symlinkSync(tool, path.join(dir, "link"));
    expect(await rememberedVersion(path.join(dir, "link"), memo, ask)).toBe("tool 4.0");
    fs.rmSync(dir, { recursive: true });
  });
});
