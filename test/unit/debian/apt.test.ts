import { describe, expect, it } from "vitest";
import { debFileName, parseStanza } from "../../../src/debian/apt.ts";

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
});
