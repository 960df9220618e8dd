import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnTool } from "./exec.ts";
import type { Logger } from "./log.ts";

/** Who holds a lock: to tell the user which build a second one waits for. */
interface Holder {
  pid: number;
  host: string;
  what: string;
}

function readHolder(dir: string): Holder | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "holder.json"), "utf8")) as Holder;
  } catch {
    return undefined;
  }
}

const describe = (h: Holder) => `${h.what} (pid ${h.pid}${h.host === os.hostname() ? "" : ` on ${h.host}`})`;

/**
 * Take the lock `dir` (a directory), waiting while another build holds it, with one line saying
 * which. The lock is flock(2)'s, held by a child `flock DIR cat` for as long as this process
 * keeps its stdin open: the kernel releases it when the build ends or dies however it dies, so
 * there is no stale lock to judge and take over, and no race between builds that try to.
 * `holder.json` inside only names the holder; one left behind names a build that was killed.
 */
export async function acquireLock(dir: string, what: string, log: Logger, tellAfterMs = 500): Promise<() => void> {
  fs.mkdirSync(dir, { recursive: true });
  const { child } = await spawnTool("flock", ["--exclusive", dir, "cat"]);
  const exited = new Promise<string>((resolve) => void child.then((r) => resolve(String(r.stderr ?? "").trim() || `flock exited ${r.exitCode}`)));
  // cat echoes the line back once flock holds the lock.
  const held = new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  child.stdin.write("held\n");
  const tell = setTimeout(() => {
    const h = readHolder(dir);
    log.info(`waiting for ${h ? describe(h) : "another build"} to finish: it holds ${dir}`);
  }, tellAfterMs);
  try {
    const failed = await Promise.race([held.then(() => undefined), exited]);
    if (failed !== undefined) throw new Error(`cannot take the lock ${dir}: ${failed}`);
  } finally {
    clearTimeout(tell);
  }
  const before = readHolder(dir);
  if (before) log.record(`took over the lock ${dir} of ${before.what} (pid ${before.pid}, no longer running)`);
  const holderFile = path.join(dir, "holder.json");
  fs.writeFileSync(`${holderFile}.tmp-${process.pid}`, JSON.stringify({ pid: process.pid, host: os.hostname(), what } satisfies Holder) + "\n");
  fs.renameSync(`${holderFile}.tmp-${process.pid}`, holderFile);
  return () => {
    fs.rmSync(holderFile, { force: true });
    child.stdin.end();
  };
}
