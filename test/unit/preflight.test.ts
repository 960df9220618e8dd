import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.ts";
import { publicConfig } from "../../src/config/schema.ts";
import { DemocdError } from "../../src/errors.ts";
import { preflight } from "../../src/preflight.ts";
import { openSource } from "../../src/sources/index.ts";
import { grubCfgFor } from "../../src/stages/render.ts";
import { packMembers, setText } from "../../src/xenguest/image.ts";
import { newImageMembers } from "../../src/xenguest/ops.ts";
import { REPO as REPO_ROOT } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";

/** The preflight's lines for a build with these flags (and `from`), or [] if it passes. */
function problems(cli: Record<string, unknown>, from?: string): string[] {
  const config = loadConfig({ cli, base: from ? JSON.parse(fs.readFileSync(path.join(from, "democd.json"), "utf8")) : undefined });
  try {
    preflight(config, openSource(config, from));
    return [];
  } catch (e) {
    if (!(e instanceof DemocdError)) throw e;
    expect(e.message.split("\n")[0]).toBe("invalid configuration:");
    return e.message.split("\n").slice(1).map((l) => l.trim());
  }
}

const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJsGNJbok5a6YrW51qf2deYpN66kSXEnnvgOsZK1FKg9 me@laptop\n";

/** What unpack-iso leaves for a democd medium, as far as the preflight reads it. */
function unpackedDemocd(): string {
  const dir = tempDir("unpacked");
  const config = loadConfig();
  fs.mkdirSync(path.join(dir, "work/democd"), { recursive: true });
  fs.mkdirSync(path.join(dir, "work/boot/grub"), { recursive: true });
  fs.mkdirSync(path.join(dir, "rootpatch"));
  fs.writeFileSync(path.join(dir, "work/unpack.json"), JSON.stringify({ kind: "democd", source: "x.iso", boot: { options: [] }, refused: [] }));
  fs.writeFileSync(path.join(dir, "work/democd/build.json"), JSON.stringify({ democd: 1, kernel: "6.1.0-99-amd64", xen: "4.17", config: publicConfig(config) }));
  fs.writeFileSync(path.join(dir, "democd.json"), JSON.stringify(publicConfig(config)));
  const versions = { kernel: "6.1.0-99-amd64", xen: "4.17" };
  fs.writeFileSync(path.join(dir, "work/boot/grub/grub.cfg"), grubCfgFor(config, versions, { kind: "live" }, path.join(dir, "work/boot")));
  return dir;
}

describe("preflight: what a build checks before any work", () => {
  it("an output in a missing directory and a rootpatch that is a file", () => {
    const profile = tempDir("profile");
    fs.writeFileSync(path.join(profile, "rootpatch"), "oops");
    const lines = problems({ out: "/nonexistent-dir/x.iso", profileDir: profile });
    expect(lines).toEqual([
      "out: directory /nonexistent-dir does not exist (create it or choose another --out)",
      `rootpatch: ${profile}/rootpatch is not a directory (move it away or make it a directory)`,
    ]);
  });

  it("--medium-compression compresses an ISO's files: refused without an iso to write", () => {
    expect(problems({ format: "qcow2", mediumCompression: "none", out: path.join(tempDir("out"), "x") })).toEqual(["medium.compression: compresses the ISO's files; add iso to --format, or leave it out"]);
    expect(problems({ format: "iso,qcow2", mediumCompression: "none", out: path.join(tempDir("out"), "x") })).toEqual([]);
  });

  it("--ssh-key: public key files, all problems at once; refused by the minimal profile", () => {
    const dir = tempDir("keys");
    const key = path.join(dir, "id.pub");
    fs.writeFileSync(key, PUBLIC_KEY);
    expect(problems({ sshKey: [key] })).toEqual([]);
    fs.writeFileSync(path.join(dir, "id"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    expect(problems({ profile: "minimal", sshKey: [key, path.join(dir, "id")] })).toEqual([
      `ssh.keys[1]: ${dir}/id: is a private key: give its public half (the .pub file); a private key must never go onto a medium`,
      "ssh.keys: the minimal profile has no ssh server (use --profile debian)",
    ]);
  });

  it("--guest: each image checked, naming guests[i], every problem at once; refused by the minimal profile", () => {
    const dir = tempDir("guests");
    const good = path.join(dir, "web.xenguest");
    fs.writeFileSync(good, packMembers(newImageMembers()));
    const badMembers = newImageMembers();
    setText(badMembers, "disk.cfg", 'DISK_SIZE="10M"\nDISK_PART1="20M:ext4:"\n');
    const bad = path.join(dir, "db.xenguest");
    fs.writeFileSync(bad, packMembers(badMembers));
    expect(problems({ guest: [good] })).toEqual([]);
    const lines = problems({ guest: [good, bad, path.join(dir, "none.xenguest"), good] });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^guests\[1\]: .*db\.xenguest: disk\.cfg: the partitions need 21M/);
    expect(lines[1]).toBe(`guests[2]: ${dir}/none.xenguest: cannot read (ENOENT)`);
    expect(lines[2]).toBe(`guests[3]: ${good}: the name web is also guests[0]'s`);
    expect(problems({ guest: [good], profile: "minimal" })).toEqual(["guests: the minimal profile has no Xen toolstack to run them (use --profile debian)"]);
  });

  it("the minimal profile refuses what only a Debian root can take: extra packages, HVM's device model", () => {
    expect(problems({ profile: "minimal", packages: ["htop"], hvm: true })).toEqual([
      "debian.packages: the minimal profile's root is busybox, not Debian's packages (use --profile debian)",
      "debian.hvm: the minimal profile has no Xen toolstack to run HVM guests (use --profile debian)",
    ]);
    expect(problems({ hvm: true, packages: ["htop"] })).toEqual([]);
  });

  describe("an unpacked democd medium (build --from)", () => {
    it("takes where and what to write: --out, --format, --disk-size, --build-dir", () => {
      const dir = unpackedDemocd();
      expect(problems({ out: path.join(dir, "x"), format: "iso,qcow2", diskSize: "2G", buildDir: path.join(dir, "b") }, dir)).toEqual([]);
    });

    it("refuses every setting that would change what the medium holds, naming the file to edit", () => {
      const dir = unpackedDemocd();
      const key = path.join(dir, "id.pub");
      fs.writeFileSync(key, PUBLIC_KEY);
      const lines = problems({ rootPassword: "S3cret", xenArgs: "loglvl=all", tmpfsSize: "1g", sshKey: [key], kernelVersion: "6.1.99-1", guestMemory: 128 }, dir);
      expect(lines).toEqual([
        `packages.kernel.version: ${dir} keeps what its medium was built with; build it from the profile instead (without --from)`,
        `boot.xenArgs: ${dir} keeps what its medium was built with ("bootscrub=false"); edit ${dir}/work/boot/grub/grub.cfg instead`,
        `initrd.tmpfsSize: ${dir} keeps what its medium was built with ("50%"); edit ${dir}/irtree/linuxrc instead`,
        `guest.memory: ${dir} keeps what its medium was built with (256); edit ${dir}/root/etc/democd/demo.cfg.in instead`,
        `rootPassword: ${dir} keeps what its medium was built with; edit ${dir}/root/etc/shadow instead`,
        `ssh.keys: ${dir} keeps what its medium was built with; edit ${dir}/root/root/.ssh/authorized_keys instead`,
      ]);
      expect(lines.join("\n")).not.toContain("S3cret");
    });

    it("refuses disk images when its grub.cfg is not the menu the disks would render", () => {
      const dir = unpackedDemocd();
      expect(problems({ format: "iso,raw" }, dir)).toEqual([]);
      fs.appendFileSync(path.join(dir, "work/boot/grub/grub.cfg"), "# my edit\n");
      expect(problems({ format: "iso" }, dir)).toEqual([]);
      expect(problems({ format: "iso,raw" }, dir)).toEqual([
        `formats: raw: ${dir}/work/boot/grub/grub.cfg is not the menu democd renders from ${dir}/democd.json (edited by hand, or made by another democd version), and disk images would boot that rendered menu, not this one: restore it, or build --format iso only`,
      ]);
    });

    it("another tool's medium: only the iso writer, no rootpatch, no settings", () => {
      const dir = unpackedDemocd();
      fs.writeFileSync(path.join(dir, "work/unpack.json"), JSON.stringify({ kind: "foreign", source: "x.iso", boot: { options: [] }, refused: [] }));
      fs.writeFileSync(path.join(dir, "democd.json"), "{}\n");
      fs.writeFileSync(path.join(dir, "rootpatch/motd"), "hi\n");
      expect(problems({ format: "iso,qcow2", hostname: "other" }, dir)).toEqual([
        `formats: qcow2: ${dir} holds another tool's medium, which only the iso writer can repack (--format iso)`,
        `${dir}/rootpatch: this medium was not made by democd and has no root to patch (edit ${dir}/usr instead, and empty rootpatch/)`,
        `hostname: ${dir} keeps what its medium was built with ("democd"); edit ${dir}/usr instead`,
      ]);
    });
  });
});

describe("preflight: the user's Secure Boot key pair", () => {
  const CERT = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUGn2J6qQFbG0Aqv5E8qC1y3pQpS8wCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKZGVtb2NkIGtleTAeFw0yNjEyMDQwMDAwMDBaFw0zNjEyMDIw
MDAwMDBaMBUxEzARBgNVBAMMCmRlbW9jZCBrZXkwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAT3h0pN5x3o4kX0Q7cU9ZyH0p2XbQk7A1o8Yb0v7nGq0VtQb6Qn8r1E
y0b3m9o3o5j3w0Yd8fXoQd2y1rj2m3Ubo1MwUTAdBgNVHQ4EFgQUy3l0k0bH8m8q
-----END CERTIFICATE-----
`;
  function pair(key: string, cert: string): { key: string; cert: string } {
    const dir = tempDir("sb-pair");
    fs.writeFileSync(path.join(dir, "k.pem"), key);
    fs.writeFileSync(path.join(dir, "c.pem"), cert);
    return { key: path.join(dir, "k.pem"), cert: path.join(dir, "c.pem") };
  }

  it("wants both halves, readable, as PEM, without a passphrase, for an ISO; every problem at once", () => {
    const dir = tempDir("sb");
    expect(problems({ secureBootKey: path.join(dir, "missing.key") })).toEqual([
      "secureBoot.cert: --secure-boot-key needs its certificate (--secure-boot-cert CERT)",
      `secureBoot.key: cannot read ${path.join(dir, "missing.key")}: ENOENT`,
    ]);
    const p = pair("-----BEGIN ENCRYPTED PRIVATE KEY-----\nxx\n-----END ENCRYPTED PRIVATE KEY-----\n", "not a certificate\n");
    expect(problems({ secureBootKey: p.key, secureBootCert: p.cert, format: "qcow2" })).toEqual([
      `secureBoot.key: ${p.key} is protected by a passphrase, which sbsign cannot ask for (openssl pkey -in KEY -out KEY.plain)`,
      `secureBoot.cert: ${p.cert} is not a PEM certificate (openssl x509 -inform DER -in FILE -out FILE.pem converts a DER certificate)`,
      "secureBoot.key: signs Xen on the live medium's ESP; add iso to --format, or leave the key out",
    ]);
    const one = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const mismatched = pair(one, fs.readFileSync(path.join(REPO_ROOT, "test/fixtures/secure-boot/cert.pem"), "utf8"));
    expect(problems({ secureBootKey: mismatched.key, secureBootCert: mismatched.cert })).toEqual([
      `secureBoot.cert: ${mismatched.cert} is not the certificate of ${mismatched.key} (make it from that key: openssl req -new -x509 -key KEY -out CERT -subj /CN=NAME -days 3650)`,
    ]);
    const bad = pair("-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n", CERT);
    expect(problems({ secureBootKey: bad.key, secureBootCert: bad.cert })).toEqual([expect.stringMatching(new RegExp(`^secureBoot.cert: ${bad.cert}: not a certificate OpenSSL can read`))]);
  });
});
