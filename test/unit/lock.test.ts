import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { cachedFile } from "../../src/cache-file.ts";
import { acquireLock } from "../../src/lock.ts";
import { Logger } from "../../src/log.ts";
import { sweepTemporaries } from "../../src/sweep.ts";
import { REPO } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";

function logger(dir: string): { log: Logger; text: () => string } {
  const file = path.join(dir, "log");
  return { log: new Logger({ file, quiet: true }), text: () => fs.readFileSync(file, "utf8") };
}

describe("one build at a time per cache", () => {
  it("a second build waits, saying which build holds the lock, and goes on when it is released", async () => {
    const dir = tempDir("lock");
    const { log, text } = logger(dir);
    const lock = path.join(dir, ".lock");
    const releaseA = await acquireLock(lock, "the build of a.iso", log, 20);
    let bGot = false;
    const b = acquireLock(lock, "the build of b.iso", log, 20).then((r) => ((bGot = true), r));
    await new Promise((r) => setTimeout(r, 200));
    expect(bGot).toBe(false);
    expect(text()).toContain(`waiting for the build of a.iso (pid ${process.pid}) to finish: it holds ${lock}`);
    releaseA();
    const releaseB = await b;
    expect(JSON.parse(fs.readFileSync(path.join(lock, "holder.json"), "utf8")).what).toBe("the build of b.iso");
    releaseB();
    expect(fs.existsSync(path.join(lock, "holder.json"))).toBe(false);
    log.close();
  });

  it("held by a build that is then killed with SIGKILL: the next build takes it at once, saying whose it was", async () => {
    const dir = tempDir("lock");
    const { log, text } = logger(dir);
    const lock = path.join(dir, ".lock");
    const script = `import { acquireLock } from ${JSON.stringify(path.join(REPO, "src/lock.ts"))}; import { Logger } from ${JSON.stringify(path.join(REPO, "src/log.ts"))};
      await acquireLock(${JSON.stringify(lock)}, "the build of killed.iso", new Logger({ quiet: true }), 20); console.log("holding"); setInterval(() => {}, 1000);`;
    const holder = execa(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: REPO, reject: false });
    await new Promise<void>((resolve) => holder.stdout!.on("data", (d: Buffer) => d.toString().includes("holding") && resolve()));
    let got = false;
    const waiting = acquireLock(lock, "the build of next.iso", log, 20).then((r) => ((got = true), r));
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toBe(false);
    expect(text()).toContain(`waiting for the build of killed.iso (pid ${holder.pid}) to finish: it holds ${lock}`);
    process.kill(holder.pid!, "SIGKILL");
    const release = await waiting;
    expect(text()).toContain(`took over the lock ${lock} of the build of killed.iso (pid ${holder.pid}, no longer running)`);
    release();
    log.close();
  });

  it("three builds at once, one of them over a dead build's lock: never two holding it together", async () => {
    const dir = tempDir("lock");
    const { log } = logger(dir);
    const lock = path.join(dir, ".lock");
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, "holder.json"), JSON.stringify({ pid: 999999, host: os.hostname(), what: "a dead build" }));
    let holding = 0;
    let most = 0;
    await Promise.all(
      ["a", "b", "c"].map(async (n) => {
        for (let i = 0; i < 3; i++) {
          const release = await acquireLock(lock, `the build of ${n}.iso`, log, 1000);
          most = Math.max(most, ++holding);
          await new Promise((r) => setTimeout(r, 30));
          holding--;
          release();
        }
      }),
    );
    expect(most).toBe(1);
    log.close();
  });

  it("the lock of a build that was killed (its process is gone) is taken over at once", async () => {
    const dir = tempDir("lock");
    const { log, text } = logger(dir);
    const lock = path.join(dir, ".lock");
    const gone = await execa("sh", ["-c", "echo $$"]);
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, "holder.json"), JSON.stringify({ pid: Number(gone.stdout), host: os.hostname(), what: "the build of x.iso" }));
    const started = Date.now();
    const release = await acquireLock(lock, "the build of y.iso", log, 300);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(text()).toContain(`took over the lock ${lock} of the build of x.iso (pid ${gone.stdout}, no longer running)`);
    expect(text()).not.toContain("waiting for");
    release();
    log.close();
  });
});

describe("what a build killed half-way leaves", () => {
  it("its temporaries in the cache and beside its outputs are removed; nothing else is", () => {
    const dir = tempDir("sweep");
    const cache = path.join(dir, "cache");
    const keep = ["pkgs/fdisk_2.38_amd64/.complete", "initrd/abc.gzip", "initrd/abc.gzip.sha256", "bootstrap/k1/tree/x", "resolved.json"];
    const stale = ["pkgs/.unpack-Ab12Cd/x", "pkgs/linux_6.1_amd64.modules-xz.tmp-4242/lib", "initrd/abc.gzip.tmp-77", "bootstrap/k2.tmp-99/tree/y", "resolved.json.tmp-5", ".lock.stale-12/holder.json"];
    for (const f of [...keep, ...stale]) {
      fs.mkdirSync(path.dirname(path.join(cache, f)), { recursive: true });
      fs.writeFileSync(path.join(cache, f), "x");
    }
    const out = path.join(dir, "out");
    fs.mkdirSync(path.join(out, ".demo.qcow2.tmp-Zz9"), { recursive: true });
    fs.mkdirSync(path.join(out, ".other.qcow2.tmp-Zz9"), { recursive: true });
    fs.writeFileSync(path.join(out, "demo.iso"), "x");
    const removed = sweepTemporaries(cache, [path.join(out, "demo.iso"), path.join(out, "demo.qcow2")]).map((p) => path.relative(dir, p)).sort();
    expect(removed).toEqual(["cache/.lock.stale-12", "cache/bootstrap/k2.tmp-99", "cache/initrd/abc.gzip.tmp-77", "cache/pkgs/.unpack-Ab12Cd", "cache/pkgs/linux_6.1_amd64.modules-xz.tmp-4242", "cache/resolved.json.tmp-5", "out/.demo.qcow2.tmp-Zz9"]);
    for (const f of keep) expect(fs.existsSync(path.join(cache, f)), f).toBe(true);
    expect(fs.readdirSync(out).sort()).toEqual([".other.qcow2.tmp-Zz9", "demo.iso"]);
  });
});

describe("a cache file is used only while it is what was made", () => {
  it("made once, reused, and made again (said in one line) when cut short or changed", async () => {
    const dir = tempDir("cachefile");
    const { log, text } = logger(dir);
    const file = path.join(dir, "initrd", "k.gzip");
    let made = 0;
    const make = async (tmp: string) => {
      made++;
      fs.writeFileSync(tmp, "the initrd's bytes");
    };
    expect(await cachedFile(file, make, log)).toEqual({ file, reused: false });
    expect(await cachedFile(file, make, log)).toEqual({ file, reused: true });
    expect(made).toBe(1);
    fs.truncateSync(file, 5);
    expect(await cachedFile(file, make, log)).toEqual({ file, reused: false });
    expect(text()).toContain(`warning: cache: ${file} is damaged (its sha256 is not the one recorded when it was made): making it again`);
    expect(fs.readFileSync(file, "utf8")).toBe("the initrd's bytes");
    // A failed make leaves neither the file nor a temporary.
    fs.rmSync(file);
    await expect(cachedFile(file, async () => { throw new Error("boom"); }, log)).rejects.toThrow("boom");
    expect(fs.readdirSync(path.dirname(file))).toEqual(["k.gzip.sha256"]);
    log.close();
  });
});
