import fs from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { QemuSession } from "../../src/boot/qemu.ts";
import { withLoggedInBoot } from "../helpers/boot.ts";
import { democd, scratch } from "../helpers/cli.ts";
import { needTools } from "../helpers/tools.ts";

const iso = inject("isoPath");

describe("booting rebuilt media in QEMU", () => {
  it("an ISO rebuilt from an edited unpack shows the edit after login", async () => {
    await needTools("qemu-system-x86_64", "xorriso");
    const { dir, buildDir } = scratch();
    const target = path.join(dir, "mydemo");
    expect((await democd(["unpack-iso", iso, target])).exitCode).toBe(0);
    fs.appendFileSync(path.join(target, "root/etc/motd"), "Welcome to the edited demo CD\n");
    const out = path.join(dir, "democd-edited.iso");
    const b = await democd(["build", "--from", target, "--out", out, "--build-dir", buildDir]);
    expect(b.exitCode, b.stderr).toBe(0);
    await withLoggedInBoot(out, "linux", "bios", async (s) => {
      expect(s.output).toContain("Welcome to the edited demo CD"); // motd shown at login
      expect(await s.shell("tail -n 1 /etc/motd")).toBe("Welcome to the edited demo CD");
    });
  });

  it("a repacked third-party ISO (Debian's iPXE) still boots on UEFI", async () => {
    await needTools("qemu-system-x86_64", "xorriso");
    const { dir, buildDir } = scratch();
    const target = path.join(dir, "ipxe");
    expect((await democd(["unpack-iso", "/usr/lib/ipxe/ipxe.iso", target])).exitCode).toBe(0);
    const out = path.join(dir, "ipxe-rebuilt.iso");
    expect((await democd(["build", "--from", target, "--out", out, "--build-dir", buildDir])).exitCode).toBe(0);
    const s = await QemuSession.start({ iso: out, firmware: "uefi", memoryMb: 512, accel: "tcg" });
    try {
      await s.waitFor("iPXE initialising devices", 180);
    } finally {
      await s.stop();
    }
  });
});
