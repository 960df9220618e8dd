import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, publicConfig } from "../../../src/config/load.ts";
import { sha256 } from "../../../src/context.ts";
import { DemocdError } from "../../../src/errors.ts";
import { packMembers, setText } from "../../../src/xenguest/image.ts";
import { installGuests } from "../../../src/xenguest/medium.ts";
import { newImageMembers } from "../../../src/xenguest/ops.ts";
import { tempDir } from "../../helpers/temp.ts";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof DemocdError) return e.message;
    throw e;
  }
  throw new Error("expected a DemocdError");
}

describe("build --guest (config key guests)", () => {
  it("checks each image at config time, naming guests[i], with every problem at once", () => {
    const dir = tempDir("guests");
    const good = path.join(dir, "web.xenguest");
    fs.writeFileSync(good, packMembers(newImageMembers()));
    const badMembers = newImageMembers();
    setText(badMembers, "disk.cfg", 'DISK_SIZE="10M"\nDISK_PART1="20M:ext4:"\n');
    const bad = path.join(dir, "db.xenguest");
    fs.writeFileSync(bad, packMembers(badMembers));
    const c = loadConfig({ cli: { guest: [good] } });
    expect(c.guests).toEqual([good]);
    expect(publicConfig(c)).not.toHaveProperty("guests");
    const msg = errorOf(() => loadConfig({ cli: { guest: [good, bad, path.join(dir, "none.xenguest"), good] } }));
    expect(msg).toContain(`guests[1]: ${bad}: disk.cfg: the partitions need 21M`);
    expect(msg).toContain(`guests[2]: ${dir}/none.xenguest: cannot read (ENOENT)`);
    expect(msg).toContain("guests[3]: ");
    expect(msg).toContain("the name web is also guests[0]'s");
    expect(errorOf(() => loadConfig({ cli: { guest: [good], profile: "minimal" } }))).toContain("guests: the minimal profile has no Xen toolstack");
  });

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
