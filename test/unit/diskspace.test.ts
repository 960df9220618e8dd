import { describe, expect, it } from "vitest";
import { checkFreeSpace, diskFullError, diskFullLine, isoSizeShortfall } from "../../src/diskspace.ts";
import { DemocdError } from "../../src/errors.ts";

describe("running out of disk", () => {
  it("finds the line where a tool says the disk is full (xorriso's own words, measured)", () => {
    const mastering = [
      "xorriso : UPDATE :       1 files added in 1 seconds",
      "xorriso : FAILURE : Image size 39246s exceeds free space on media 25600s",
      "libisofs: MISHAP : Image write cancelled",
      "xorriso : NOTE : -return_with SORRY 32 triggered by problem severity FAILURE",
    ].join("\n");
    expect(diskFullLine(mastering)).toBe("xorriso : FAILURE : Image size 39246s exceeds free space on media 25600s");
    const extracting = "xorriso : FAILURE : Cannot write all bytes to disk filesystem path '/x/big' : No space left on device\nxorriso : SORRY : Restoring failed:  '/big' = '/x/big'";
    expect(diskFullLine(extracting)).toMatch(/No space left on device$/);
    expect(diskFullLine("E: Unable to locate package foo")).toBeUndefined();
  });

  it("reads the exact image size and free space from xorriso's own check", () => {
    expect(isoSizeShortfall("xorriso : FAILURE : Image size 142520s exceeds free space on media 20480s")).toEqual({ neededBytes: 291880960, freeBytes: 41943040 });
    expect(isoSizeShortfall("xorriso : FAILURE : No space left on device")).toBeUndefined();
  });

  it("refuses a write that cannot fit, naming the directory and both sizes", () => {
    expect(() => checkFreeSpace("/out", 300e6, "the ISO x.iso", 299e6)).toThrow(
      "not enough free space in /out for the ISO x.iso: needs about 300 MB, 299 MB free",
    );
    expect(() => checkFreeSpace("/out", 300e6, "the ISO x.iso", 300e6)).not.toThrow();
  });

  it("turns Node's ENOSPC into one line with the file, and leaves other errors alone", () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", path: "/b/root.tar.gz" });
    const e = diskFullError(enospc);
    expect(e).toBeInstanceOf(DemocdError);
    expect(e?.userLine).toBe("the disk is full: cannot write /b/root.tar.gz (free some space (df -h), or write to a larger disk with --out or --build-dir)");
    expect(diskFullError(Object.assign(new Error("x"), { code: "ENOENT" }))).toBeUndefined();
    expect(diskFullError(new TypeError("bug"))).toBeUndefined();
  });
});
