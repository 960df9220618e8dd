import fs from "node:fs";

/** Key types OpenSSH 9 accepts in authorized_keys (DSA is gone from its defaults). */
const KEY_TYPES = [
  "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
];

/** The type name a key blob starts with (an SSH string: 4-byte length, then the name). */
function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString("latin1") : undefined;
}

/**
 * The public keys in one file, as authorized_keys lines, and what is wrong with it. A line
 * is checked the way sshd would read it (type, base64 blob naming the same type); options
 * before the type are not accepted: the keys are root's, on every domain of the demo.
 */
export function parsePublicKeys(text: string): { keys: string[]; problems: string[] } {
  const keys: string[] = [];
  const problems: string[] = [];
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    return { keys, problems: ["is a private key: give its public half (the .pub file); a private key must never go onto a medium"] };
  }
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const [type, b64, ...comment] = line.split(/\s+/);
    const blob = b64 && /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, "base64") : undefined;
    if (!KEY_TYPES.includes(type)) problems.push(`line ${i + 1}: not an OpenSSH public key (it should start with one of ${KEY_TYPES.slice(0, 3).join(", ")} ...)`);
    else if (!blob || blobType(blob) !== type) problems.push(`line ${i + 1}: the ${type} key's data is damaged (copy the line again from the .pub file)`);
    else keys.push([type, b64, ...comment].join(" "));
  });
  if (!keys.length && !problems.length) problems.push("holds no public key");
  return { keys, problems };
}

/** Every key of the files, in order, and one `path: message` line per problem. */
export function readPublicKeyFiles(files: string[], label: string): { keys: string[]; errors: string[] } {
  const keys: string[] = [];
  const errors: string[] = [];
  files.forEach((file, i) => {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      errors.push(`${label}[${i}]: ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e}); give the path of a public key file such as ~/.ssh/id_ed25519.pub`);
      return;
    }
    const r = parsePublicKeys(text);
    keys.push(...r.keys);
    errors.push(...r.problems.map((p) => `${label}[${i}]: ${file}: ${p}`));
  });
  return { keys: [...new Set(keys)], errors };
}
