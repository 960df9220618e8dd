import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../../helpers/paths.ts";
import { tempDir } from "../../helpers/temp.ts";
import { needTools } from "../../helpers/tools.ts";

/**
 * democd-web, domain 0's web console, run with python3 on this host against stub tools
 * (xl, xenstore-ls, ip, nft, xenguest-manager, xen_nat_enable, login) that record how they
 * were called: the routes, the token, the CSRF header and the checks on what a browser sends.
 */
const SERVER = path.join(REPO, "templates/debian/usr/sbin/democd-web");
const STATIC = path.join(REPO, "templates/debian/usr/share/democd/web");

const STUBS: Record<string, string> = {
  xl: `#!/bin/sh
echo "xl $*" >>"\${0%/bin/*}/calls"
case "$1" in
  list) printf 'Name                                        ID   Mem VCPUs\\tState\\tTime(s)\\nDomain-0                                     0   512     2     r-----      12.3\\ndemo                                         1   192     1     -b----       1.0\\n' ;;
  uptime) printf 'Name                                ID Uptime\\nDomain-0                             0  0:05:23\\ndemo                                 1  0:01:02\\n' ;;
  info) printf 'xen_major              : 4\\nxen_minor              : 17\\nxen_extra              : .7\\ntotal_memory           : 1279\\nfree_memory            : 500\\n' ;;
  create) echo "Parsing config from $2" >&2; [ "$2" != -n ] || echo '{ "c_info": { "name": "dry" } }' ;;
  shutdown) echo "Shutting down domain $2" ;;
  destroy) exit 0 ;;
  console)
    echo "console of $2"
    while read -r line; do echo "got:$line"; done ;;
esac
`,
  "xenstore-ls": `#!/bin/sh
printf '/local/domain/0/backend/vif/1/0/ip = "169.254.1.1"\\n/local/domain/0/backend/vif/1/0/bridge = "xenbr0"\\n'
`,
  ip: `#!/bin/sh
printf '1: lo    inet 127.0.0.1/8 scope host lo\\n2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0\\n3: xenbr0    inet 169.254.1.254/16 scope global xenbr0\\n'
`,
  nft: `#!/bin/sh
echo "nft $*" >>"\${0%/bin/*}/calls"
exit 1
`,
  "xenguest-manager": `#!/bin/sh
echo "xenguest-manager $*" >>"\${0%/bin/*}/calls"
case "$1" in
  status) echo "web: stopped" ;;
  *) echo "xenguest-manager: $1 $2 done" ;;
esac
`,
  xen_nat_enable: `#!/bin/sh
echo "xen_nat_enable $*" >>"\${0%/bin/*}/calls"
echo "xen_nat_enable: \${1:-on}"
`,
  login: `#!/bin/sh
printf 'domain0 login: '
read -r user
echo "welcome $user"
`,
};

interface Server {
  base: string;
  token: string;
  calls: () => string[];
  log: () => string;
}

let server: Server;
let proc: ResultPromise;

beforeAll(async () => {
  needTools("python3", "sh");
  const dir = tempDir("web");
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  for (const [name, text] of Object.entries(STUBS)) fs.writeFileSync(path.join(bin, name), text, { mode: 0o755 });
  const guests = path.join(dir, "guests");
  fs.mkdirSync(guests);
  fs.writeFileSync(path.join(guests, "web.xenguest"), "");
  fs.writeFileSync(path.join(guests, "bad name.xenguest"), "");
  fs.writeFileSync(path.join(dir, "xenguest.log"), "2026-12-03 12:00:00 guest web created\n");
  const calls = path.join(dir, "calls");
  const stderr = path.join(dir, "stderr");
  proc = execa("python3", [SERVER, "--listen", "127.0.0.1", "--port", "0", "--static", STATIC, "--url-file", path.join(dir, "run/url")], {
    env: { DEMOCD_WEB_PATH: `${bin}:/usr/bin:/bin`, XENGUEST_IMAGES: guests, XENGUEST_LOG: path.join(dir, "xenguest.log"), DEMOCD_BRIDGE_STATE: path.join(dir, "bridge") },
    stderr: { file: stderr },
    reject: false,
    buffer: false,
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /democd: web console: (\S+)\n/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.on("exit", () => reject(new Error(`democd-web exited: ${out}${fs.existsSync(stderr) ? fs.readFileSync(stderr, "utf8") : ""}`)));
  });
  const url = new URL(line);
  server = {
    base: url.origin,
    token: url.searchParams.get("token")!,
    calls: () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : []),
    log: () => fs.readFileSync(stderr, "utf8"),
  };
  expect(fs.readFileSync(path.join(dir, "run/url"), "utf8")).toBe(`${line}\n`);
  expect(fs.statSync(path.join(dir, "run/url")).mode & 0o777).toBe(0o600);
}, 20_000);

afterAll(() => {
  if (process.env.WEB_DEBUG) console.log(server.log());
  proc?.kill();
});

const cookie = () => ({ Cookie: `democd_token=${server.token}` });
const get = (p: string, headers: Record<string, string> = cookie()) => fetch(server.base + p, { headers, redirect: "manual" });
const post = (p: string, body: unknown, headers: Record<string, string> = { ...cookie(), "X-Democd-Request": "1" }) =>
  fetch(server.base + p, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body), redirect: "manual" });

/** What the stubs were called with during fn. */
async function callsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const before = server.calls().length;
  await fn();
  return server.calls().slice(before);
}

describe("democd-web: who gets in", () => {
  it("the token made at start is long and random: 32 bytes, URL-safe", () => {
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("without the token: 401 and nothing else, for the page and the API, fast", async () => {
    for (const p of ["/", "/app.js", "/api/domains", "/api/host", "/api/consoles/demo/stream"]) {
      const t0 = Date.now();
      const r = await get(p, {});
      expect(r.status, p).toBe(401);
      expect(r.headers.get("set-cookie"), p).toBeNull();
      const body = await r.text();
      expect(body, p).not.toMatch(/<html|Domain-0|import/);
      expect(Date.now() - t0).toBeLessThan(900);
    }
    const r = await post("/api/demo", { name: "x", memory: 128 }, { "X-Democd-Request": "1" });
    expect(r.status).toBe(401);
  });

  it("a wrong token is answered after a second, one guess at a time however many ask", async () => {
    const t0 = Date.now();
    const answers = await Promise.all([get("/?token=wrong", {}), get("/api/domains", { Cookie: "democd_token=guess" }), get(`/?token=${server.token.slice(0, -1)}x`, {})]);
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
  });

  it("the token in the address becomes an HttpOnly, SameSite=Strict cookie, and leaves the address", async () => {
    const r = await get(`/?token=${server.token}`, {});
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/");
    const set = r.headers.getSetCookie();
    expect(set).toHaveLength(1);
    expect(set[0].split("; ")).toEqual([`democd_token=${server.token}`, "HttpOnly", "SameSite=Strict", "Path=/"]);
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
  });

  it("logs changes and refusals, not the page's polling, and never a token", async () => {
    await get(`/?token=${server.token}`, {});
    await get("/api/host");
    await get("/api/domains", {});
    await get("/?token=a-wrong-guess", {});
    expect((await post("/api/nat", { on: "maybe" })).status).toBe(400);
    // execa copies the server's stderr into the file: it lands a moment after the answer.
    await expect.poll(server.log).toMatch(/ \/api\/nat POST 400\n/);
    const log = server.log();
    expect(log).toMatch(/ \/api\/domains GET 401\n/);
    expect(log).toMatch(/ \/ GET 401\n/);
    expect(log).toMatch(/ \/api\/nat POST 400\n/);
    expect(log).not.toMatch(/ GET [23]\d\d\n/);
    expect(log).not.toContain(server.token);
    expect(log).not.toContain("a-wrong-guess");
  });

  it("a change without the page's header, or from another site, is refused and runs nothing (CSRF)", async () => {
    const calls = await callsDuring(async () => {
      const a = await post("/api/demo", { name: "csrf", memory: 128 }, cookie());
      expect(a.status).toBe(403);
      expect((await a.json()).error).toContain("X-Democd-Request");
      const b = await post("/api/domains/demo/destroy", {}, { ...cookie(), "X-Democd-Request": "1", Origin: "http://evil.example" });
      expect(b.status).toBe(403);
      const c = await fetch(`${server.base}/api/demo`, { headers: cookie() });
      expect(c.status).toBe(200);
    });
    expect(calls.filter((c) => !c.startsWith("xl list") && !c.startsWith("xl uptime"))).toEqual([]);
  });
});

describe("democd-web: a flood of connections", () => {
  it("holds at most 64 at once, closes the rest unanswered, and serves again once they go", async () => {
    const { port } = new URL(server.base);
    const open = (): Promise<{ socket: net.Socket; closedAtOnce: Promise<boolean> }> =>
      new Promise((resolve) => {
        const socket = net.connect(Number(port), "127.0.0.1", () => {
          const closedAtOnce = new Promise<boolean>((r) => {
            socket.once("close", () => r(true));
            setTimeout(() => r(false), 1500);
          });
          resolve({ socket, closedAtOnce });
        });
      });
    // Silent connections: each holds a thread waiting for its request line.
    const held = [];
    for (let i = 0; i < 70; i++) held.push(await open());
    const closed = await Promise.all(held.map((h) => h.closedAtOnce));
    expect(closed.filter(Boolean).length).toBe(6);
    expect(closed.slice(0, 64).every((c) => !c)).toBe(true);
    for (const h of held) h.socket.destroy();
    await expect.poll(async () => (await get("/api/demo")).status).toBe(200);
  });
});

describe("democd-web: the domains", () => {
  it("lists them from xl list, xl uptime and the vif backends' addresses", async () => {
    const r = await (await get("/api/domains")).json();
    expect(r).toEqual({
      ok: true,
      domains: [
        { name: "Domain-0", id: 0, memory: 512, vcpus: 2, state: "running", cpuSeconds: "12.3", uptime: "0:05:23", address: "10.0.2.15" },
        { name: "demo", id: 1, memory: 192, vcpus: 1, state: "idle", cpuSeconds: "1.0", uptime: "0:01:02", address: "169.254.1.1" },
      ],
    });
  });

  it("starts a demo guest as `xl create` with name= and memory=, the dry run with -n, the tool's output returned", async () => {
    let dry: { ok: boolean; output: string; command: string } | undefined;
    const calls = await callsDuring(async () => {
      dry = await (await post("/api/demo", { name: "web1", memory: 256, dryRun: true })).json();
      const real = await (await post("/api/demo", { name: "web1", memory: 256 })).json();
      expect(real.ok).toBe(true);
    });
    expect(calls).toEqual(["xl create -n /etc/xen/demo.cfg name=web1 memory=256", "xl create /etc/xen/demo.cfg name=web1 memory=256"]);
    expect(dry!.ok).toBe(true);
    expect(dry!.command).toBe("xl create -n /etc/xen/demo.cfg name=web1 memory=256");
    expect(dry!.output).toContain('"name": "dry"');
    expect(dry!.output).toContain("Parsing config from -n");
  });

  it("refuses names and sizes xl would not take, and runs nothing for them", async () => {
    const bad: [unknown, unknown][] = [
      ["../etc", 128], ["a b", 128], ["$(reboot)", 128], ["-n", 128], ["", 128], ["x".repeat(65), 128], [7, 128], [null, 128], ["Domain-0", 128],
      ["ok", 0], ["ok", 31], ["ok", "256"], ["ok", 1.5], ["ok", true], ["ok", 2 ** 21], ["ok", null],
    ];
    const calls = await callsDuring(async () => {
      for (const [name, memory] of bad) {
        const r = await post("/api/demo", { name, memory, dryRun: true });
        expect(r.status, JSON.stringify([name, memory])).toBe(400);
        expect((await r.json()).error).toMatch(/^(name|memory|Domain-0)/);
      }
    });
    expect(calls).toEqual([]);
  });

  it("shuts down and destroys a guest, never domain 0", async () => {
    const calls = await callsDuring(async () => {
      expect((await (await post("/api/domains/demo/shutdown", {})).json()).output).toBe("Shutting down domain demo\n");
      expect((await post("/api/domains/demo/destroy", {})).status).toBe(200);
      const r = await post("/api/domains/Domain-0/destroy", {});
      expect(r.status).toBe(400);
      expect((await r.json()).error).toContain("Domain-0 is the machine this page runs on");
      expect((await post("/api/domains/demo/reboot", {})).status).toBe(404);
      expect((await post("/api/domains/..%2Fx/destroy", {})).status).toBe(400);
    });
    expect(calls).toEqual(["xl shutdown demo", "xl destroy demo"]);
  });

  it("bounds and checks what it reads: 413 over 64 KiB, 400 for what is not a JSON object", async () => {
    expect((await post("/api/demo", "x".repeat(65 * 1024))).status).toBe(413);
    expect((await post("/api/demo", "{not json")).status).toBe(400);
    expect((await post("/api/demo", "[1]")).status).toBe(400);
  });
});

describe("democd-web: domain 0, NAT and the xenguest images", () => {
  it("tells domain 0's versions, memory, addresses and network state", async () => {
    const r = await (await get("/api/host")).json();
    expect(r.host).toMatchObject({ xen: "4.17.7", xenTotalMemory: 1279, xenFreeMemory: 500, addresses: ["eth0 10.0.2.15/24"], nat: false, bridged: false });
    expect(r.host.linux).toBe((await execa("uname", ["-r"])).stdout);
  });

  it("switches NAT with xen_nat_enable, and takes only true or false", async () => {
    const calls = await callsDuring(async () => {
      expect((await (await post("/api/nat", { on: true })).json()).output).toBe("xen_nat_enable: on\n");
      await post("/api/nat", { on: false });
      expect((await post("/api/nat", { on: "yes" })).status).toBe(400);
    });
    expect(calls).toEqual(["xen_nat_enable ", "xen_nat_enable off"]);
  });

  it("lists the images with valid names and the guests created, with the manager's log", async () => {
    const r = await (await get("/api/guests")).json();
    expect(r).toEqual({ ok: true, images: ["web"], guests: [{ name: "web", state: "stopped" }], log: "2026-12-03 12:00:00 guest web created\n" });
  });

  it("creates only from an image on the medium, and passes the rest to xenguest-manager", async () => {
    const calls = await callsDuring(async () => {
      expect((await post("/api/guests/nothere/create", {})).status).toBe(404);
      for (const action of ["create", "start", "stop", "remove"]) expect((await post(`/api/guests/web/${action}`, {})).status).toBe(200);
      expect((await post("/api/guests/web/format", {})).status).toBe(404);
    });
    expect(calls.filter((c) => !c.endsWith("status")).map((c) => c.replace(/ \/\S+\/guests\//, " GUESTS/"))).toEqual([
      "xenguest-manager create GUESTS/web.xenguest web",
      "xenguest-manager start web",
      "xenguest-manager stop web",
      "xenguest-manager remove web",
    ]);
    expect(calls.find((c) => c.startsWith("xenguest-manager create"))).toMatch(/^xenguest-manager create \/\S+\/guests\/web\.xenguest web$/);
  });
});

/** A console's server-sent events, connected (the console is open when this returns). */
async function openStream(name: string, from = 0) {
  const r = await get(`/api/consoles/${name}/stream?from=${from}`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("text/event-stream");
  return r.body!.getReader();
}

/** Read events until `until` matches the output (decoded) or the console ends. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, until: RegExp, from = 0): Promise<{ text: string; ended: boolean; last: number }> {
  let raw = "";
  let text = "";
  let last = from;
  const deadline = Date.now() + 10_000;
  try {
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      raw += Buffer.from(value).toString();
      text = "";
      for (const m of raw.matchAll(/id: (\d+)\ndata: (\S*)\n\n/g)) {
        text += Buffer.from(m[2], "base64").toString();
        last = Number(m[1]);
      }
      if (raw.includes("event: end")) return { text, ended: true, last };
      if (until.test(text)) return { text, ended: false, last };
    }
  } finally {
    await reader.cancel();
  }
  throw new Error(`no ${until} in ${JSON.stringify(text)}`);
}

const readConsole = async (name: string, until: RegExp, from = 0) => readUntil(await openStream(name, from), until, from);

describe("democd-web: consoles in a terminal", () => {
  it("runs `xl console NAME` in a pseudo-terminal: output streams, typing reaches it, Ctrl-C stops it", async () => {
    const open = await (await post("/api/consoles/demo", {})).json();
    expect(open).toMatchObject({ ok: true, name: "demo" });
    const first = await readConsole("demo", /console of demo/);
    expect((await post("/api/consoles/demo/input", { data: "hello\r" })).status).toBe(200);
    const echoed = await readConsole("demo", /got:hello/, first.last);
    expect(echoed.text).toContain("hello");
    // A second page sees everything from the start, then the same terminal.
    expect((await readConsole("demo", /got:hello/)).text).toMatch(/^console of demo\r\n/);
    expect((await (await get("/api/consoles")).json()).consoles).toEqual(["demo"]);
    const stream = await openStream("demo", echoed.last);
    await post("/api/consoles/demo/input", { data: "\u0003" });
    expect((await readUntil(stream, /(?!)/, echoed.last)).ended).toBe(true);
    expect((await post("/api/consoles/demo/input", { data: "x" })).status).toBe(404);
  });

  it("domain 0's console is a login, not a shell", async () => {
    await post("/api/consoles/Domain-0", {});
    await readConsole("Domain-0", /domain0 login: /);
    const stream = await openStream("Domain-0");
    await post("/api/consoles/Domain-0/input", { data: "root\r" });
    const after = await readUntil(stream, /welcome root/);
    expect(after.text).toMatch(/^domain0 login: root\r\nwelcome root/);
  });

  it("checks what is typed and how the terminal is sized", async () => {
    await post("/api/consoles/demo", {});
    expect((await post("/api/consoles/demo/input", { data: "x".repeat(4097) })).status).toBe(400);
    expect((await post("/api/consoles/demo/input", { data: 5 })).status).toBe(400);
    expect((await post("/api/consoles/demo/resize", { cols: 120, rows: 40 })).status).toBe(200);
    expect((await post("/api/consoles/demo/resize", { cols: 0, rows: 40 })).status).toBe(400);
    expect((await post("/api/consoles/bad%20name", {})).status).toBe(400);
    expect((await post("/api/consoles/nothere/input", { data: "x" })).status).toBe(404);
  });
});
