import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { expect } from "vitest";
import { REPO } from "./paths.ts";
import { tempDir } from "./temp.ts";

/** Run ./make.ts as a user would, returning exit code and output. */
export async function democd(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return execa(process.execPath, ["--import", "tsx", path.join(REPO, "make.ts"), ...args], { cwd: REPO, reject: false, env, extendEnv: false });
}

/** A scratch build dir sharing the real package cache, so no test downloads twice. */
export function scratch(): { dir: string; buildDir: string } {
  const dir = tempDir("cli");
  const buildDir = path.join(dir, "build");
  fs.mkdirSync(buildDir);
  fs.mkdirSync(path.join(REPO, "build/cache"), { recursive: true });
  fs.symlinkSync(path.join(REPO, "build/cache"), path.join(buildDir, "cache"));
  return { dir, buildDir };
}

/** Exit 1, the expected line, no stack trace. */
export function expectOneCleanError(r: { exitCode?: number; stderr: string }, pattern: RegExp) {
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/internal error/);
}
