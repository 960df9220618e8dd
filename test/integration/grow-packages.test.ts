import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { treeProblem } from "../../src/cache-tree.ts";
import { libraryClosure, readElfDynamicFile } from "../../src/elf.ts";
import { GROW_PACKAGES, LIB_SUBDIRS } from "../../src/grow.ts";
import { TEST_BUILD_DIR } from "../helpers/paths.ts";

type Pkg = { package: string; version: string; arch: string };
/** The suite's minimal build (test/setup/build-iso.ts): which packages it took, by its manifest. */
const manifest = JSON.parse(fs.readFileSync(path.join(TEST_BUILD_DIR, "work", "democd", "build.json"), "utf8")) as { initrdTools: Pkg[]; components: Record<string, Pkg> };

/** Where that build's package sits unpacked in the cache: `<cache>/pkgs/<name>_<version>_<arch>`. */
function cachedPackage(name: string): string {
  const p = [...manifest.initrdTools, ...Object.values(manifest.components)].find((x) => x.package === name);
  if (!p) throw new Error(`the test build's manifest names no package ${name}`);
  return path.join(TEST_BUILD_DIR, "cache", "pkgs", `${p.package}_${p.version.replace(/:/g, "%3a")}_${p.arch}`);
}

// Read only what the cache would use: each tree as it was sealed.
beforeAll(async () => {
  for (const name of [...GROW_PACKAGES, "busybox-static"]) {
    const dir = cachedPackage(name);
    const problem = await treeProblem(dir);
    if (problem) throw new Error(`${dir} is not a complete unpacked package: ${problem}`);
  }
});

describe("the packages the initrd's grow tools come from (as the suite's builds fetched them)", () => {
  it("hold exactly what sfdisk and resize2fs need", () => {
    const dirs = GROW_PACKAGES.map(cachedPackage);
    const libDirs = dirs.flatMap((p) => LIB_SUBDIRS.map((s) => path.join(p, s))).filter((x) => fs.existsSync(x));
    const progs = [path.join(cachedPackage("fdisk"), "sbin/sfdisk"), path.join(cachedPackage("e2fsprogs"), "sbin/resize2fs")];
    const c = libraryClosure(progs, libDirs);
    expect([...c.libs.keys()].sort()).toEqual([
      "ld-linux-x86-64.so.2", "libblkid.so.1", "libc.so.6", "libcom_err.so.2", "libe2p.so.2", "libext2fs.so.2",
      "libfdisk.so.1", "libreadline.so.8", "libsmartcols.so.1", "libtinfo.so.6", "libuuid.so.1",
    ]);
    expect(c.interp?.path).toBe("/lib64/ld-linux-x86-64.so.2");
    expect(readElfDynamicFile(progs[0]).needed).toEqual(expect.arrayContaining(["libfdisk.so.1", "libsmartcols.so.1", "libc.so.6"]));
  });

  it("busybox-static is static: no dynamic section, nothing needed", () => {
    expect(readElfDynamicFile(path.join(cachedPackage("busybox-static"), "bin/busybox"))).toEqual({ interp: undefined, needed: [] });
  });
});
