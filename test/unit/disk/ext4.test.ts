import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { debugfsPath, fixupScript, mkfsArgs, treeInodes } from "../../../src/disk/ext4.ts";
import { tempDir } from "../../helpers/temp.ts";

describe("ext4 from a directory", () => {
  it("gives mkfs every id and the partition's offset and size", () => {
    const a = mkfsArgs({ image: "d.raw", offset: 35651584, size: 100 * 1048576, tree: "t", uuid: "U", hashSeed: "H", label: "root", epoch: 1, ownersFromDisk: false });
    expect(a.join(" ")).toBe("-q -F -b 4096 -I 256 -L root -U U -E offset=35651584,hash_seed=H,root_owner=0:0,nodiscard -d t d.raw 102400k");
  });

  it("quotes paths for debugfs and refuses newlines", () => {
    expect(debugfsPath("etc/a b\"c")).toBe('"/etc/a b""c"');
    expect(debugfsPath("")).toBe('"/"');
    expect(() => debugfsPath("a\nb")).toThrow(/newline/);
  });

  it("sets owners (0:0 unless recorded, for an unprivileged build) and every date to the epoch (written @epoch)", () => {
    const dir = tempDir("ext4");
    fs.mkdirSync(path.join(dir, "etc"));
    fs.writeFileSync(path.join(dir, "etc", "motd"), "hi");
    const inodes = treeInodes(dir, 1000, false, { owners: { "etc/motd": { uid: 7, gid: 8 } }, devices: [] });
    expect(inodes.map((i) => [i.rel, i.uid, i.gid, i.mtime])).toEqual([["", 0, 0, 1000], ["etc", 0, 0, 1000], ["etc/motd", 7, 8, 1000]]);
    const script = fixupScript(inodes, 1000, { owners: {}, devices: [{ name: "dev/console", type: "char", perm: 0o600, uid: 0, gid: 5, mtime: 5, rdevMajor: 5, rdevMinor: 1 }] });
    expect(script).toContain('sif "/etc/motd" uid 7\nsif "/etc/motd" gid 8\nsif "/etc/motd" atime @1000\n');
    expect(script).toContain('sif "/lost+found" crtime @1000');
    expect(script).toContain('cd "/dev"\nmknod "console" c 5 1\ncd "/"\nsif "/dev/console" mode 020600\nsif "/dev/console" uid 0\nsif "/dev/console" gid 5');
    expect(script).toContain('sif "/dev/console" mtime @1000');
  });
});
