// The debian profile's ISO (the one users boot) in QEMU under TCG, for `npm run bench`:
// domain 0's login, `xl create` of the demo guest and the guest's login prompt, and the
// smallest machine (of a few sizes) each entry logs in on. Called by bench/run.ts.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { QemuSession } from "../src/boot/qemu.ts";
import { build, createContext } from "../src/build.ts";
import { loadConfig } from "../src/config/load.ts";
import type { EntryId } from "../src/config/schema.ts";
import { WEB_DIR } from "../src/stages/web-console.ts";
import { webClient } from "../test/helpers/web.ts";

/** Issue 12's goals for these keys (an upper bound each). */
export const BOOT_GOALS: Record<string, number> = {
  xl_create_s: 5, guest_login_s: 30, min_memory_mb_bare: 128, min_memory_mb_xen: 384,
  // Issue 21's budgets for the web console: its server's CPU time by domain 0's login (what it can
  // take from the boot), its memory after serving the page, two consoles' worth, and its files.
  web_start_cpu_s: 1, web_rss_mb: 30, web_medium_kb: 2048,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Sizes tried, smallest first; the first that logs in is the figure. */
const BARE_SIZES = [96, 128, 192, 256];
const XEN_SIZES = [320, 384, 448, 512];

/** The default profile's ISO, built like `./make.ts build` (root: the bootstrap needs it). */
async function debianIso(out: string, password: string): Promise<string> {
  const buildDir = path.join(out, "debian");
  fs.mkdirSync(buildDir, { recursive: true });
  const cache = path.join(buildDir, "cache");
  if (!fs.existsSync(cache)) fs.symlinkSync(path.resolve(out, "..", "cache"), cache);
  const iso = path.join(out, "debian.iso");
  const config = loadConfig({ cli: { profile: "debian", version: "bench", builder: "bench", rootPassword: password, buildDir, out: iso, format: "iso" } });
  const ctx = createContext(config, { quiet: true });
  try {
    await build(ctx);
  } finally {
    ctx.log.close();
  }
  return iso;
}

const start = (iso: string, memoryMb: number, transcript: string, webPort?: number) =>
  QemuSession.start({ iso, firmware: "bios", memoryMb, accel: "tcg", webPort }, { transcriptFile: transcript });

/** A free TCP port on the host's loopback. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const WEB_PID = "$(pgrep -f /usr/sbin/democd-web)";

/** What a page does: the API's reads, a console opened and followed for a few seconds. */
async function useWebConsole(url: string): Promise<void> {
  const web = await webClient(url);
  const origin = new URL(url).origin;
  for (const p of ["/", "/app.js", "/xterm.mjs"]) await (await fetch(origin + p, { headers: { Cookie: web.cookie } })).arrayBuffer();
  for (const p of ["/api/host", "/api/domains", "/api/guests", "/api/demo"]) await web.get(p);
  for (const name of ["demo", "Domain-0"]) {
    await web.post(`/api/consoles/${name}`);
    const events = new AbortController();
    const r = await fetch(`${origin}/api/consoles/${name}/stream?from=0`, { headers: { Cookie: web.cookie }, signal: events.signal });
    const reader = r.body!.getReader();
    const until = Date.now() + 3000;
    while (Date.now() < until) await Promise.race([reader.read(), new Promise((res) => setTimeout(res, 500))]);
    events.abort();
  }
}

/**
 * Seconds from QEMU start to domain 0's login prompt; of `xl create /etc/xen/demo.cfg`; and to
 * the guest's login prompt in its console log (watched with tail -f in domain 0, so the host's
 * clock times it), from QEMU start (issue 12's measure: domain 0's boot, the login and typing
 * included) and from the start of `xl create`. On a 1 GB machine: the guest must start there too.
 */
async function guestRun(iso: string, password: string, transcript: string): Promise<{ dom0: number; xl: number; guest: number; guestBoot: number; webCpu: number; webRss: number }> {
  const s = await start(iso, 1024, transcript, await freePort());
  try {
    await s.selectEntry("xen");
    await s.login("root", password, 900);
    const dom0 = s.elapsed();
    // utime + stime of the web console's server so far, in clock ticks (100 a second).
    const ticks = await s.shell(`set -- $(cat /proc/${WEB_PID}/stat); echo $((\${14} + \${15}))`);
    await s.type("xl create /etc/xen/demo.cfg >/tmp/xl.log 2>&1; echo XL''DONE rc=$?; tail -n +1 -F /var/log/xen/console/guest-demo.log\n");
    const t0 = s.elapsed();
    const done = await s.waitFor(/XLDONE rc=(\d+)/, 600);
    const xl = s.elapsed() - t0;
    if (done[1] !== "0") throw new Error(`xl create failed (exit ${done[1]}): see ${transcript}`);
    await s.waitFor(/guest\d+ login:/, 900);
    const guest = s.elapsed();
    s.send("\x03");
    await useWebConsole(await s.waitForWebUrl(120));
    const rss = await s.shell(`ps -o rss= -p ${WEB_PID}`);
    return { dom0, xl, guest, guestBoot: guest - t0, webCpu: Number(ticks) / 100, webRss: Number(rss) / 1024 };
  } finally {
    await s.stop();
  }
}

/** The smallest of `sizes` (MB) on which the entry reaches a login prompt; Infinity if none. */
async function minMemory(iso: string, entry: EntryId, sizes: number[], timeoutS: number, transcripts: string): Promise<number> {
  for (const mb of sizes) {
    const s = await start(iso, mb, path.join(transcripts, `min-${entry}-${mb}.log`));
    try {
      await s.selectEntry(entry);
      // A panic (Linux out of memory, Xen without room for domain 0) is a failure at once.
      const m = await s.waitFor(/login: |end Kernel panic|Panic on CPU/, timeoutS);
      if (m[0] === "login: ") return mb;
    } catch {
      // Out of memory: a panic ends QEMU (-no-reboot), or the boot stalls until the timeout.
    } finally {
      await s.stop();
    }
  }
  return Infinity;
}

/** The web console's files in the build's usr tree (the medium): the server, the page, xterm.js. */
function webMediumBytes(buildDir: string): number {
  const usr = path.join(buildDir, "usr");
  const dirs = [WEB_DIR, "lib/democd/web"].map((d) => path.join(usr, d));
  const files = [path.join(usr, "sbin", "democd-web"), ...dirs.flatMap((d) => fs.readdirSync(d).map((f) => path.join(d, f)))];
  return files.reduce((sum, f) => sum + fs.statSync(f).size, 0);
}

export async function debianBoots(out: string, password: string, runs: number): Promise<Record<string, number>> {
  const iso = await debianIso(out, password);
  const transcripts = path.join(out, "consoles");
  fs.mkdirSync(transcripts, { recursive: true });
  const r: Awaited<ReturnType<typeof guestRun>>[] = [];
  for (let i = 0; i < runs; i++) r.push(await guestRun(iso, password, path.join(transcripts, `guest-${i}.log`)));
  return {
    dom0_login_s: +median(r.map((x) => x.dom0)).toFixed(1),
    xl_create_s: +median(r.map((x) => x.xl)).toFixed(1),
    guest_login_s: +median(r.map((x) => x.guest)).toFixed(1),
    guest_boot_s: +median(r.map((x) => x.guestBoot)).toFixed(1),
    min_memory_mb_bare: await minMemory(iso, "linux", BARE_SIZES, 300, transcripts),
    min_memory_mb_xen: await minMemory(iso, "xen", XEN_SIZES, 600, transcripts),
    debian_iso_mb: +(fs.statSync(iso).size / 1e6).toFixed(1),
    web_start_cpu_s: +median(r.map((x) => x.webCpu)).toFixed(2),
    web_rss_mb: +Math.max(...r.map((x) => x.webRss)).toFixed(1),
    web_medium_kb: +(webMediumBytes(path.join(out, "debian")) / 1024).toFixed(0),
  };
}

// node --import tsx bench/boots.ts [RUNS]: this part alone (bench/run.ts runs it after the rest).
if (import.meta.url === `file://${path.resolve(process.argv[1] ?? "")}`) {
  const out = path.resolve(import.meta.dirname, "..", "build", "bench");
  const result = await debianBoots(out, "bench", Number(process.argv[2] ?? 1));
  for (const [k, v] of Object.entries(result)) {
    const goal = BOOT_GOALS[k] !== undefined ? `  (goal <= ${BOOT_GOALS[k]}: ${v <= BOOT_GOALS[k] ? "met" : "NOT met"})` : "";
    console.log(`${k.padEnd(26)} ${v}${goal}`);
  }
}
