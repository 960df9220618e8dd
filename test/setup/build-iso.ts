import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import type { TestProject } from "vitest/node";
import { build, createContext } from "../../src/build.ts";
import { loadConfig } from "../../src/config/load.ts";
import { checkFreeSpace } from "../../src/diskspace.ts";
import { FORMAT_NAMES } from "../../src/outputs/formats.ts";
import { TEST_BUILD_DIR, TEST_DEBIAN_BUILD_DIR, TEST_DEBIAN_ISO, TEST_ISO, TEST_PASSWORD, TEST_SSH_KEY } from "../helpers/paths.ts";

/**
 * What a run on a fresh clone takes from the disk at its peak (measured: under 3.2 GB, npm ci included, before disk images; they add about 1 GB per build of every format):
 * caught here, a full disk is one clear line instead of tools failing halfway through.
 */
const SUITE_PEAK_BYTES = 6e9;

/**
 * Build the ISO the integration and end-to-end tests inspect and boot, once per run, with
 * the real tools and Debian's real packages. The package cache is shared with ./make.ts.
 */
export default async function setup(project: TestProject): Promise<void> {
  checkFreeSpace(path.resolve("build"), SUITE_PEAK_BYTES, "the test suite (its package cache, test ISOs and the builds of its largest test)");
  // The same trees also written as every disk format: the disk tests inspect and boot these.
  await buildTestIso(TEST_BUILD_DIR, { profile: "minimal", out: TEST_ISO, format: FORMAT_NAMES.join(",") });
  project.provide("isoPath", TEST_ISO);
  project.provide("diskBase", TEST_ISO.replace(/\.iso$/, ""));
  // The default profile, as `./make.ts build` makes it: a Debian dom0 with the Xen toolstack.
  // Its disk image too: booted as a PV guest under this ISO's domain 0.
  await makeTestSshKey();
  await buildTestIso(TEST_DEBIAN_BUILD_DIR, { out: TEST_DEBIAN_ISO, format: "iso,qcow2", rootPassword: undefined, sshKey: [`${TEST_SSH_KEY}.pub`] });
  project.provide("debianIsoPath", TEST_DEBIAN_ISO);
  project.provide("debianDiskPath", TEST_DEBIAN_ISO.replace(/\.iso$/, ".qcow2"));
}

/** A fresh key pair for the run: its public half goes onto the debian ISO, the private one stays in build/test. */
async function makeTestSshKey(): Promise<void> {
  fs.rmSync(path.dirname(TEST_SSH_KEY), { recursive: true, force: true });
  fs.mkdirSync(path.dirname(TEST_SSH_KEY), { recursive: true, mode: 0o700 });
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "democd-tests", "-f", TEST_SSH_KEY]);
}

async function buildTestIso(buildDir: string, cli: Record<string, unknown>): Promise<void> {
  fs.mkdirSync(buildDir, { recursive: true });
  const cache = path.join(buildDir, "cache");
  const shared = path.resolve("build/cache");
  if (!fs.existsSync(cache)) {
    fs.mkdirSync(shared, { recursive: true });
    fs.symlinkSync(shared, cache);
  }
  const config = loadConfig({
    cli: { version: "9.9-test", rootPassword: TEST_PASSWORD, buildDir, timeout: "3", builder: "democd-tests", ...cli },
  });
  const ctx = createContext(config, { quiet: !process.env.DEMOCD_TEST_VERBOSE });
  const started = Date.now();
  try {
    await build(ctx);
  } finally {
    ctx.log.close();
  }
  process.stderr.write(`test ISO ${path.basename(String(cli.out))} (${config.profile}) built in ${((Date.now() - started) / 1000).toFixed(1)}s: ${ctx.log.timingSummary()}\n`);
}

declare module "vitest" {
  export interface ProvidedContext {
    isoPath: string;
    /** The minimal build's disk images: <diskBase>.raw, .qcow2, .vhd, -fixed.vhd, .vmdk. */
    diskBase: string;
    debianIsoPath: string;
    debianDiskPath: string;
  }
}
