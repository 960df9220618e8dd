import { X509Certificate, createPrivateKey } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { configError } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import { defaults } from "./config/settings.ts";
import type { Source } from "./context.ts";
import { readPublicKeyFiles } from "./ssh/keys.ts";
import { checkImage } from "./xenguest/check.ts";
import { guestName } from "./xenguest/medium.ts";

/**
 * What a build checks before any work, beyond the config's own shape: the files and
 * directories it names, and the settings its source cannot apply. Every problem at once,
 * a `path: message` line each, in the config's error.
 */
export function preflight(config: Config, source: Source): void {
  const errors = [...checkPaths(config), ...checkVm(config), ...checkMedium(config), ...checkGuests(config), ...readPublicKeyFiles(config.ssh.keys, "ssh.keys").errors, ...checkSecureBoot(config), ...source.refuse(config)];
  if (errors.length) throw configError(errors);
}

function checkPaths(config: Config): string[] {
  const errors: string[] = [];
  const outDir = path.dirname(path.resolve(config.out));
  if (!isDirectory(outDir)) errors.push(`out: directory ${outDir} does not exist (create it or choose another --out)`);
  if (fs.existsSync(config.out) && isDirectory(config.out)) errors.push(`out: ${config.out} is a directory, not a file name`);
  if (!isDirectory(config.profileDir)) errors.push(`profileDir: ${config.profileDir} is not a directory`);
  for (const sub of ["rootpatch", "irtree", "templates"]) {
    const p = path.join(config.profileDir, sub);
    if (fs.existsSync(p) && !isDirectory(p)) errors.push(`${sub}: ${p} is not a directory (move it away or make it a directory)`);
  }
  return errors;
}

/** The appliance's machine is described only by an appliance: set without one, it would be ignored. */
function checkVm(config: Config): string[] {
  if (config.formats.includes("ova")) return [];
  const given = defaults().vm as Config["vm"];
  return (Object.keys(config.vm) as (keyof Config["vm"])[])
    .filter((k) => config.vm[k] !== given[k])
    .map((k) => `vm.${k}: describes the machine of an appliance; add ova to --format, or leave it out`);
}

/** Only an ISO is compressed: set without one, it would be ignored. */
function checkMedium(config: Config): string[] {
  if (config.formats.includes("iso") || config.medium.compression === (defaults().medium as Config["medium"]).compression) return [];
  return ["medium.compression: compresses the ISO's files; add iso to --format, or leave it out"];
}

/** Each guest image checked as `democd xenguest check` does; names unique. */
function checkGuests(config: Config): string[] {
  const errors: string[] = [];
  const seen = new Map<string, number>();
  config.guests.forEach((file, i) => {
    const name = guestName(file);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) errors.push(`guests[${i}]: ${file}: the guest name ${JSON.stringify(name)} (the file name without .xenguest) must be letters, digits and _ . -`);
    if (seen.has(name)) errors.push(`guests[${i}]: ${file}: the name ${name} is also guests[${seen.get(name)}]'s`);
    seen.set(name, i);
    for (const p of checkImage(file)) errors.push(`guests[${i}]: ${file}: ${p}`);
  });
  return errors;
}

/** Both halves of the key pair or neither, as PEM files; they sign Xen on the live medium only. */
function checkSecureBoot(config: Config): string[] {
  const { key, cert } = config.secureBoot;
  if (!key && !cert) return [];
  const errors: string[] = [];
  if (!key) errors.push("secureBoot.key: --secure-boot-cert needs its private key (--secure-boot-key KEY)");
  if (!cert) errors.push("secureBoot.cert: --secure-boot-key needs its certificate (--secure-boot-cert CERT)");
  const pem = (file: string | undefined, what: string, re: RegExp, name: string, convert: string) => {
    if (!file) return;
    let text: string;
    try {
      text = fs.readFileSync(file, "latin1");
    } catch (e) {
      errors.push(`secureBoot.${name}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      return;
    }
    if (name === "cert" && re.test(text)) {
      try {
        new X509Certificate(text);
      } catch (e) {
        errors.push(`secureBoot.cert: ${file}: not a certificate OpenSSL can read (${(e as Error).message})`);
      }
    }
    if (!re.test(text)) errors.push(`secureBoot.${name}: ${file} is not a PEM ${what} (${convert})`);
    else if (/ENCRYPTED/.test(text)) errors.push(`secureBoot.${name}: ${file} is protected by a passphrase, which sbsign cannot ask for (openssl pkey -in KEY -out KEY.plain)`);
  };
  pem(key, "private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/, "key", "openssl pkey -inform DER -in FILE -out FILE.pem converts a DER key");
  pem(cert, "certificate", /-----BEGIN CERTIFICATE-----/, "cert", "openssl x509 -inform DER -in FILE -out FILE.pem converts a DER certificate");
  if (key && cert && !errors.length) {
    try {
      if (!new X509Certificate(fs.readFileSync(cert)).checkPrivateKey(createPrivateKey(fs.readFileSync(key)))) errors.push(`secureBoot.cert: ${cert} is not the certificate of ${key} (make it from that key: openssl req -new -x509 -key KEY -out CERT -subj /CN=NAME -days 3650)`);
    } catch (e) {
      errors.push(`secureBoot.key: ${key}: not a private key OpenSSL can read (${(e as Error).message})`);
    }
  }
  if (!config.formats.includes("iso")) errors.push("secureBoot.key: signs Xen on the live medium's ESP; add iso to --format, or leave the key out");
  return errors;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
