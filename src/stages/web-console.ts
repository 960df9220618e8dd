import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { DemocdError } from "../errors.ts";
import { writeFile } from "../fsutil.ts";

/** Where the profile's page lives on the medium (templates/debian/usr/share/democd/web). */
export const WEB_DIR = "share/democd/web";

/**
 * The terminal of the web console's page: xterm.js as its npm package ships it (the ES module,
 * its stylesheet and its licence), beside the page, so the browser side has no build step.
 */
const XTERM_FILES: [from: string, to: string][] = [
  ["lib/xterm.mjs", "xterm.mjs"],
  ["css/xterm.css", "xterm.css"],
  ["LICENSE", "xterm.LICENSE"],
];

export function xtermPackageDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.dirname(require.resolve("@xterm/xterm/package.json"));
  } catch {
    throw new DemocdError("the web console's terminal (npm package @xterm/xterm) is not installed", { hint: "run npm ci in democd's directory" });
  }
}

/**
 * xterm.js into the usr tree, if the profile has the web console's page; nothing otherwise
 * (the minimal profile, a profile without it). Returns the bytes added.
 */
export function installWebConsole(usr: string): number {
  const dir = path.join(usr, WEB_DIR);
  if (!fs.existsSync(path.join(dir, "index.html"))) return 0;
  const pkg = xtermPackageDir();
  let bytes = 0;
  for (const [from, to] of XTERM_FILES) {
    const data = fs.readFileSync(path.join(pkg, from));
    writeFile(path.join(dir, to), data);
    bytes += data.length;
  }
  return bytes;
}
