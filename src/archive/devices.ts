import fs from "node:fs";
import path from "node:path";
import { run } from "../exec.ts";
import type { Logger } from "../log.ts";
import type { SafeTree, TreeRecord } from "./safe-tree.ts";

export const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * As root, make the device nodes a SafeTree recorded (Node has no mknod) and drop them
 * from the record; as anyone else they stay recorded for the packer.
 */
export async function createDevices(tree: SafeTree, log?: Logger): Promise<void> {
  if (!isRoot()) return;
  const kept: TreeRecord["devices"] = [];
  for (const d of tree.record.devices) {
    const dest = path.join(tree.root, d.name);
    // The directory's date is already restored: making a node in it must not change it.
    const parent = fs.statSync(path.dirname(dest));
    if (fs.existsSync(dest)) fs.rmSync(dest);
    const args = d.type === "fifo" ? [dest, "p"] : [dest, d.type === "char" ? "c" : "b", String(d.rdevMajor), String(d.rdevMinor)];
    await run("mknod", args, { log });
    fs.chownSync(dest, d.uid, d.gid);
    fs.chmodSync(dest, d.perm & 0o7777);
    fs.utimesSync(dest, d.mtime, d.mtime);
    fs.utimesSync(path.dirname(dest), parent.atime, parent.mtime);
  }
  tree.record.devices = kept;
}
