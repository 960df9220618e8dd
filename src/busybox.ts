import fs from "node:fs";
import path from "node:path";
import { runFetched } from "./exec.ts";
import { symlink } from "./fsutil.ts";
import type { Logger } from "./log.ts";

const applets = new Map<string, Promise<string[]>>();

/** busybox's applets with their canonical paths ("bin/sh", "usr/bin/awk", ...), asked once per binary. */
export function busyboxApplets(binary: string, log?: Logger): Promise<string[]> {
  if (!applets.has(binary)) {
    const list = runFetched(binary, ["--list-full"], log).then((out) =>
      out.split("\n").map((l) => l.trim()).filter((l) => /^[\w./-]+$/.test(l) && !l.includes("..")),
    );
    list.catch(() => applets.delete(binary));
    applets.set(binary, list);
  }
  return applets.get(binary)!;
}

/**
 * Install busybox at `<dest>/bin/busybox` with a relative link per applet. In a usr tree
 * (`usrTree`: the tree is mounted at /usr) "usr/bin/x" and "bin/x" both land in bin/.
 */
export function installBusybox(binary: string, applets: readonly string[], dest: string, usrTree: boolean): void {
  const target = path.join(dest, "bin", "busybox");
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(binary, target);
  fs.chmodSync(target, 0o755);
  for (const applet of applets) {
    const rel = usrTree ? applet.replace(/^usr\//, "") : applet;
    if (rel === "bin/busybox" || rel === "linuxrc") continue;
    const at = path.join(dest, rel);
    if (fs.existsSync(at) && !fs.lstatSync(at).isSymbolicLink()) continue;
    symlink(path.relative(path.dirname(at), target), at);
  }
}
