import path from "node:path";
import { parseCircular, parseDependencyTree } from "dpdm";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(import.meta.dirname, "../..");

/**
 * src/'s layers, lowest first (DESIGN.md draws them): a file may import its own layer and
 * those below. The first pattern a file matches gives its layer.
 */
const LAYERS: [string, RegExp][] = [
  ["base", /^src\/(errors|log|exec|fsutil|hash|epoch|diskspace|tool-version|elf|password|overlay|cache-file|cache-tree|lock|sweep|parallel|render\/ejs)\.ts$/],
  ["libraries", /^src\/(archive|iso|disk|kernel|debian|efi|xenguest|ssh|unpack)\/|^src\/(busybox|grow|boot\/escape|boot\/ssh-forwards|boot\/web-forward)\.ts$/],
  ["config", /^src\/config\//],
  ["context", /^src\/(context|render\/grub|render\/xen-cfg)\.ts$/],
  ["stages and writers", /^src\/(stages|outputs)\//],
  ["sources", /^src\/sources\//],
  ["build", /^src\/(build|preflight)\.ts$/],
  ["commands", /^src\/(cli|doctor|boot\/qemu|boot\/interactive)\.ts$/],
];

/** The imports that go up a layer, each for the reason DESIGN.md gives. */
const UP_IMPORTS = [
  // The writers' table is plain data; the config validates --format against it.
  "src/config/schema.ts -> src/outputs/formats.ts",
  "src/config/settings.ts -> src/outputs/formats.ts",
];

function layerOf(file: string): number {
  const i = LAYERS.findIndex(([, re]) => re.test(file));
  if (i < 0) throw new Error(`${file} is in no layer: add it to LAYERS here and to DESIGN.md's picture`);
  return i;
}

describe("src/'s import graph (dpdm, type-only imports included)", async () => {
  const tree = await parseDependencyTree("src/**/*.ts", { cwd: REPO, context: REPO, transform: false, skipDynamicImports: false });
  const files = Object.keys(tree).filter((f) => f.startsWith("src/"));

  it("reads the whole tree", () => {
    expect(files.length).toBeGreaterThan(80);
    expect(files).toContain("src/build.ts");
  });

  it("has no import cycle", () => {
    expect(parseCircular(tree).map((c) => c.join(" -> "))).toEqual([]);
  });

  it("imports only down its layers, but for the explained exceptions", () => {
    const up: string[] = [];
    for (const file of files) {
      for (const dep of tree[file] ?? []) {
        if (!dep.id?.startsWith("src/")) continue;
        if (layerOf(dep.id) > layerOf(file)) up.push(`${file} -> ${dep.id}`);
      }
    }
    expect(up.sort()).toEqual([...UP_IMPORTS].sort());
  });
});
