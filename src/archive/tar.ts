import { run } from "../exec.ts";
import type { Logger } from "../log.ts";

export interface TarOptions {
  /** Clamp mtimes to this (SOURCE_DATE_EPOCH). */
  mtime: number;
  /** Record every member as 0:0 (for trees whose on-disk owners mean nothing: non-root builds). */
  forceRootOwner: boolean;
  log?: Logger;
}

/** The GNU tar arguments for a reproducible gzip'd archive of `dir`'s contents. */
export function tarArgs(dir: string, out: string, o: Pick<TarOptions, "mtime" | "forceRootOwner">): string[] {
  return [
    "--create",
    "--file", out,
    "--use-compress-program", "gzip -n -6",
    "--directory", dir,
    "--sort=name",
    "--format=posix",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    `--mtime=@${o.mtime}`,
    "--clamp-mtime",
    "--numeric-owner",
    ...(o.forceRootOwner ? ["--owner=0", "--group=0"] : []),
    "--xattrs-exclude=*",
    ".",
  ];
}

export async function packTree(dir: string, out: string, o: TarOptions): Promise<void> {
  await run("tar", tarArgs(dir, out, o), { log: o.log, env: { LC_ALL: "C" } });
}

/** Member listing `mode owner size path` lines, for tests and `unpack-iso` checks. */
export async function listTar(file: string, log?: Logger): Promise<string[]> {
  const { stdout } = await run("tar", ["--list", "--verbose", "--numeric-owner", "--file", file], { log, env: { LC_ALL: "C" } });
  return stdout.split("\n").filter(Boolean);
}
