import fs from "node:fs";
import { run } from "../exec.ts";
import type { Logger } from "../log.ts";
import { treeMembers, type MemberOptions } from "./members.ts";
import { gzipTar, writeTar } from "./tar-writer.ts";

/** Pack a tree as a reproducible root.tar.gz, in-process. */
export function packTree(dir: string, out: string, o: MemberOptions): number {
  const data = gzipTar(writeTar(treeMembers(dir, o)));
  fs.rmSync(out, { force: true });
  fs.writeFileSync(out, data, { flag: "wx" });
  return data.length;
}

/** Member listing `mode owner size path` lines, as GNU tar reads the archive (tests, checks). */
export async function listTar(file: string, log?: Logger): Promise<string[]> {
  const { stdout } = await run("tar", ["--list", "--verbose", "--numeric-owner", "--file", file], { log });
  return stdout.split("\n").filter(Boolean);
}
