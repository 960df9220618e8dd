import fs from "node:fs";
import path from "node:path";
import { symlink } from "../fsutil.ts";

/**
 * Commands a demo's users type first that Debian's base system leaves out (ping, less, vi),
 * served by the root's own busybox, already on the medium: iputils-ping, less and vim-tiny
 * would cost packages and libraries for what busybox's applets do well enough here. Every
 * other command of README's list comes from a package of the bootstrap.
 */
export const BUSYBOX_TOOLS = ["ping", "less", "vi"] as const;

/**
 * A link to busybox in the usr tree's bin/ for each tool no package installed. The links are
 * owned by no package: one that brings the real command (apt-get install less) replaces it.
 */
export function linkBusyboxTools(usr: string): string[] {
  if (!fs.existsSync(path.join(usr, "bin", "busybox"))) return [];
  const exists = (p: string) => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  };
  const bin = path.join(usr, "bin");
  // The links and bin/ keep the bootstrap's date, as the rest of the tree does.
  const { atime, mtime } = fs.statSync(bin);
  const linked: string[] = [];
  for (const tool of BUSYBOX_TOOLS) {
    if (["bin", "sbin"].some((d) => exists(path.join(usr, d, tool)))) continue;
    symlink("busybox", path.join(bin, tool));
    fs.lutimesSync(path.join(bin, tool), atime, mtime);
    linked.push(tool);
  }
  fs.utimesSync(bin, atime, mtime);
  return linked;
}
