import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load.ts";
import { convertArgs, FORMAT_NAMES, OUTPUT_FORMATS, outputPath } from "../../../src/outputs/formats.ts";

describe("the writers table", () => {
  it("holds the live ISO and the disk formats, each with its own file suffix", () => {
    expect(FORMAT_NAMES).toEqual(["iso", "raw", "qcow2", "vhd", "vhd-fixed", "vmdk", "ova"]);
    const suffixes = Object.values(OUTPUT_FORMATS).map((f) => f.suffix);
    expect(new Set(suffixes).size).toBe(suffixes.length);
    expect(FORMAT_NAMES.filter((f) => OUTPUT_FORMATS[f].disk)).toEqual(["raw", "qcow2", "vhd", "vhd-fixed", "vmdk", "ova"]);
    expect(OUTPUT_FORMATS.ova.packs).toBe("vmdk");
  });

  it("names each output from one base, with or without a known suffix", () => {
    expect(outputPath("build/democd-2.0", "qcow2")).toBe("build/democd-2.0.qcow2");
    expect(outputPath("build/democd-2.0.iso", "vhd")).toBe("build/democd-2.0.vhd");
    expect(outputPath("build/x-fixed.vhd", "iso")).toBe("build/x.iso");
    expect(outputPath("build/x.vhd", "vhd-fixed")).toBe("build/x-fixed.vhd");
    expect(outputPath("build/v1.0", "raw")).toBe("build/v1.0.raw");
  });

  it("converts with qemu-img as each hypervisor wants it", () => {
    expect(convertArgs("qcow2", "d.raw", "d.qcow2")).toEqual(["convert", "-f", "raw", "-O", "qcow2", "-c", "-o", "compat=1.1", "d.raw", "d.qcow2"]);
    expect(convertArgs("vhd", "d.raw", "d.vhd").join(" ")).toContain("-O vpc -o subformat=dynamic");
    expect(convertArgs("vhd-fixed", "d.raw", "d.vhd").join(" ")).toContain("-O vpc -o subformat=fixed,force_size=on");
    expect(convertArgs("vmdk", "d.raw", "d.vmdk").join(" ")).toContain("-O vmdk -o subformat=streamOptimized");
    expect(() => convertArgs("raw", "a", "b")).toThrow();
  });

  it("validates --format and --disk-size with the other settings, all errors at once", () => {
    expect(loadConfig({ cli: { format: "iso,qcow2" } }).formats).toEqual(["iso", "qcow2"]);
    expect(loadConfig({}).formats).toEqual(["iso"]);
    expect(() => loadConfig({ cli: { format: "iso,floppy,qcow2,qcow2", diskSize: "big" } })).toThrow(
      /formats\.1: unknown format "floppy" \(known: iso, raw, qcow2, vhd, vhd-fixed, vmdk, ova\)[\s\S]*formats: names a format twice[\s\S]*disk\.size: must be like "4G"/,
    );
    expect(() => loadConfig({ cli: { format: "" } })).toThrow(/formats: name at least one format/);
  });
});

describe("the disk's size", () => {
  const MiB = 1024 * 1024;
  it("defaults to the contents plus free space; a size too small names the size needed", async () => {
    const { diskSize } = await import("../../../src/outputs/disk.ts");
    const auto = diskSize(undefined, 300 * MiB);
    expect(auto % MiB).toBe(0);
    expect(auto).toBeGreaterThan(300 * MiB + 256 * MiB);
    expect(diskSize("4G", 300 * MiB)).toBe(4096 * MiB);
    expect(diskSize("1000.5M", 300 * MiB)).toBe(1001 * MiB);
    expect(() => diskSize("64M", 300 * MiB)).toThrow(/disk\.size: 64M is smaller than the contents: the disk needs at least \d+ MiB/);
  });
});
