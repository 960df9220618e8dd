import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DemocdError } from "./errors.ts";
import { run } from "./exec.ts";
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
 * which. The lock is flock(2)'s on an open descriptor of the directory that this process keeps
 * (`flock 3` takes it for us, as a shell's `exec 9<dir; flock 9` does): the kernel releases it
 * when the build ends or dies however it dies, so there is no stale lock to judge and take over,
 * and no race between builds that try to. `holder.json` inside only names the holder; one left
 * behind names a build that was killed.
 */
export async function acquireLock(dir: string, what: string, log: Logger, tellAfterMs = 500): Promise<() => void> {
  fs.mkdirSync(dir, { recursive: true });
  // Opened close-on-exec (as node opens every file): no other tool of the build inherits the lock.
  const fd = fs.openSync(dir, "r");
  const tell = setTimeout(() => {
    const h = readHolder(dir);
    log.info(`waiting for ${h ? describe(h) : "another build"} to finish: it holds ${dir}`);
  }, tellAfterMs);
  try {
    await run("flock", ["--exclusive", "3"], { fd3: fd, log });
  } catch (e) {
    fs.closeSync(fd);
    throw new DemocdError(`cannot take the lock ${dir}: ${(e as Error).message}`);
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
    fs.closeSync(fd);
  };
}
