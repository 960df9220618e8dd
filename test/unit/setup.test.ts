import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TOOLS, TOOL_FILES } from "../../src/exec.ts";
import { REPO } from "../helpers/paths.ts";

describe("scripts/setup.sh", () => {
  it("installs the Debian package of every tool and file democd uses", () => {
    const script = fs.readFileSync(path.join(REPO, "scripts/setup.sh"), "utf8");
    const list = /APT_PACKAGES=\(([^)]*)\)/.exec(script)![1].split(/\s+/).filter(Boolean);
    const needed = new Set([...Object.values(TOOLS).map((t) => t.pkg), ...Object.values(TOOL_FILES).map((f) => f.pkg)]);
    for (const pkg of needed) expect(list, pkg).toContain(pkg);
  });
});
