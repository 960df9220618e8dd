import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DPKG_INFO, installedPackages, moveOntoMedium, movedRecord, setShadowPassword } from "../../../src/stages/root-debian.ts";

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

  it("moves dpkg's info files onto the medium, linked from the root, and again on a rebuild", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "democd-onmedium-"));
    const [bootstrap, root, usr] = ["bootstrap", "root", "usr"].map((d) => path.join(dir, d));
    fs.mkdirSync(path.join(bootstrap, DPKG_INFO), { recursive: true });
    fs.writeFileSync(path.join(bootstrap, DPKG_INFO, "bash.list"), "/bin/bash\n");
    fs.writeFileSync(path.join(bootstrap, "var/lib/dpkg/status"), "Package: bash\n");
    fs.utimesSync(path.join(bootstrap, "var/lib/dpkg"), 1_000_000, 1_000_000);
    // The root as the mirror left it on an earlier build: the directory itself.
    fs.mkdirSync(path.join(root, DPKG_INFO), { recursive: true });
    fs.mkdirSync(usr);
    const old = process.umask(0o077);
    try {
      for (let build = 0; build < 2; build++) {
        moveOntoMedium(bootstrap, root, usr, DPKG_INFO);
        const link = path.join(root, DPKG_INFO);
        expect(fs.readlinkSync(link)).toBe("../../../usr/root/var/lib/dpkg/info");
        const moved = path.join(usr, "root", DPKG_INFO, "bash.list");
        expect(fs.statSync(moved).ino).toBe(fs.statSync(path.join(bootstrap, DPKG_INFO, "bash.list")).ino);
        // The parents are 0755 whatever the umask; the link's directory keeps the bootstrap's date.
        for (const p of ["root", "root/var", "root/var/lib", "root/var/lib/dpkg"]) expect(fs.statSync(path.join(usr, p)).mode & 0o7777).toBe(0o755);
        expect(fs.statSync(path.join(root, "var/lib/dpkg")).mtimeMs).toBe(1_000_000_000);
      }
    } finally {
      process.umask(old);
    }
    fs.rmSync(dir, { recursive: true });
  });

  it("renames what the record says of the moved files, and nothing else", () => {
    const record = {
      owners: { "var/lib/dpkg/info/x.list": { uid: 5, gid: 5 }, "var/lib/dpkg/status": { uid: 7, gid: 7 }, "var/lib/dpkg/infox": { uid: 8, gid: 8 } },
      devices: [],
    };
    expect(movedRecord(record, DPKG_INFO)?.owners).toEqual({
      "usr/root/var/lib/dpkg/info/x.list": { uid: 5, gid: 5 }, "var/lib/dpkg/status": { uid: 7, gid: 7 }, "var/lib/dpkg/infox": { uid: 8, gid: 8 },
    });
    expect(movedRecord(undefined, DPKG_INFO)).toBeUndefined();
  });
});
