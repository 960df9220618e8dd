import { describe, expect, it } from "vitest";
import { lanesOf } from "../../../src/kernel/compress-modules.ts";

describe("module compression batches", () => {
  it("deal every file once, in batches, round-robin over the lanes", () => {
    const files = Array.from({ length: 7 }, (_, i) => `m${i}.ko`);
    const lanes = lanesOf(files, 2, 2);
    expect(lanes).toEqual([
      [["m0.ko", "m1.ko"], ["m4.ko", "m5.ko"]],
      [["m2.ko", "m3.ko"], ["m6.ko"]],
    ]);
    expect(lanesOf([], 2, 3)).toEqual([[], [], []]);
  });
});

describe("modules left off the medium", () => {
  it("are whole kernel/ subdirectories, matched by path prefix, never by a name that merely starts alike", async () => {
    const { excludedModule } = await import("../../../src/kernel/compress-modules.ts");
    const exclude = ["sound", "drivers/net/wireless/"];
    expect(excludedModule("sound/core/snd.ko.xz", exclude)).toBe(true);
    expect(excludedModule("sound", exclude)).toBe(true);
    expect(excludedModule("drivers/net/wireless/ath/ath9k/ath9k.ko.xz", exclude)).toBe(true);
    expect(excludedModule("soundwire/x.ko.xz", exclude)).toBe(false);
    expect(excludedModule("drivers/net/wireguard/wireguard.ko.xz", exclude)).toBe(false);
    expect(excludedModule("drivers/net/e1000/e1000.ko.xz", [])).toBe(false);
  });
});
