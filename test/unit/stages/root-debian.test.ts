import { describe, expect, it } from "vitest";
import { installedPackages, setShadowPassword } from "../../../src/stages/root-debian.ts";

describe("the debian root", () => {
  it("gets root's hash and change date in /etc/shadow, other lines untouched", () => {
    const shadow = "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n";
    expect(setShadowPassword(shadow, "root", "$6$salt$hash", 20000)).toBe("root:$6$salt$hash:20000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
    expect(() => setShadowPassword("daemon:*:1:0:99999:7:::\n", "root", "x", 1)).toThrow(/no root entry/);
  });

  it("records the installed packages from dpkg's status", () => {
    const status = [
      "Package: kmod\nStatus: install ok installed\nVersion: 30+20221128-1",
      "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0",
      "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2",
    ].join("\n\n");
    expect(installedPackages(status)).toEqual(["bash=5.2.15-2+b2", "kmod=30+20221128-1"]);
  });
});
