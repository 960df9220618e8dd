import { describe, expect, it } from "vitest";
import { derivedUuid } from "../../../src/disk/ids.ts";
import { installerLayoutEnv } from "../../../src/disk/install-kit.ts";
import { installerMkimageArgs } from "../../../src/disk/grub.ts";
import { MiB, PART_TYPES, ROOT_OFFSET, diskBytesFor, diskLayout, installerSfdiskScript, parseSize, rootBytesNeeded, sfdiskScript } from "../../../src/disk/layout.ts";

describe("disk layout", () => {
  it("puts BIOS boot, ESP and root on 1 MiB boundaries, the root last and up to the backup GPT", () => {
    const size = 1024 * MiB;
    const l = diskLayout(size, "seed");
    expect(l.partitions.map((p) => [p.number, p.name, p.offset / MiB, p.size / MiB])).toEqual([
      [1, "bios", 1, 1],
      [2, "esp", 2, 32],
      [3, "root", 34, 1024 - 34 - 1],
    ]);
    for (const p of l.partitions) expect(p.offset % MiB).toBe(0);
    const root = l.partitions[2];
    // The 33 sectors of the backup GPT fit after the root.
    expect(root.offset + root.size + 33 * 512).toBeLessThanOrEqual(size);
    expect(root.type).toBe(PART_TYPES.root);
  });

  it("derives every id from the seed: same seed same ids, another seed other ids, all distinct", () => {
    const a = diskLayout(512 * MiB, "build-1");
    expect(diskLayout(512 * MiB, "build-1")).toEqual(a);
    const b = diskLayout(512 * MiB, "build-2");
    const ids = (l: typeof a) => [l.diskGuid, l.rootFsUuid, l.rootHashSeed, ...l.partitions.map((p) => p.uuid)];
    expect(new Set(ids(a)).size).toBe(6);
    for (const id of ids(a)) expect(ids(b)).not.toContain(id);
    expect(a.diskGuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedUuid("s", "x")).toBe(derivedUuid("s", "x"));
  });

  it("writes an sfdisk script that gives sfdisk every id and position", () => {
    const l = diskLayout(256 * MiB, "seed");
    const s = sfdiskScript(l);
    expect(s).toContain(`label-id: ${l.diskGuid}`);
    expect(s).toContain(`start=2048, size=2048, type=${PART_TYPES.bios}, uuid=${l.partitions[0].uuid}, name="bios"`);
    expect(s).toContain(`start=${ROOT_OFFSET / 512}, size=${(256 * MiB - ROOT_OFFSET - MiB) / 512}, type=${PART_TYPES.root}`);
  });

  it("gives democd-install the same layout for any disk: the root fills it, sfdisk makes the ids", () => {
    expect(installerSfdiskScript()).toBe([
      "label: gpt",
      "unit: sectors",
      "sector-size: 512",
      "first-lba: 2048",
      "",
      `start=2048, size=2048, type=${PART_TYPES.bios}, name="bios"`,
      `start=4096, size=65536, type=${PART_TYPES.esp}, name="esp"`,
      `start=${ROOT_OFFSET / 512}, type=${PART_TYPES.root}, name="root"`,
      "",
    ].join("\n"));
    expect(installerLayoutEnv(468 * MiB).split("\n").slice(1)).toEqual([
      "BIOS_PART=1", "ESP_PART=2", "ESP_SECTORS=65536", "ROOT_PART=3", "ROOT_LABEL=democd-root", "ESP_LABEL=DEMOCD_ESP",
      `MIN_BYTES=${468 * MiB}`, "UUID_PLACEHOLDER=@ROOT_UUID@", "",
    ]);
    // Its BIOS GRUB finds the root as the boot disk's partition 3, with every module grub.cfg loads built in.
    const bios = installerMkimageArgs("core.img", 3);
    expect(bios.slice(bios.indexOf("--prefix"), bios.indexOf("--prefix") + 2)).toEqual(["--prefix", "(,gpt3)/boot/grub"]);
    expect(bios).toEqual(expect.arrayContaining(["part_gpt", "ext2", "biosdisk", "vbe", "vga", "multiboot2", "normal"]));
  });

  it("refuses a disk without room for a root", () => {
    expect(() => diskLayout(40 * MiB, "s")).toThrow(/no room for the root/);
  });

  it("reads sizes in binary units", () => {
    expect(parseSize("4G")).toBe(4 * 1024 * MiB);
    expect(parseSize("512M")).toBe(512 * MiB);
    expect(parseSize("2048MiB")).toBe(2048 * MiB);
    expect(parseSize("1.5G")).toBe(1536 * MiB);
    expect(parseSize("12")).toBe(12);
    expect(parseSize("4 G")).toBeUndefined();
    expect(parseSize("lots")).toBeUndefined();
  });

  it("sizes the root for the contents plus free space, and the disk around it", () => {
    const r = rootBytesNeeded(100 * MiB);
    expect(r.minimum).toBeGreaterThan(110 * MiB);
    expect(r.withFreeSpace - r.minimum).toBeGreaterThanOrEqual(256 * MiB);
    expect(r.withFreeSpace % (64 * MiB)).toBe(0);
    expect(diskBytesFor(r.minimum)).toBe(ROOT_OFFSET + r.minimum + MiB);
  });
});
