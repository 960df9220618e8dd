import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sha256 } from "../../../src/hash.ts";
import { packMembers } from "../../../src/xenguest/image.ts";
import { installGuests } from "../../../src/xenguest/medium.ts";
import { newImageMembers } from "../../../src/xenguest/ops.ts";
import { tempDir } from "../../helpers/temp.ts";

describe("build --guest (config key guests)", () => {
  it("copies files as they are and packs directory images onto the medium, by name, with their sha256", () => {
    const dir = tempDir("guests");
    const file = path.join(dir, "web.xenguest");
    const bytes = packMembers(newImageMembers());
    fs.writeFileSync(file, bytes);
    const asDir = path.join(dir, "db");
    fs.mkdirSync(asDir);
    for (const [rel, e] of newImageMembers()) fs.writeFileSync(path.join(asDir, rel), e.data!);
    const usr = path.join(dir, "usr");
    const r = installGuests([file, asDir], usr, 0);
    expect(r).toEqual([{ name: "web", sha256: sha256(bytes) }, { name: "db", sha256: sha256(packMembers(newImageMembers(), 0)) }]);
    expect(fs.readFileSync(path.join(usr, "share/guests/web.xenguest")).equals(bytes)).toBe(true);
    expect(fs.readdirSync(path.join(usr, "share/guests")).sort()).toEqual(["db.xenguest", "web.xenguest"]);
  });
});
