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
