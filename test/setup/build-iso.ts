import fs from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { build, createContext } from "../../src/build.ts";
import { loadConfig } from "../../src/config/load.ts";
import { TEST_BUILD_DIR, TEST_ISO, TEST_PASSWORD } from "../helpers/paths.ts";

/**
 * Build the ISO the integration and end-to-end tests inspect and boot, once per run, with
 * the real tools and Debian's real packages. The package cache is shared with ./make.ts.
 */
export default async function setup(project: TestProject): Promise<void> {
  fs.mkdirSync(TEST_BUILD_DIR, { recursive: true });
  const cache = path.join(TEST_BUILD_DIR, "cache");
  const shared = path.resolve("build/cache");
  if (!fs.existsSync(cache)) {
    fs.mkdirSync(shared, { recursive: true });
    fs.symlinkSync(shared, cache);
  }
  const config = loadConfig({
    cli: { profile: "minimal", version: "9.9-test", rootPassword: TEST_PASSWORD, out: TEST_ISO, buildDir: TEST_BUILD_DIR, timeout: "3", builder: "democd-tests" },
  });
  const ctx = createContext(config, { quiet: !process.env.DEMOCD_TEST_VERBOSE });
  const started = Date.now();
  try {
    await build(ctx);
  } finally {
    ctx.log.close();
  }
  process.stderr.write(`test ISO built in ${((Date.now() - started) / 1000).toFixed(1)}s: ${ctx.log.timingSummary()}\n`);
  project.provide("isoPath", TEST_ISO);
}

declare module "vitest" {
  export interface ProvidedContext {
    isoPath: string;
  }
}
