import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { execa } from "execa";
import { TEST_SSH_KEY } from "./paths.ts";

/** `count` consecutive TCP ports free on the host's loopback (for --ssh PORT and its guest ports). */
export async function freePorts(count: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
  for (let tries = 0; tries < 50; tries++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await free(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports on 127.0.0.1`);
}

/**
 * ssh from the host to 127.0.0.1:port as root with the test key (or, with `password`, with
 * that password only, typed by SSH_ASKPASS): a fresh host key every boot, so none is kept.
 */
export function sshFromHost(port: number, command: string, o: { password?: string; timeoutS?: number } = {}) {
  const auth = o.password === undefined
    ? ["-i", TEST_SSH_KEY, "-o", "BatchMode=yes", "-o", "PreferredAuthentications=publickey"]
    : ["-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1"];
  const env = o.password === undefined ? {} : { SSH_ASKPASS: askpass(), SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0", DEMOCD_ASKPASS_ANSWER: o.password };
  return execa("ssh", [
    "-p", String(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
    "-o", `ConnectTimeout=${o.timeoutS ?? 60}`, ...auth, "root@127.0.0.1", command,
  ], { reject: false, timeout: (o.timeoutS ?? 60) * 2000, env });
}

/** An SSH_ASKPASS program that answers with $DEMOCD_ASKPASS_ANSWER. */
function askpass(): string {
  const file = path.join(path.dirname(TEST_SSH_KEY), "askpass");
  if (!fs.existsSync(file)) fs.writeFileSync(file, '#!/bin/sh\nprintf "%s\\n" "$DEMOCD_ASKPASS_ANSWER"\n', { mode: 0o755 });
  return file;
}

/** The fingerprint (SHA256:...) of the ed25519 host key that answers on 127.0.0.1:port. */
export async function sshKeyscan(port: number): Promise<string | undefined> {
  const scan = await execa("ssh-keyscan", ["-T", "60", "-t", "ed25519", "-p", String(port), "127.0.0.1"], { reject: false });
  if (!scan.stdout.trim()) return undefined;
  const fp = await execa("ssh-keygen", ["-l", "-f", "-"], { input: scan.stdout, reject: false });
  return /(SHA256:\S+)/.exec(fp.stdout)?.[1];
}
