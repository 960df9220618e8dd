import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { MINIMIZE_DPKG_CFG, MINIMIZE_FILTERS, minimizeArgs } from "../../../src/debian/minimize.ts";
import { tempDir } from "../../helpers/temp.ts";

/** A root as the essential packages leave it, extracted whole: docs, man pages, locales, a doc link. */
function essentialRoot(): string {
  const root = tempDir("minimize");
  const files = [
    "usr/bin/true",
    "usr/share/doc/libc6/copyright",
    "usr/share/doc/libc6/changelog.Debian.gz",
    "usr/share/doc/libc6/examples/deep/copyright",
    "usr/share/doc/only-news/NEWS.gz",
    "usr/share/man/man1/true.1.gz",
    "usr/share/man/de/man1/true.1.gz",
    "usr/share/info/coreutils.info.gz",
    "usr/share/locale/de/LC_MESSAGES/coreutils.mo",
    "usr/share/lintian/overrides/libc6",
    "usr/share/common-licenses/GPL-3",
    "usr/share/docs-not-doc/README",
  ];
  for (const f of files) {
    fs.mkdirSync(path.join(root, path.dirname(f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), f);
  }
  // Links under /usr/share/doc stay, as dpkg keeps them: a package's doc link, one to a file that goes.
  fs.symlinkSync("libc6", path.join(root, "usr/share/doc/libgcc-s1"));
  fs.symlinkSync("changelog.Debian.gz", path.join(root, "usr/share/doc/libc6/FAQ"));
  fs.symlinkSync("true.1.gz", path.join(root, "usr/share/man/man1/false.1.gz"));
  fs.mkdirSync(path.join(root, "usr/share/doc/empty-pkg"));
  return root;
}

/** Every path, directories with a trailing slash; links listed, not followed. */
function listTree(root: string, dir = ""): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const p = `${dir}/${e.name}`;
    return e.isDirectory() ? [`${p}/`, ...listTree(root, p)] : [p];
  }).sort();
}

/** mmdebstrap's hooks are `sh -c HOOK exec ROOT`. */
async function runHook(arg: string, root: string, umask = "022"): Promise<void> {
  const hook = arg.replace(/^--[a-z-]+-hook=/, "");
  await execa("sh", ["-c", `umask ${umask}; ${hook}`, "exec", root]);
}

const [setupHook, extractHook] = minimizeArgs();

describe("--minimize's hooks", () => {
  it("are a setup hook and an extract hook, not --dpkgopt (which runs mmtarfilter on every essential package)", () => {
    expect(minimizeArgs().map((a) => a.replace(/=.*/s, ""))).toEqual(["--setup-hook", "--extract-hook"]);
    expect(minimizeArgs().some((a) => a.startsWith("--dpkgopt"))).toBe(false);
  });

  it("the setup hook gives dpkg the filters in a file of its own, readable whatever the caller's umask", async () => {
    const root = tempDir("minimize-setup");
    await runHook(setupHook!, root, "077");
    const cfg = path.join(root, MINIMIZE_DPKG_CFG);
    expect(fs.readFileSync(cfg, "utf8")).toBe(
      ["path-exclude=/usr/share/man/*", "path-exclude=/usr/share/info/*", "path-exclude=/usr/share/locale/*", "path-exclude=/usr/share/doc/*", "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/lintian/*", ""].join("\n"),
    );
    expect(fs.statSync(cfg).mode & 0o777).toBe(0o644);
    // mmdebstrap's own config name would bring mmtarfilter back.
    expect(path.basename(cfg)).not.toBe("99mmdebstrap");
  });

  it("the extract hook leaves the tree dpkg itself installs with the filters, and removes the directories left empty", async () => {
    const root = essentialRoot();
    // The oracle: the same tree as a package, unpacked by dpkg with the same filters.
    const work = tempDir("minimize-dpkg");
    const pkg = path.join(work, "pkg");
    fs.cpSync(root, pkg, { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(path.join(pkg, "DEBIAN"));
    fs.writeFileSync(path.join(pkg, "DEBIAN", "control"), "Package: essential-root\nVersion: 1\nArchitecture: all\nMaintainer: democd <democd@localhost>\nDescription: test\n");
    await execa("dpkg-deb", ["--root-owner-group", "-b", pkg, path.join(work, "p.deb")]);
    const dpkgRoot = path.join(work, "root");
    fs.mkdirSync(path.join(dpkgRoot, "var/lib/dpkg/info"), { recursive: true });
    fs.mkdirSync(path.join(dpkgRoot, "var/lib/dpkg/updates"));
    fs.writeFileSync(path.join(dpkgRoot, "var/lib/dpkg/status"), "");
    const filters = MINIMIZE_FILTERS.map((f) => `--path-${f.include ? "include" : "exclude"}=${f.pattern}`);
    await execa("dpkg", [`--root=${dpkgRoot}`, "--force-not-root", ...filters, "--unpack", path.join(work, "p.deb")]);
    fs.rmSync(path.join(dpkgRoot, "var"), { recursive: true });

    await runHook(extractHook!, root);
    expect(listTree(root)).toEqual(listTree(dpkgRoot));
    expect(listTree(root)).toEqual([
      "/usr/",
      "/usr/bin/",
      "/usr/bin/true",
      "/usr/share/",
      "/usr/share/common-licenses/",
      "/usr/share/common-licenses/GPL-3",
      "/usr/share/doc/",
      "/usr/share/doc/empty-pkg/",
      "/usr/share/doc/libc6/",
      "/usr/share/doc/libc6/FAQ",
      "/usr/share/doc/libc6/copyright",
      "/usr/share/doc/libc6/examples/",
      "/usr/share/doc/libc6/examples/deep/",
      "/usr/share/doc/libc6/examples/deep/copyright",
      "/usr/share/doc/libgcc-s1",
      "/usr/share/doc/only-news/",
      "/usr/share/docs-not-doc/",
      "/usr/share/docs-not-doc/README",
      "/usr/share/info/",
      "/usr/share/lintian/",
      "/usr/share/locale/",
      "/usr/share/man/",
    ]);
  });

  it("the extract hook fails loudly on a root without /usr/share, rather than sweeping elsewhere", async () => {
    const root = tempDir("minimize-empty");
    await expect(runHook(extractHook!, root)).rejects.toThrow(/usr\/share/);
  });
});
