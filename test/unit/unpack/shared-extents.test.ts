import { describe, expect, it } from "vitest";
import { sharedExtentFamilies } from "../../../src/unpack/shared-extents.ts";

describe("files a medium stores once", () => {
  it("groups paths by data extent from xorriso's report_lba, leaving out empty files and lone files", () => {
    const report = [
      "Report layout: xt , Startlba ,   Blocks , Filesize , ISO image path",
      "File data lba:  0 ,     9766 ,     1860 ,  3808560 , '/bin/perl5.36.0'",
      "File data lba:  0 ,    11626 ,        8 ,    14752 , '/bin/perl5.36-x86_64-linux-gnu'",
      "File data lba:  0 ,     9766 ,     1860 ,  3808560 , '/bin/perl'",
      "File data lba:  0 ,    18969 ,       14 ,    27008 , '/bin/xenstore-read'",
      "File data lba:  0 ,    18969 ,       14 ,    27008 , '/bin/it'\\''s'",
      "File data lba:  0 ,    18969 ,       14 ,    27008 , '/bin/xenstore'",
      "File data lba:  0 ,        0 ,        0 ,        0 , '/etc/empty-a'",
      "File data lba:  0 ,        0 ,        0 ,        0 , '/etc/empty-b'",
    ].join("\n");
    expect(sharedExtentFamilies(report)).toEqual([
      ["/bin/it's", "/bin/xenstore", "/bin/xenstore-read"],
      ["/bin/perl", "/bin/perl5.36.0"],
    ]);
  });
});
