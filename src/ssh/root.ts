import fs from "node:fs";
import path from "node:path";
import { writeFile } from "../fsutil.ts";
import { readPublicKeyFiles } from "./keys.ts";

/**
 * ssh on the medium without a secret on it: the host keys Debian's openssh-server made when
 * it was installed into the bootstrap are removed (each boot of each domain makes its own, in
 * RAM), and root's authorized_keys holds the user's public keys (--ssh-key).
 */
export function installSshAccess(root: string, keyFiles: string[]): { keys: number; removedHostKeys: string[] } {
  const etcSsh = path.join(root, "etc", "ssh");
  const removedHostKeys = fs.existsSync(etcSsh) ? fs.readdirSync(etcSsh).filter((n) => n.startsWith("ssh_host_")).sort() : [];
  for (const n of removedHostKeys) fs.rmSync(path.join(etcSsh, n));
  const { keys } = readPublicKeyFiles(keyFiles, "ssh.keys");
  const dir = path.join(root, "root", ".ssh");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  writeFile(path.join(dir, "authorized_keys"), keys.map((k) => `${k}\n`).join(""), 0o600);
  return { keys: keys.length, removedHostKeys };
}

/** ssh host private keys anywhere under the trees: a medium must have none. */
export function findHostKeys(...trees: string[]): string[] {
  return trees.flatMap((t) =>
    (fs.readdirSync(t, { recursive: true, withFileTypes: true }) as fs.Dirent[])
      .filter((e) => e.isFile() && /^ssh_host_.*_key$/.test(e.name))
      .map((e) => path.join(e.parentPath, e.name)),
  );
}
