import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parsePublicKeys, readPublicKeyFiles } from "../../../src/ssh/keys.ts";
import { findHostKeys, installSshAccess } from "../../../src/ssh/root.ts";
import { tempDir } from "../../helpers/temp.ts";

/** A public key line as ssh-keygen writes it: the blob is the type name and 32 key bytes, each as an SSH string. */
function publicKey(type: string, comment = "user@example", blobType = type): string {
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from(blobType)), str(Buffer.alloc(32, 7))]);
  return `${type} ${blob.toString("base64")} ${comment}`;
}

describe("ssh public keys (--ssh-key)", () => {
  it("takes OpenSSH public key lines, skipping comments and blank lines", () => {
    const a = publicKey("ssh-ed25519");
    const b = publicKey("ecdsa-sha2-nistp256", "");
    expect(parsePublicKeys(`# mine\n\n${a}\n  ${b}  \n`)).toEqual({ keys: [a, b.trim()], problems: [] });
  });

  it("refuses a private key, a damaged or mislabelled key, other text and an empty file, naming the line", () => {
    expect(parsePublicKeys("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n").problems).toEqual([
      expect.stringMatching(/is a private key: give its public half \(the \.pub file\)/),
    ]);
    expect(parsePublicKeys(`${publicKey("ssh-ed25519", "x", "ssh-rsa")}\n`).problems).toEqual([expect.stringMatching(/^line 1: the ssh-ed25519 key's data is damaged/)]);
    expect(parsePublicKeys("\nssh-ed25519 not!base64 x\n").problems).toEqual([expect.stringMatching(/^line 2: the ssh-ed25519 key's data is damaged/)]);
    expect(parsePublicKeys("hello world\n").problems).toEqual([expect.stringMatching(/^line 1: not an OpenSSH public key/)]);
    expect(parsePublicKeys("# nothing\n").problems).toEqual(["holds no public key"]);
  });

  it("reads every file, reporting each problem as path: message, and each key once", () => {
    const dir = tempDir("keys");
    const good = path.join(dir, "id.pub");
    const bad = path.join(dir, "id");
    fs.writeFileSync(good, publicKey("ssh-ed25519") + "\n");
    fs.writeFileSync(bad, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    const r = readPublicKeyFiles([good, bad, good, path.join(dir, "missing.pub")], "ssh.keys");
    expect(r.keys).toEqual([publicKey("ssh-ed25519")]);
    expect(r.errors).toEqual([
      expect.stringMatching(new RegExp(`^ssh\\.keys\\[1\\]: ${bad}: is a private key`)),
      expect.stringMatching(new RegExp(`^ssh\\.keys\\[3\\]: ${dir}/missing\\.pub: cannot read \\(ENOENT\\)`)),
    ]);
  });

  it("the root gets the keys as root's authorized_keys (0600 in a 0700 .ssh) and loses the host keys the package made", () => {
    const root = tempDir("ssh-root");
    fs.mkdirSync(path.join(root, "etc/ssh"), { recursive: true });
    fs.mkdirSync(path.join(root, "root"));
    for (const n of ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key", "sshd_config"]) fs.writeFileSync(path.join(root, "etc/ssh", n), "x");
    expect(findHostKeys(root)).toHaveLength(2);
    const keyFile = path.join(tempDir("ssh-key"), "id.pub");
    fs.writeFileSync(keyFile, publicKey("ssh-ed25519") + "\n");
    const r = installSshAccess(root, [keyFile]);
    expect(r).toEqual({ keys: 1, removedHostKeys: ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key"] });
    expect(fs.readdirSync(path.join(root, "etc/ssh"))).toEqual(["sshd_config"]);
    expect(findHostKeys(root)).toEqual([]);
    const ak = path.join(root, "root/.ssh/authorized_keys");
    expect(fs.readFileSync(ak, "utf8")).toBe(publicKey("ssh-ed25519") + "\n");
    expect(fs.statSync(ak).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(ak)).mode & 0o777).toBe(0o700);
  });
});
