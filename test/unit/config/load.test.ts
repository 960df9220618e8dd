import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load.ts";
import { publicConfig } from "../../../src/config/schema.ts";
import { DemocdError } from "../../../src/errors.ts";
import { tempDir } from "../../helpers/temp.ts";

function errorOf(fn: () => unknown): DemocdError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DemocdError) return e;
    throw e;
  }
  throw new Error("expected a DemocdError");
}

const tmp = () => tempDir("config");

describe("config", () => {
  it("resolves every setting from defaults when nothing is given", () => {
    const c = loadConfig();
    expect(c.version).toBe("1.0");
    expect(c.profile).toBe("debian");
    expect(c.debian).toEqual({ suite: "bookworm", packages: [], minimize: true, hvm: false });
    expect(c.vm).toEqual({ cpus: 2, memory: 1024, firmware: "bios" });
    expect(c.guest.memory).toBe(256);
    expect(c.packages.kernel.name).toBe("linux-image-amd64");
    expect(c.boot.default).toBe("xen");
    expect(c.initrd.compression).toBe("gzip");
    expect(c.out).toBe(path.join(c.buildDir, "democd-1.0.iso"));
  });

  it("layers defaults, config file, then flags", () => {
    const dir = tmp();
    const file = path.join(dir, "democd.json");
    fs.writeFileSync(file, JSON.stringify({ version: "2.0", hostname: "fromfile", boot: { timeout: 9 } }));
    const c = loadConfig({ file, cli: { hostname: "fromflag", dom0Mem: "1024M" } });
    expect(c.version).toBe("2.0");
    expect(c.hostname).toBe("fromflag");
    expect(c.boot.timeout).toBe(9);
    expect(c.boot.dom0Mem).toBe("1024M");
    expect(c.boot.serialSpeed).toBe(115200);
  });

  it("reports every error at once, each as path: message", () => {
    const dir = tmp();
    const file = path.join(dir, "democd.json");
    fs.writeFileSync(file, JSON.stringify({ boot: { timeout: -1, default: "windows" }, initrd: { compression: "lzma" }, colour: "blue" }));
    const e = errorOf(() => loadConfig({ file, cli: { serialSpeed: "fast", hostname: "not a host" } }));
    const lines = e.message.split("\n").slice(1).map((l) => l.trim());
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--serial-speed: must be a whole number, got "fast"$/),
        expect.stringMatching(/^hostname: must be a valid hostname$/),
        expect.stringMatching(/^boot\.timeout: /),
        expect.stringMatching(/^boot\.default: /),
        expect.stringMatching(/^initrd\.compression: /),
        expect.stringMatching(/^\(config\): .*colour/),
      ]),
    );
    expect(lines).toHaveLength(6);
    expect(e.message).toContain(file);
  });

  it("names an unreadable or malformed config file", () => {
    const dir = tmp();
    const bad = path.join(dir, "bad.json");
    fs.writeFileSync(bad, "{ not json");
    expect(errorOf(() => loadConfig({ file: bad })).message).toMatch(/bad\.json: not valid JSON/);
    expect(errorOf(() => loadConfig({ file: path.join(dir, "missing.json") })).message).toMatch(/missing\.json: cannot read \(ENOENT\)/);
  });

  it("rejects kernel command lines that could break out of grub.cfg", () => {
    expect(errorOf(() => loadConfig({ cli: { linuxArgs: "quiet'; reboot" } })).message).toMatch(/boot\.linuxArgs: must be a single line/);
  });

  it("never records the root password in the public config", () => {
    const c = loadConfig({ cli: { rootPassword: "hunter2" } });
    expect(c.rootPassword).toBe("hunter2");
    expect(JSON.stringify(publicConfig(c))).not.toContain("hunter2");
  });

  it("--ssh-key: resolved to absolute paths; no host path recorded", () => {
    const dir = tmp();
    const key = path.join(dir, "id.pub");
    const c = loadConfig({ cli: { sshKey: [path.relative(process.cwd(), key)] } });
    expect(c.ssh.keys).toEqual([key]);
    expect(JSON.stringify(publicConfig(c))).not.toContain(dir);
  });

  it("reads nothing but the config file: the files a config names are the preflight's", () => {
    const c = loadConfig({ cli: { out: "/nonexistent-dir/x.iso", sshKey: ["/nonexistent/id.pub"], guest: ["/nonexistent/web.xenguest"] } });
    expect(c.out).toBe("/nonexistent-dir/x.iso");
  });
});
