import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { MEDIA_MODULES, ROOTFS_MODULES, moduleClosure, moduleName, parseModulesBuiltin, parseModulesDep, renderModulesDep } from "../../../src/kernel/modules.ts";
import { REPO } from "../../helpers/paths.ts";

// Debian bookworm's 6.1.0-56-amd64 modules.dep (made by depmod -b), kept as a fixture.
const fixture = path.join(REPO, "test/fixtures");
const dep = parseModulesDep(zlib.gunzipSync(fs.readFileSync(path.join(fixture, "modules-6.1.0-56-amd64.dep.gz"))).toString());
const builtin = parseModulesBuiltin(fs.readFileSync(path.join(fixture, "modules-6.1.0-56-amd64.builtin"), "utf8"));

describe("module closure", () => {
  it("normalizes names the way the kernel does", () => {
    expect(moduleName("kernel/drivers/block/xen-blkfront.ko")).toBe("xen_blkfront");
    expect(moduleName("usb-storage")).toBe("usb_storage");
    expect(moduleName("foo.ko.xz")).toBe("foo");
  });

  it("finds every medium driver in a real Debian kernel and orders dependencies first", () => {
    const c = moduleClosure(dep, builtin, MEDIA_MODULES);
    expect(c.missing).toEqual([]);
    const names = c.load.map((m) => m.name);
    for (const m of MEDIA_MODULES) expect(names).toContain(m);
    // Each module comes after everything it depends on.
    const index = new Map(names.map((n, i) => [n, i]));
    for (const m of c.load) for (const d of m.deps) expect(index.get(moduleName(d))!).toBeLessThan(index.get(m.name)!);
    expect(names.indexOf("cdrom")).toBeLessThan(names.indexOf("sr_mod"));
    expect(names.indexOf("scsi_mod")).toBeLessThan(names.indexOf("sr_mod"));
    expect(names.indexOf("libata")).toBeLessThan(names.indexOf("ata_piix"));
    expect(names.indexOf("usbcore")).toBeLessThan(names.indexOf("usb_storage"));
    expect(new Set(names).size).toBe(names.length);
    // Small: the closure is a few dozen modules, not the tree.
    expect(c.load.length).toBeGreaterThan(15);
    expect(c.load.length).toBeLessThan(60);
  });

  it("can mount an installed ext4 root: ext4 after jbd2, mbcache, crc16, and a crc32c driver first", () => {
    const c = moduleClosure(dep, builtin, [...MEDIA_MODULES, ...ROOTFS_MODULES]);
    expect(c.missing).toEqual([]);
    const names = c.load.map((m) => m.name);
    for (const m of ["ext4", "jbd2", "mbcache", "crc16", "crc32c_generic", "crc32c_intel"]) expect(names).toContain(m);
    // modules.dep does not say ext4 needs crc32c (a softdep on crypto-crc32c): the list orders it.
    expect(names.indexOf("crc32c_generic")).toBeLessThan(names.indexOf("ext4"));
    expect(names.indexOf("jbd2")).toBeLessThan(names.indexOf("ext4"));
  });

  it("reports modules the kernel lacks and ones it has built in", () => {
    const someBuiltin = [...builtin][0];
    const c = moduleClosure(dep, builtin, ["isofs", "no_such_module", someBuiltin]);
    expect(c.missing).toEqual(["no_such_module"]);
    expect(c.builtin).toEqual([someBuiltin]);
    expect(c.load.map((m) => m.name)).toEqual(["cdrom", "isofs"]);
  });

  it("writes a modules.dep of just the closure, in modules.dep's own format", () => {
    const c = moduleClosure(dep, builtin, ["sr_mod"]);
    const text = renderModulesDep(c.load);
    expect(text).toContain("kernel/drivers/scsi/sr_mod.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/drivers/cdrom/cdrom.ko\n");
    expect(parseModulesDep(text).size).toBe(c.load.length);
  });

  it("survives a dependency cycle", () => {
    const cyclic = parseModulesDep("a.ko: b.ko\nb.ko: a.ko\n");
    expect(moduleClosure(cyclic, new Set(), ["a"]).load.map((m) => m.name).sort()).toEqual(["a", "b"]);
  });
});
