import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { execa } from "execa";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { readCpio } from "../../src/archive/cpio.ts";
import { listTar } from "../../src/archive/tar.ts";
import { extractFromIso, listIso, xorrisoReport } from "../helpers/iso.ts";
import { TEST_PASSWORD } from "../helpers/paths.ts";
import { needTools } from "../helpers/tools.ts";
import { fileFromDeb } from "../helpers/deb.ts";

const iso = inject("isoPath");
let files: string[];
let extracted: string;

beforeAll(async () => {
  await needTools("xorriso", "tar", "cpio");
  files = await listIso(iso);
  extracted = await extractFromIso(iso, ["/democd", "/boot/initrd.img", "/boot/grub/grub.cfg", "/boot/grub/efi.img", "/boot/grub/x86_64-efi/multiboot2.mod"]);
});

describe("the mastered ISO", () => {
  it("boots from CD on BIOS and UEFI (El Torito platforms 0x00 and 0xef)", async () => {
    const report = await xorrisoReport(iso, "-report_el_torito");
    expect(report).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y\s+none/);
    expect(report).toMatch(/El Torito boot img :\s+2\s+UEFI\s+y\s+none/);
    expect(report).toMatch(/El Torito img path :\s+1\s+\/boot\/grub\/eltorito\.img/);
    expect(report).toMatch(/El Torito img path :\s+2\s+\/boot\/grub\/efi\.img/);
  });

  it("holds the system's files zisofs-compressed where that saves a sector; what GRUB reads stays plain; extracting gives the plain bytes", async () => {
    const filtered = (await execa("xorriso", ["-indev", iso, "-find", "/", "-has_filter"], { stderr: "ignore" })).stdout.split("\n").filter(Boolean).map((l) => l.replace(/^'(.*)'$/, "$1"));
    expect(filtered.length).toBeGreaterThan(50);
    expect(filtered.filter((f) => /^\/(boot|democd)\//.test(f))).toEqual([]);
    // Already compressed files are not tried (the debian medium's .ko.xz modules); the minimal medium's plain modules are.
    expect(filtered.filter((f) => /\.(xz|gz)$/.test(f))).toEqual([]);
    expect(files).not.toContain("/boot/grub/x86_64-efi/monolithic");
    // What the boot reads stays plain (templates/medium-plain.txt): busybox runs /linuxrc's world.
    expect(filtered).not.toContain("/bin/busybox");
    expect(files).toContain("/bin/busybox");
    const ext4 = filtered.find((f) => /\/ext4\.ko$/.test(f));
    expect(ext4).toBeDefined();
    const stream = (await execa("xorriso", ["-indev", iso, "-show_stream", ext4!], { stderr: "ignore" })).stdout;
    expect(stream).toContain("--zisofs-decode:pz:32k");
    const out = await extractFromIso(iso, [ext4!]);
    const plain = fs.readFileSync(path.join(out, ext4!));
    expect(plain.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  });

  it("boots from a USB stick: hybrid MBR with GRUB's boot code and a GPT EFI partition", async () => {
    const report = await xorrisoReport(iso, "-report_system_area");
    expect(report).toMatch(/System area summary: MBR protective-msdos-label grub2-mbr .*GPT/);
    expect(report).toMatch(/MBR partition\s*:\s+1\s+0x00\s+0xee/); // protective MBR for the GPT
    expect(report).toMatch(/GPT type GUID\s*:\s+\d+\s+28732ac11ff8d211ba4b00a0c93ec93b/); // EFI system partition
    const head = Buffer.alloc(512);
    const fd = fs.openSync(iso, "r");
    fs.readSync(fd, head, 0, 512, 0);
    fs.closeSync(fd);
    expect(head.readUInt16LE(510)).toBe(0xaa55);
  });

  it("starts on UEFI through Debian's signed shim and GRUB, as the archive has them, and nothing else", async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(extracted, "democd/build.json"), "utf8"));
    const pkg = (name: string) => manifest.uefi.find((p: { package: string }) => p.package === name);
    expect(manifest.uefi.map((p: { package: string }) => p.package)).toEqual(["shim-signed", "shim-helpers-amd64-signed", "grub-efi-amd64-signed", "grub-efi-amd64-bin"]);
    const img = path.join(extracted, "boot/grub/efi.img");
    const env = { MTOOLS_SKIP_CHECK: "1" };
    const listing = (await execa("mdir", ["-i", img, "-/", "-b", "::/"], { env })).stdout.split("\n").map((l) => l.replace(/^::/, "")).filter(Boolean).sort();
    expect(listing).toEqual(["/EFI/", "/EFI/BOOT/", "/EFI/BOOT/BOOTX64.EFI", "/EFI/BOOT/grubx64.efi", "/EFI/BOOT/mmx64.efi", "/boot/", "/boot/grub/", "/boot/grub/grub.cfg"]);
    const read = async (f: string) => Buffer.from((await execa("mtype", ["-i", img, `::${f}`], { env, encoding: "buffer", stripFinalNewline: false })).stdout);
    expect((await read("/EFI/BOOT/BOOTX64.EFI")).equals(await fileFromDeb(pkg("shim-signed"), "usr/lib/shim/shimx64.efi.signed"))).toBe(true);
    expect((await read("/EFI/BOOT/grubx64.efi")).equals(await fileFromDeb(pkg("grub-efi-amd64-signed"), "usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed"))).toBe(true);
    expect((await read("/EFI/BOOT/mmx64.efi")).equals(await fileFromDeb(pkg("shim-helpers-amd64-signed"), "usr/lib/shim/mmx64.efi.signed"))).toBe(true);
    expect((await read("/boot/grub/grub.cfg")).toString()).toContain("search --no-floppy --set=root --file /democd/id\n");
    // The modules the signed GRUB loads with Secure Boot off are its own version's.
    const mod = fs.readFileSync(path.join(extracted, "boot/grub/x86_64-efi/multiboot2.mod"));
    expect(mod.equals(await fileFromDeb(pkg("grub-efi-amd64-bin"), "usr/lib/grub/x86_64-efi/multiboot2.mod"))).toBe(true);
    expect(pkg("grub-efi-amd64-signed").version).toBe(`1+${pkg("grub-efi-amd64-bin").version.replace(/-/g, "+")}`);
  });

  it("holds the medium's files: usr tree at the top, /boot and /democd", () => {
    for (const f of ["/boot/xen.gz", "/boot/vmlinuz", "/boot/initrd.img", "/boot/grub/grub.cfg", "/boot/grub/i386-pc/normal.mod", "/boot/grub/x86_64-efi/normal.mod", "/democd/root.tar.gz", "/democd/build.json", "/democd/id", "/bin/busybox", "/sbin/democd-getty"]) {
      expect(files, f).toContain(f);
    }
    // The module tree (plain: busybox modprobe cannot read the debian profile's .ko.xz).
    expect(files.some((l) => /\/lib\/modules\/[^/]+\/kernel\/fs\/isofs\/isofs\.ko$/.test(l))).toBe(true);
    expect(files.filter((l) => l.endsWith(".ko")).length).toBeGreaterThan(2500);
    // ...without what a demo never drives (modules.exclude).
    expect(files.filter((l) => /\/kernel\/(sound|drivers\/media)\//.test(l))).toEqual([]);
  });

  it("records what it was built from in /democd/build.json, and no password", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(extracted, "democd/build.json"), "utf8"));
    expect(manifest.version).toBe("9.9-test");
    expect(manifest.builder).toBe("democd-tests");
    expect(manifest.components.kernel.package).toMatch(/^linux-image-\d.*-amd64$/);
    expect(manifest.components.xen.package).toBe("xen-hypervisor-4.17-amd64");
    expect(manifest.components.busybox.version).toBeTruthy();
    expect(manifest.initrdTools.map((p: { package: string }) => p.package)).toEqual(expect.arrayContaining(["fdisk", "e2fsprogs", "libc6"]));
    expect(manifest.config.boot.default).toBe("xen");
    expect(fs.readFileSync(path.join(extracted, "democd/id"), "utf8").trim()).toBe(manifest.id);
    expect(JSON.stringify(manifest)).not.toContain(TEST_PASSWORD);
  });

  it("has a root.tar.gz with the merged-/usr links, owned by root, and only a hashed password", async () => {
    const tarball = path.join(extracted, "democd/root.tar.gz");
    const lines = await listTar(tarball);
    const byName = new Map(lines.map((l) => [l.split(/\s+/).slice(5).join(" "), l]));
    for (const link of ["./bin -> usr/bin", "./sbin -> usr/sbin", "./lib -> usr/lib"]) expect(byName.has(link), link).toBe(true);
    expect(lines.every((l) => l.split(/\s+/)[1] === "0/0")).toBe(true);
    expect(byName.get("./etc/shadow")).toMatch(/^-rw------- /);
    expect(byName.get("./tmp/")).toMatch(/^drwxrwxrwt /);
    const shadow = (await execa("tar", ["-xOzf", tarball, "./etc/shadow"])).stdout;
    expect(shadow).toMatch(/^root:\$6\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{86}:/);
    const all = zlib.gunzipSync(fs.readFileSync(tarball));
    expect(all.includes(Buffer.from(TEST_PASSWORD))).toBe(false);
  });

  it("never stores the plain-text password anywhere on the medium", async () => {
    const r = await execa("grep", ["-c", "-a", "-F", TEST_PASSWORD, iso], { reject: false });
    expect(r.stdout.trim()).toBe("0");
  });

  it("has an initrd (gzip'd newc cpio) with busybox, /linuxrc as /init, the module closure and a console", async () => {
    const initrd = fs.readFileSync(path.join(extracted, "boot/initrd.img"));
    expect(initrd.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const { entries } = readCpio(zlib.gunzipSync(initrd));
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get("linuxrc")?.perm).toBe(0o755);
    expect(byName.get("init")?.type).toBe("symlink");
    expect(byName.get("init")?.data.toString()).toBe("linuxrc");
    expect(byName.get("bin/busybox")?.type).toBe("file");
    expect(byName.get("bin/sh")?.type).toBe("symlink");
    expect(byName.get("dev/console")).toMatchObject({ type: "char", rdevMajor: 5, rdevMinor: 1 });
    const kos = entries.filter((e) => e.name.endsWith(".ko")).map((e) => path.basename(e.name));
    for (const m of ["isofs.ko", "overlay.ko", "sr_mod.ko", "ata_piix.ko", "ahci.ko", "virtio_blk.ko", "xen-blkfront.ko", "usb-storage.ko", "e1000.ko", "ext4.ko", "crc32c_generic.ko"]) expect(kos).toContain(m);
    // Debian's sfdisk and resize2fs (to grow an installed root), their libraries and the loader at its PT_INTERP path.
    for (const f of ["sbin/sfdisk", "sbin/resize2fs", "lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libfdisk.so.1", "lib/x86_64-linux-gnu/libext2fs.so.2"]) expect(byName.get(f)?.type, f).toBe("file");
    expect(byName.get("lib64/ld-linux-x86-64.so.2")?.data.toString()).toBe("../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    expect(entries.every((e) => e.uid === 0 && e.gid === 0)).toBe(true);
    // GNU cpio agrees with our reader.
    const gnu = await execa("cpio", ["-t", "--quiet"], { input: zlib.gunzipSync(initrd) });
    expect(gnu.stdout.split("\n").sort()).toEqual(entries.map((e) => e.name).sort());
  });

  it("has a grub.cfg with the four entries, and the Xen ones' Secure Boot explanations", () => {
    const cfg = fs.readFileSync(path.join(extracted, "boot/grub/grub.cfg"), "utf8");
    const titles = [...cfg.matchAll(/^menuentry '([^']+)'/gm)].map((m) => m[1].replace(/\d[\w.-]*-amd64/, "K"));
    const xen = ["Xen / Linux K", "Xen / Linux K (command-line IP configuration)", "Xen / Linux K (safe mode)"];
    expect(titles.filter((t) => !t.endsWith(" (needs Secure Boot off)"))).toEqual([...xen, "Linux K (no hypervisor)"]);
    expect(titles.filter((t) => t.endsWith(" (needs Secure Boot off)"))).toEqual(xen.map((t) => `${t} (needs Secure Boot off)`));
  });
});
