import fs from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's chromium (scripts/setup.sh installs it); playwright-core drives it, and never downloads one. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Headless chromium as root on a machine without the internet: no sandbox (root), and none of
 * its background connections (they are refused here, many at a time, and slow every page).
 */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium; scripts/setup.sh does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
