import { run } from "./exec.ts";
import type { Logger } from "./log.ts";

/** The documented demo password, used (with a warning) when none is given. */
export const DEMO_ROOT_PASSWORD = "democd";

/** SHA-512 crypt ($6$) of a password; the plain text goes over stdin, never argv. */
export async function hashPassword(password: string, salt: string, log?: Logger): Promise<string> {
  const { stdout } = await run("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], { input: password + "\n", log });
  const hash = stdout.trim();
  if (!/^\$6\$[^$]+\$[./0-9A-Za-z]{86}$/.test(hash)) throw new Error(`openssl passwd gave an unexpected hash format`);
  return hash;
}

/** A crypt salt (16 chars of [./0-9A-Za-z]) from some bytes. */
export function saltFrom(hex: string): string {
  const alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let out = "";
  for (let i = 0; i < 16; i++) out += alphabet[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % 64];
  return out;
}
