import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { REPO } from "../../helpers/paths.ts";
import { tempDir } from "../../helpers/temp.ts";
import { needTools } from "../../helpers/tools.ts";

/**
 * /usr/sbin/democd-web, the launcher: which address it announces (from a copy of the kernel's
 * /proc/net/fib_trie), what it refuses, and that the application's modules are imported only
 * when a browser connects (python3 -X importtime lists each import on stderr as it happens).
 */
const LAUNCHER = path.join(REPO, "templates/debian/usr/sbin/democd-web");

/** /proc/net/fib_trie's shape: loopback, a DHCP address, the demo bridge's link-local one. */
function fibTrie(addresses: string[]): string {
  const leaves = ["127.0.0.1", ...addresses].map((a) => `           |-- ${a}\n              /32 host LOCAL\n           |-- ${a.replace(/\d+$/, "255")}\n              /32 link BROADCAST\n`);
  return `Main:\n  +-- 0.0.0.0/0 3 0 5\n${leaves.join("")}Local:\n  +-- 0.0.0.0/0 3 0 5\n${leaves.join("")}`;
}

async function launch(args: string[], fib: string[], importtime = false, prefix: string[] = []) {
  await needTools("python3");
  const dir = tempDir("web-launcher");
  fs.writeFileSync(path.join(dir, "fib_trie"), fibTrie(fib));
  const stderr = path.join(dir, "stderr");
  const [cmd, ...pre] = [...prefix, "python3"];
  const proc = execa(cmd, [...pre, ...(importtime ? ["-X", "importtime"] : []), LAUNCHER, "--port", "0", "--url-file", path.join(dir, "url"), ...args], {
    env: { DEMOCD_WEB_FIB_TRIE: path.join(dir, "fib_trie") },
    stderr: { file: stderr },
    reject: false,
    buffer: false,
  });
  const urls = await new Promise<string[]>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const lines = [...out.matchAll(/democd: web console: (\S+)\n/g)].map((m) => m[1]);
      // The url file is written before the lines are printed: it holds them all.
      if (lines.length && fs.existsSync(path.join(dir, "url")) && fs.readFileSync(path.join(dir, "url"), "utf8").split("\n").length === lines.length + 1) resolve(lines);
    });
    // Once the lines are in, the exit is the test's own kill (and its directory may be gone).
    proc.on("exit", () => reject(new Error(`democd-web exited: ${out}${fs.existsSync(stderr) ? fs.readFileSync(stderr, "utf8") : ""}`)));
  });
  return { proc, urls, stderr: () => fs.readFileSync(stderr, "utf8") };
}

describe("democd-web's launcher", () => {
  it("announces domain 0's routable addresses, not loopback or the bridge's link-local one", async () => {
    const { proc, urls } = await launch([], ["10.0.2.15", "169.254.1.254", "192.168.7.2"]);
    try {
      const port = new URL(urls[0]).port;
      expect(urls.map((u) => u.replace(/token=[A-Za-z0-9_-]{43}$/, "token=T"))).toEqual([`http://10.0.2.15:${port}/?token=T`, `http://192.168.7.2:${port}/?token=T`]);
    } finally {
      proc.kill();
    }
  });

  it("with only the link-local address when the wait is over, announces that one", async () => {
    const { proc, urls } = await launch(["--wait", "0"], ["169.254.1.254"]);
    proc.kill();
    expect(urls).toHaveLength(1);
    expect(urls[0]).toMatch(/^http:\/\/169\.254\.1\.254:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  });

  it("imports the application only when the first browser connects, then serves it", async () => {
    const { proc, urls, stderr } = await launch(["--listen", "127.0.0.1"], [], true);
    try {
      expect(urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
      await new Promise((r) => setTimeout(r, 300));
      const before = stderr();
      expect(before).toMatch(/\| _socket$/m);
      expect(before).not.toMatch(/\| (http\.server|democd_web|argparse|socket)$/m);
      const r = await fetch(urls[0], { redirect: "manual" });
      expect(r.status).toBe(303);
      expect(stderr()).toMatch(/\| democd_web$/m);
      expect(stderr()).toMatch(/\| {2,}http\.server$/m);
    } finally {
      proc.kill();
    }
  });

  it("started as SCHED_IDLE by the rc, listens and serves with the usual policy and priority", async () => {
    await needTools("chrt");
    const { proc } = await launch(["--listen", "127.0.0.1"], [], false, ["chrt", "--idle", "0", "nice", "-n", "10"]);
    try {
      // chrt and nice exec the next program: the pid is python's.
      const status = fs.readFileSync(`/proc/${proc.pid}/stat`, "utf8").split(") ")[1].split(" ");
      expect({ nice: status[16], policy: status[38] }).toEqual({ nice: "0", policy: "0" });
    } finally {
      proc.kill();
    }
  });

  it("refuses a bad option or value, naming it, and a port it cannot have", async () => {
    await needTools("python3");
    const bad = await execa("python3", [LAUNCHER, "--port", "eighty"], { reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("democd-web: --port: not a number: eighty");
    const unknown = await execa("python3", [LAUNCHER, "--colour"], { reject: false });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("democd-web: unknown option --colour");
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const busy = await execa("python3", [LAUNCHER, "--listen", "127.0.0.1", "--port", String(port), "--url-file", ""], { reject: false, timeout: 20_000 });
      expect(busy.exitCode).toBe(1);
      expect(busy.stdout).toBe(`democd: web console: cannot listen on 127.0.0.1:${port}: Address already in use`);
    } finally {
      taken.close();
    }
  });
});
