import { describe, expect, it } from "vitest";
import { debFileName, kernelImageSpec, parseStanza, parseStanzas } from "../../../src/debian/apt.ts";

describe("apt records", () => {
  it("parses an apt-cache show stanza, folded fields included", () => {
    const f = parseStanza("Package: linux-image-amd64\nVersion: 6.1.192-2\nDepends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)\nDescription: Linux for\n 64-bit PCs\n\nPackage: other\n");
    expect(f.Package).toBe("linux-image-amd64");
    expect(f.Depends).toBe("linux-image-6.1.0-56-amd64 (= 6.1.192-2)");
    expect(f.Description).toBe("Linux for\n64-bit PCs");
  });

  it("names .deb files the way apt-get download does (epoch escaped)", () => {
    expect(debFileName({ name: "busybox-static", version: "1:1.35.0-4+deb12u1+b1", arch: "amd64" })).toBe("busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb");
  });

  it("reads one apt-cache answer for many packages, stanza by stanza", () => {
    const text = "Package: a\nVersion: 1\nSHA256: aa\n\nPackage: b\nVersion: 2:3\nDescription: x\n more\n\n";
    expect(parseStanzas(text).map((f) => [f.Package, f.Version, f.SHA256])).toEqual([["a", "1", "aa"], ["b", "2:3", undefined]]);
  });

  it("follows a kernel metapackage to the image it depends on; an image is its own", () => {
    const meta = { name: "linux-image-amd64", version: "6.1.192-3", arch: "amd64", depends: "linux-image-6.1.0-57-amd64 (= 6.1.192-3)" };
    expect(kernelImageSpec(meta)).toEqual({ name: "linux-image-6.1.0-57-amd64", version: "6.1.192-3" });
    expect(kernelImageSpec({ ...meta, name: "linux-image-6.1.0-57-amd64" })).toBeUndefined();
    expect(() => kernelImageSpec({ ...meta, depends: "kmod" })).toThrow(/does not depend on a linux-image-<abi> package/);
  });
});
