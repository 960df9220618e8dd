import path from "node:path";
import type { Config } from "../config/schema.ts";
import type { Graft } from "../iso/xorriso.ts";
import { readPlainList } from "../iso/zisofs-tree.ts";

/** The profile's list of files that stay plain on a zisofs medium (the boot reads them; measured, see the file). */
export const MEDIUM_PLAIN = path.join("templates", "medium-plain.txt");

/** How the medium's system tree is compressed: zisofs but for what the boot reads, or not at all. */
export function mediumZisofs(config: Config): Graft["zisofs"] {
  return config.medium.compression === "zisofs" ? { plain: readPlainList(path.join(config.profileDir, MEDIUM_PLAIN)) } : undefined;
}
