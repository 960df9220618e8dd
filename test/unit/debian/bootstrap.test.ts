import { describe, expect, it } from "vitest";
import { bootstrapArgs, bootstrapEnv, bootstrapKey, explainBootstrapFailure, modeArgs, toolstackPackage, type BootstrapSpec } from "../../../src/debian/bootstrap.ts";
import { minimizeArgs } from "../../../src/debian/minimize.ts";
import { mirrorsFromIndexTargets, sourceLines } from "../../../src/debian/mirrors.ts";

const spec: BootstrapSpec = {
  suite: "bookworm",
  mirrors: { main: "http://deb.debian.org/debian", security: "http://deb.debian.org/debian-security" },
  packages: ["kmod", "busybox", "xen-utils-4.17=4.17.7-1"],
  minimize: true,
  sourceDateEpoch: 1700000000,
};

describe("the bootstrap's arguments", () => {
  it("installs the packages, sorted, minimized as asked", () => {
    expect(bootstrapArgs(spec)).toEqual([
      "--variant=apt",
      "--include=busybox,kmod,xen-utils-4.17=4.17.7-1",
      ...minimizeArgs(),
    ]);
    const full = bootstrapArgs({ ...spec, minimize: false });
    expect(full.some((a) => a.includes("hook"))).toBe(false);
    expect(full).toContain("--skip=cleanup/apt/lists");
  });

  it("writes a tarball in root mode as root and in unshare mode otherwise, under one key", () => {
    expect(modeArgs("root")).toEqual(["--mode=root", "--format=tar"]);
    expect(modeArgs("unshare")).toEqual(["--mode=unshare", "--format=tar"]);
    // The mode is not among the key's inputs: both give the same tarball, and the key is on the medium.
    expect(bootstrapArgs(spec).some((a) => a.startsWith("--mode") || a.startsWith("--format"))).toBe(false);
  });

  it("runs mmdebstrap in a fixed environment: the caller's does not reach the chroot's maintainer scripts", () => {
    const env = bootstrapEnv({ PYTHONDONTWRITEBYTECODE: "1", PATH: "/home/a/bin:/usr/bin", HOME: "/home/a", LANG: "de_DE.UTF-8", TMPDIR: "/var/tmp/a", http_proxy: "http://p:3128" }, 1700000000);
    expect(env).toEqual({ PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", SOURCE_DATE_EPOCH: "1700000000", TMPDIR: "/var/tmp/a", http_proxy: "http://p:3128" });
  });

  it("reads the suite, its updates and its security suite", () => {
    expect(sourceLines(spec.mirrors, "bookworm")).toEqual([
      "deb http://deb.debian.org/debian bookworm main",
      "deb http://deb.debian.org/debian bookworm-updates main",
      "deb http://deb.debian.org/debian-security bookworm-security main",
    ]);
  });

  it("keys the cache by every input that changes the root, not by the proxy or package order", () => {
    const key = bootstrapKey(spec, "mmdebstrap 1.3.5");
    expect(bootstrapKey({ ...spec, aptProxy: "http://proxy:3142" }, "mmdebstrap 1.3.5")).toBe(key);
    expect(bootstrapKey({ ...spec, packages: [...spec.packages].reverse() }, "mmdebstrap 1.3.5")).toBe(key);
    for (const other of [
      { ...spec, suite: "trixie" },
      { ...spec, minimize: false },
      { ...spec, packages: [...spec.packages, "less"] },
      { ...spec, sourceDateEpoch: 1 },
      { ...spec, mirrors: { ...spec.mirrors, main: "http://ftp.de.debian.org/debian" } },
    ]) {
      expect(bootstrapKey(other, "mmdebstrap 1.3.5")).not.toBe(key);
    }
    expect(bootstrapKey(spec, "mmdebstrap 1.4")).not.toBe(key);
  });

  it("pairs the toolstack with the hypervisor's exact version", () => {
    expect(toolstackPackage("xen-hypervisor-4.17-amd64", "4.17.7+13-g2445b30a44-0+deb12u1")).toBe("xen-utils-4.17=4.17.7+13-g2445b30a44-0+deb12u1");
    expect(() => toolstackPackage("my-xen", "1")).toThrow(/cannot tell the Xen toolstack for hypervisor package my-xen/);
  });
});

describe("the host's mirrors", () => {
  it("come from apt's index targets, whatever the sources format", () => {
    const lines = [
      "http://deb.debian.org/debian-security/ bookworm-security main",
      "http://ftp.de.debian.org/debian/ bookworm",
      "http://ftp.de.debian.org/debian/ bookworm-updates",
      "cdrom://[Debian GNU/Linux 12] bookworm",
      "",
    ].join("\n");
    expect(mirrorsFromIndexTargets(lines)).toEqual({ main: "http://ftp.de.debian.org/debian", security: "http://deb.debian.org/debian-security" });
    expect(mirrorsFromIndexTargets("")).toEqual({});
  });
});

describe("a failed bootstrap", () => {
  const explain = (out: string) => explainBootstrapFailure(out, spec).message;

  it("names an unknown package", () => {
    expect(explain("I: running apt-get update...\nE: Unable to locate package no-such-pkg\nE: apt-get failed")).toBe(
      "package no-such-pkg is not in http://deb.debian.org/debian bookworm (or its -updates/-security suites)",
    );
    expect(explain("E: Package 'foo' has no installation candidate")).toMatch(/^package foo is not in/);
  });

  it("names a toolstack version the mirror lacks", () => {
    expect(explain("E: Version '4.17.1-1' for 'xen-utils-4.17' was not found")).toMatch(/^xen-utils-4.17 4.17.1-1 is not in/);
  });

  it("names a mirror that rejects the suite", () => {
    expect(explain("E: The repository 'http://deb.debian.org/debian nosuch Release' does not have a Release file.")).toBe("mirror http://deb.debian.org/debian has no suite nosuch");
  });

  it("names an unreachable mirror", () => {
    expect(explain("Err:1 http://mirror.invalid/debian bookworm InRelease\n  Could not resolve 'mirror.invalid'\nE: apt-get update failed")).toMatch(/^the mirror is unreachable: .*mirror\.invalid/);
  });

  it("sends a user namespace mmdebstrap could not enter to doctor", () => {
    const r = explainBootstrapFailure("I: chroot architecture amd64 is equal to the host's architecture\nE: unshare syscall failed: Operation not permitted\nE: failed to unshare the user namespace\n", spec);
    expect(r.message).toBe("mmdebstrap could not bootstrap in a user namespace: unshare syscall failed: Operation not permitted");
    expect(r.hint).toMatch(/make\.ts doctor/);
    expect(explain("newuidmap: write to uid_map failed: Operation not permitted\nE: newuidmap 300000 0 300000 65536 failed")).toMatch(/^mmdebstrap could not bootstrap in a user namespace: newuidmap/);
  });

  it("falls back to the last error line", () => {
    expect(explain("I: something\nE: mmdebstrap exploded\n")).toBe("mmdebstrap failed: E: mmdebstrap exploded");
  });
});
