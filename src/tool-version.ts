import fs from "node:fs";
import path from "node:path";
import { requireTool, run, whichTool, type ToolName } from "./exec.ts";
import type { Logger } from "./log.ts";

/**
 * What `ask` says of an executable, kept in `memo` beside the file's identity (path, inode,
 * size, times): asked again only when the file is replaced or changed, e.g. by an upgrade.
 */
export async function rememberedVersion(file: string, memo: string, ask: () => Promise<string>): Promise<string> {
  const real = fs.realpathSync(file);
  const st = fs.statSync(real);
  const id = [real, st.ino, st.size, st.mtimeMs, st.ctimeMs].join(":");
  try {
    const kept = JSON.parse(fs.readFileSync(memo, "utf8")) as { id?: unknown; version?: unknown };
    if (kept.id === id && typeof kept.version === "string") return kept.version;
  } catch {
    /* none yet, or unreadable: ask */
  }
  const version = await ask();
  fs.mkdirSync(path.dirname(memo), { recursive: true });
  const tmp = `${memo}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ id, version }) + "\n");
  fs.renameSync(tmp, memo);
  return version;
}

/**
 * `TOOL --version`, for cache keys, remembered in the build cache: mmdebstrap (Perl, which
 * runs apt-config and dpkg to say it) took 0.3-0.7 s of every warm rebuild for this one line.
 */
export async function toolVersion(tool: ToolName, cacheDir: string, log?: Logger): Promise<string> {
  await requireTool(tool);
  const file = (await whichTool(tool)) as string;
  return rememberedVersion(file, path.join(cacheDir, "tool-versions", `${tool}.json`), async () => (await run(tool, ["--version"], { log })).stdout.trim());
}
