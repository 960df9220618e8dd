import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkMembers, mergedXlConfig, readDiskConfig } from "../../../src/xenguest/check.ts";
import { packMembers, readTarMembers, membersFromTar, setText, textOf } from "../../../src/xenguest/image.ts";
import { applyOptions, newImageMembers, type XenguestOptions } from "../../../src/xenguest/ops.ts";
import { tempDir } from "../../helpers/temp.ts";

function inputs() {
  const dir = tempDir("xg-unit");
  const f = (name: string, data: string) => {
    fs.writeFileSync(path.join(dir, name), data);
    return path.join(dir, name);
  };
  return { dir, kernel: f("vmlinuz", "KERNEL"), initrd: f("initrd", "RAMDISK"), site: f("site.tar.gz", "TAR"), hook: f("net.sh", "#!/bin/sh\n"), f };
}

function apply(o: XenguestOptions) {
  return applyOptions(newImageMembers(), o);
}

describe("xenguest options", () => {
  it("write what the original writes: files/kernel, kernel = in guest.d/kernel.cfg, extra appended, sizes in M", () => {
    const i = inputs();
    const r = apply({ xenKernel: i.kernel, xenRamdisk: i.initrd, xenMemory: "192", xenExtra: ["console=hvc0 4", "quiet"], xenCleanExtra: true, diskSize: "1G", diskAddFile: [`${i.site}:site.tar.gz`], diskAddPart: ["1:512M:ext4:site.tar.gz"], initPre: [i.hook] });
    expect(r.problems).toEqual([]);
    const m = r.members;
    expect(textOf(m, "files/kernel")).toBe("KERNEL");
    expect(m.get("files/kernel")!.mode).toBe(0o644);
    expect(textOf(m, "guest.d/kernel.cfg")).toBe('kernel = "files/kernel"\n');
    expect(textOf(m, "guest.d/ramdisk.cfg")).toBe('ramdisk = "files/ramdisk.img"\n');
    expect(textOf(m, "guest.cfg")).toMatch(/^memory = 192$/m);
    expect(textOf(m, "guest.cfg")).toMatch(/^extra = "console=hvc0 4 quiet"$/m);
    expect(textOf(m, "disk.cfg")).toBe('DISK_SIZE="1024M"\nDISK_DEVICE=""\nDISK_PART1="512M:ext4:site.tar.gz"\n');
    expect(m.get("init.pre/net.sh")!.mode).toBe(0o755);
    expect(textOf(m, "params.cfg")).toMatch(/^GUEST_AUTOBOOT="1"$/m);
  });

  it("report every bad value at once, and change nothing", () => {
    const before = newImageMembers();
    const r = applyOptions(before, {
      xenMemory: "lots", xenVcpus: "0", xenKernel: "/nonexistent/k", diskSize: "10", diskAddPart: ["0:1M:ext4:", "2:5X:zfs:", "3:1M"], diskRmPart: ["9"],
      setParam: ["1BAD=x", "GUEST_AUTOBOOT=yes"], xenName: "no spaces allowed", xenAddFile: ["/nonexistent/f:../up"],
    });
    const lines = r.problems.join("\n");
    for (const opt of ["--xen-memory", "--xen-vcpus", "--xen-kernel", "--disk-size", "--disk-add-part=0:", "--disk-add-part=2:5X", "zfs", "--disk-add-part=3:1M", "--disk-rm-part=9", "--set-param=1BAD", "GUEST_AUTOBOOT", "--xen-name", "--xen-add-file"]) {
      expect(lines).toContain(opt);
    }
    expect(r.members).toBe(before);
    expect(textOf(before, "guest.cfg")).not.toContain("memory = lots");
  });

  it("partitions must fit the disk whatever the option order; content must be in disk/", () => {
    const i = inputs();
    // The size comes after the partitions on the command line: still applied first.
    const ok = apply({ diskAddPart: ["2:200M:vfat:", "1:300M:ext4:site.tar.gz"], diskAddFile: [i.site], diskSize: "512M" });
    expect(ok.problems).toEqual([]);
    const tooBig = apply({ diskAddPart: ["1:512M:ext4:"], diskSize: "512M" });
    expect(tooBig.problems.join("\n")).toMatch(/need 513M .* DISK_SIZE is 512M/);
    const gap = apply({ diskAddPart: ["3:100M:ext4:"], diskSize: "104M" });
    expect(gap.problems.join("\n")).toMatch(/need 105M/);
    const missing = apply({ diskAddPart: ["1:100M:ext4:nothere.tar.gz"], diskSize: "1G" });
    expect(missing.problems.join("\n")).toMatch(/nothere.tar.gz is not in the image's disk\//);
    const noDisk = apply({ diskAddPart: ["1:100M:ext4:"] });
    expect(noDisk.problems.join("\n")).toMatch(/DISK_SIZE is 0/);
  });

  it("empty values disable, as the original's --xen-kernel= does", () => {
    const i = inputs();
    const a = apply({ xenKernel: i.kernel, xenName: "web", xenDisk: "/dev/vg/web" });
    expect(textOf(a.members, "guest.cfg")).toMatch(/^name = "web"$/m);
    expect(mergedXlConfig(a.members)).toContain('disk = [ "phy:/dev/vg/web,xvda,w" ]');
    const b = applyOptions(a.members, { xenKernel: "", xenName: "", xenDisk: "" });
    expect(b.problems).toEqual([]);
    expect(b.members.has("files/kernel")).toBe(false);
    expect(textOf(b.members, "guest.d/kernel.cfg")).toBe('# kernel = "files/kernel"\n');
    expect(textOf(b.members, "guest.cfg")).toMatch(/^# name = "web"$/m);
  });

  it("merges guest.cfg then guest.d/* in name order", () => {
    const i = inputs();
    const r = apply({ xenAppend: [i.f("b.cfg", 'on_crash = "destroy"\n'), i.f("a.cfg", "memory = 64\n")], xenKernel: i.kernel });
    expect(r.problems).toEqual([]);
    const merged = mergedXlConfig(r.members);
    const order = ["memory = 256", "memory = 64", 'on_crash = "destroy"', 'kernel = "files/kernel"'].map((s) => merged.indexOf(s));
    expect(order).toEqual([...order].sort((x, y) => x - y));
    // a.cfg, b.cfg, kernel.cfg: a later part wins, so --xen-memory edits guest.d/a.cfg.
    const upd = applyOptions(r.members, { xenMemory: "128" });
    expect(textOf(upd.members, "guest.d/a.cfg")).toBe("memory = 128\n");
  });

  it("check names every problem of a broken image", () => {
    const m = newImageMembers();
    m.delete("params.cfg");
    setText(m, "guest.cfg", 'kernel = "files/missing"\nmemory = "lots"\nbroken = \n');
    setText(m, "disk.cfg", 'DISK_SIZE="100M"\nDISK_PART5="1M::"\nDISK_PART1="200M:btrfs:x.zip"\n');
    m.set("init.d/hook", { type: "file", mode: 0o644, data: Buffer.from("") });
    const p = checkMembers(m).join("\n");
    for (const s of ["params.cfg: missing", "guest.cfg:3", "DISK_PART5", "btrfs", "x.zip", "need 201M", "init.d/hook: not executable"]) expect(p).toContain(s);
    expect(readDiskConfig('DISK_SIZE="4"\nDISK_PART1="1:ext4:"\n').problems).toEqual([]);
  });

  it("packs reproducibly: sorted ./ names, 0:0, one mtime, modes kept", () => {
    const i = inputs();
    const r = apply({ initPost: [i.hook], xenKernel: i.kernel });
    const a = packMembers(r.members, 0);
    expect(packMembers(new Map([...r.members].reverse()), 0).equals(a)).toBe(true);
    const back = readTarMembers(a, "t");
    expect(back.map((x) => x.name)).toEqual(["./", "./disk.cfg", "./files/", "./files/kernel", "./guest.cfg", "./guest.d/", "./guest.d/kernel.cfg", "./init.post/", "./init.post/net.sh", "./params.cfg"]);
    expect(back.find((x) => x.name === "./init.post/net.sh")!.mode).toBe(0o755);
    expect(membersFromTar(back).refused).toEqual([]);
  });
});
