import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Logger } from "./log.ts";

/** Who holds a lock: enough to tell whether it still runs, and to tell the user which build it is. */
interface Holder {
  pid: number;
  /** The process's start time (/proc/PID/stat): a reused pid is another process. */
  start: string;
  host: string;
  what: string;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function readHolder(dir: string): Holder | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "holder.json"), "utf8")) as Holder;
  } catch {
    return undefined;
  }
}

/**
 * Whether the lock's holder is gone: it names a process of this host that no longer runs (a
 * build killed half-way), or names none and was made long enough ago that its maker would
 * have written its name.
 */
function abandoned(dir: string): boolean {
  const h = readHolder(dir);
  if (!h) {
    try {
      return Date.now() - fs.statSync(dir).mtimeMs > 10_000;
    } catch {
      return false; // gone already: try again
    }
  }
  return h.host === os.hostname() && startTime(h.pid) !== h.start;
}

/**
 * Take the lock `dir` (a directory: mkdir is atomic), waiting while another build holds it,
 * with one line saying which. A lock whose holder died is taken over. Returns the release.
 */
export async function acquireLock(dir: string, what: string, log: Logger, pollMs = 500): Promise<() => void> {
  const me: Holder = { pid: process.pid, start: startTime(process.pid) ?? "", host: os.hostname(), what };
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "holder.json"), JSON.stringify(me) + "\n");
      return () => fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (abandoned(dir)) {
      // Renamed first: of two builds finding it abandoned, only one removes it.
      const stale = `${dir}.stale-${process.pid}`;
      try {
        fs.renameSync(dir, stale);
        const h = readHolder(stale);
        fs.rmSync(stale, { recursive: true, force: true });
        log.record(`took over the lock ${dir}${h ? ` of ${h.what} (pid ${h.pid}, no longer running)` : ""}`);
      } catch {
        // another build took it over first
      }
      continue;
    }
    if (!told) {
      const h = readHolder(dir);
      log.info(`waiting for ${h ? `${h.what} (pid ${h.pid}${h.host === os.hostname() ? "" : ` on ${h.host}`})` : "another build"} to finish: it holds ${dir}`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
