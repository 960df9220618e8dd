import fs from "node:fs";
import { DemocdError } from "./errors.ts";

/** SOURCE_DATE_EPOCH from the environment, if set. */
export function envSourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** An ar archive's magic, then its first member's header: name (16 bytes), date (12, decimal seconds), ... (ar(5)). */
const AR_MAGIC = "!<arch>\n";
const HEADER_END = AR_MAGIC.length + 60;

/**
 * When a Debian package was built: the date on its ar members, which dpkg-deb takes from the
 * package's SOURCE_DATE_EPOCH (the changelog's date) and never earlier than any file inside
 * (deb(5), dpkg-deb(1)). It is in the file's first bytes, so it is known as soon as the
 * package is downloaded, before it is unpacked.
 */
export function debBuildDate(deb: string): number {
  const head = Buffer.alloc(HEADER_END);
  const fd = fs.openSync(deb, "r");
  let got: number;
  try {
    got = fs.readSync(fd, head, 0, HEADER_END, 0);
  } finally {
    fs.closeSync(fd);
  }
  const date = head.toString("latin1", AR_MAGIC.length + 16, AR_MAGIC.length + 28).trim();
  if (got < HEADER_END || head.toString("latin1", 0, AR_MAGIC.length) !== AR_MAGIC || !/^\d+$/.test(date)) {
    throw new DemocdError(`${deb} is not a Debian package: it has no ar header with a date`, { hint: "remove it from the cache and build again" });
  }
  return Number(date);
}

/**
 * Without SOURCE_DATE_EPOCH, the newest build date among the packages democd builds from: the
 * kernel, hypervisor and busybox. The same packages give the same epoch, so reproducibility
 * needs no action from the user.
 */
export function packagesEpoch(debs: readonly string[]): number {
  return Math.max(...debs.map(debBuildDate));
}
