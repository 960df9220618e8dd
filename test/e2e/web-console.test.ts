import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, inject, it } from "vitest";
import { LOGIN_TIMEOUT_S, withLoggedInBoot } from "../helpers/boot.ts";
import { launchChromium } from "../helpers/browser.ts";
import { TEST_BUILD_DIR, TEST_DEBIAN_PASSWORD } from "../helpers/paths.ts";
import { freePorts } from "../helpers/ssh.ts";
import { needTools } from "../helpers/tools.ts";

const iso = inject("debianIsoPath");
/** Screenshots of the page, beside the console transcripts. */
const SHOTS = path.join(TEST_BUILD_DIR, "consoles");
const GUEST_TIMEOUT_S = LOGIN_TIMEOUT_S * 2;

/** A console pane's screen, one line per terminal row (xterm.js draws a terminal only while it is on screen). */
async function terminalText(page: Page, name: string): Promise<string> {
  await page.locator(`[data-console="${name}"]`).scrollIntoViewIfNeeded();
  return page.$$eval(`[data-console="${name}"] .xterm-rows > div`, (rows) => rows.map((r) => r.textContent ?? "").join("\n"));
}

async function waitForTerminal(page: Page, name: string, re: RegExp, timeoutS: number): Promise<string> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const text = await terminalText(page, name);
    if (re.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`console ${name} in the page: no ${re} after ${timeoutS}s; it shows:\n${text}`);
    await page.waitForTimeout(1000);
  }
}

/** Type into a console pane as a user does: click it, then the keys. */
async function typeInto(page: Page, name: string, text: string): Promise<void> {
  await page.click(`[data-console="${name}"] .xterm`);
  await page.keyboard.type(text, { delay: 40 });
}

async function logIn(page: Page, name: string, timeoutS: number): Promise<void> {
  await waitForTerminal(page, name, /login:\s*$/m, timeoutS);
  await typeInto(page, name, "root\n");
  await waitForTerminal(page, name, /Password:\s*$/m, 60);
  await typeInto(page, name, `${TEST_DEBIAN_PASSWORD}\n`);
  await waitForTerminal(page, name, /#\s*$/m, 120);
}

describe("the web console: domain 0's page in a real browser (Debian's chromium), the debian ISO's Xen entry in QEMU", () => {
  it("boot --web's address opens the page with the token, which becomes an HttpOnly cookie; the page lists Domain-0, dry-runs and starts a demo guest, whose console logs in and runs hostname (Ctrl-C works) beside domain 0's own; NAT switches; the guest shuts down from the page; without the token, or without the page's header, nothing is answered", async () => {
    await needTools("qemu-system-x86_64");
    const port = await freePorts(1);
    fs.mkdirSync(SHOTS, { recursive: true });
    await withLoggedInBoot(iso, "xen", "bios", async (s) => {
      const url = await s.waitForWebUrl(120);
      expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=[A-Za-z0-9_-]{43}$`));
      const token = new URL(url).searchParams.get("token")!;
      // Domain 0's console shows the address it has (QEMU's DHCP gave 10.0.2.15); the motd's file has it too, root's only.
      expect(s.output).toContain(`democd: web console: http://10.0.2.15/?token=${token}`);
      expect(await s.shell("stat -c '%a %U' /run/democd/web/url; cat /run/democd/web/url")).toBe(`600 root\nhttp://10.0.2.15/?token=${token}`);

      // Without the token: 401 and nothing else.
      const base = `http://127.0.0.1:${port}`;
      for (const p of ["/", "/api/domains", "/?token=wrong"]) {
        const r = await fetch(base + p, { redirect: "manual" });
        expect(r.status, p).toBe(401);
        expect(await r.text(), p).not.toContain("Domain-0");
      }

      const browser = await launchChromium();
      try {
        const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        const messages: string[] = [];
        page.on("console", (m) => messages.push(m.text()));
        await page.goto(url);
        // The token left the address bar for a cookie the page's scripts cannot read.
        expect(page.url()).toBe(`${base}/`);
        const [cookie] = await context.cookies();
        expect(cookie).toMatchObject({ name: "democd_token", value: token, httpOnly: true, sameSite: "Strict", path: "/" });
        expect(await page.evaluate(() => document.cookie)).toBe("");

        await page.waitForSelector('tr[data-domain="Domain-0"]', { timeout: 60_000 });
        await expect.poll(() => page.textContent("#host-facts"), { timeout: 60_000 }).toMatch(/Xen4\.17/);
        await page.screenshot({ path: path.join(SHOTS, "web-1-domain0.png"), fullPage: true });

        // A request the page did not make (no X-Democd-Request header) changes nothing, even with the cookie.
        const forged = await page.evaluate(async () => (await fetch("/api/demo", { method: "POST", body: JSON.stringify({ name: "forged", memory: 128 }) })).status);
        expect(forged).toBe(403);

        // The demo guest: the dry run first, then Start.
        await page.fill("#demo-name", "webdemo");
        expect(Number(await page.inputValue("#demo-memory"))).toBeGreaterThan(0);
        expect(await page.isDisabled("#demo-start")).toBe(true);
        await page.click("#demo-dry-run");
        await expect.poll(() => page.textContent("#demo-output"), { timeout: 120_000 }).toContain('"name": "webdemo"');
        expect(await page.textContent("#demo-output")).toMatch(/^# xl create -n \/etc\/xen\/demo\.cfg name=webdemo memory=\d+\n/);
        await page.click("#demo-start");
        await page.waitForSelector('tr[data-domain="webdemo"]', { timeout: 120_000 });
        await page.click('tr[data-domain="webdemo"] .console-open');
        await logIn(page, "webdemo", GUEST_TIMEOUT_S);
        await typeInto(page, "webdemo", "hostname\n");
        await waitForTerminal(page, "webdemo", /^\S+-guest1\s*$/m, 60);
        // A demo guest runs no web console of its own.
        await typeInto(page, "webdemo", "pgrep -f democd-web || echo no-$((1+1))-servers\n");
        await waitForTerminal(page, "webdemo", /^no-2-servers\s*$/m, 60);
        // Ctrl-C reaches the guest's shell: the sleep ends at once.
        await typeInto(page, "webdemo", "sleep 600\n");
        await page.waitForTimeout(2000);
        await page.keyboard.press("Control+C");
        await typeInto(page, "webdemo", "echo ctrl-c-$((6*7))\n");
        await waitForTerminal(page, "webdemo", /^ctrl-c-42\s*$/m, 60);

        // Domain 0's console beside it: a login of its own.
        await page.click('tr[data-domain="Domain-0"] .console-open');
        await logIn(page, "Domain-0", 120);
        await typeInto(page, "Domain-0", "xl list | awk 'NR > 1 { print \"dom:\" $1 }'\n");
        await waitForTerminal(page, "Domain-0", /^dom:webdemo\s*$/m, 60);
        await page.screenshot({ path: path.join(SHOTS, "web-2-consoles.png"), fullPage: true });

        // Closing the guest's pane leaves the guest running.
        // In view first: xterm.js redraws a terminal that comes back on screen, which moves the page under the pointer.
        await page.locator('[data-console="webdemo"]').scrollIntoViewIfNeeded();
        await page.waitForTimeout(1000);
        await page.evaluate(() => {
          for (const t of ["mousedown", "mouseup", "click"]) {
            document.addEventListener(t, (e) => {
              const el = e.target as HTMLElement;
              console.log(`${t} on ${el.tagName}.${el.className} at ${(e as MouseEvent).clientX},${(e as MouseEvent).clientY}`);
            }, true);
          }
        });
        const closed = () => page.waitForSelector('[data-console="webdemo"]', { state: "detached", timeout: 5_000 }).then(() => true, () => false);
        await page.click('[data-console="webdemo"] .console-close');
        if (!(await closed())) {
          // Seen in about one run in three under a loaded TCG host, never by hand: the pointer's events, for the next look.
          const box = await page.locator('[data-console="webdemo"] .console-close').boundingBox();
          process.stderr.write(`  web console: the first click on Close left the pane (button at ${JSON.stringify(box)}); events:\n    ${messages.filter((m) => / on /.test(m)).join("\n    ")}\n`);
          await page.click('[data-console="webdemo"] .console-close');
          if (!(await closed())) throw new Error(`Close left the console pane twice\npage errors: ${JSON.stringify(errors)}\npage console: ${messages.join("\n")}`);
        }
        expect(await s.shell("xl domid webdemo >/dev/null && echo running")).toBe("running");

        // NAT on and off from the page, as xen_nat_enable does it.
        await page.click("#nat-toggle");
        await expect.poll(() => page.textContent("#host-facts"), { timeout: 60_000 }).toMatch(/NATon/);
        expect(await s.shell("nft list table ip democd_nat >/dev/null && echo nat")).toBe("nat");
        await page.click("#nat-toggle");
        await expect.poll(() => page.textContent("#host-facts"), { timeout: 60_000 }).toMatch(/NAToff/);

        // Shut the guest down from the page.
        await page.click('tr[data-domain="webdemo"] .shutdown');
        await page.waitForSelector('tr[data-domain="webdemo"]', { state: "detached", timeout: 180_000 });
        await page.screenshot({ path: path.join(SHOTS, "web-3-shut-down.png"), fullPage: true });
        expect(errors).toEqual([]);
      } catch (e) {
        // What the page showed when it went wrong, beside the console transcript.
        const page = browser.contexts()[0]?.pages()[0];
        await page?.screenshot({ path: path.join(SHOTS, "web-failed.png"), fullPage: true }).catch(() => undefined);
        const panes = await page?.locator("[data-console]").evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.console)).catch(() => []);
        throw new Error(`${(e as Error).message}\npanes: ${JSON.stringify(panes)}`, { cause: e });
      } finally {
        await browser.close();
      }
    }, { memoryMb: 1280, webPort: port, tag: "web", password: TEST_DEBIAN_PASSWORD });
  });
});
