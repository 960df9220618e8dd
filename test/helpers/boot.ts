import fs from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { ConsoleSilent, QemuSession, diskFormatOf, type Firmware, type QemuDrive } from "../../src/boot/qemu.ts";
import type { EntryId } from "../../src/config/schema.ts";
import { TEST_BUILD_DIR, TEST_PASSWORD } from "./paths.ts";

/** Give boots room: a loaded 2-core machine boots 2-3x slower than an idle one. */
export const LOGIN_TIMEOUT_S = Number(process.env.DEMOCD_LOGIN_TIMEOUT ?? 400);

/**
 * A healthy boot prints something at least every few seconds even on a loaded machine. A TCG
 * machine that wedges (seen once in ~30 boots per run: a Xen dom0 stopped after "pnp: PnP ACPI"
 * with nothing more for 400 s) is restarted once and said so; a second silence fails the test.
 */
export const SILENCE_S = 150;

/**
 * Boot a GRUB entry in real QEMU with real firmware, log in on the serial console and
 * hand the session to the test. The console transcript is kept under build/test/.
 */
export async function withLoggedInBoot<T>(
  iso: string,
  entry: EntryId,
  firmware: Firmware,
  fn: (s: QemuSession, loginSeconds: number) => Promise<T>,
  options: {
    memoryMb?: number; usb?: boolean; drives?: QemuDrive[]; sshPort?: number; webPort?: number; password?: string;
    /** Added to the transcript's name, for a test that boots the same medium and entry as another. */
    tag?: string;
    /** Instead of pressing the entry's hotkey at the menu (the entry then only names the transcript). */
    choose?: (s: QemuSession) => Promise<void>;
    beforeLogin?: (s: QemuSession) => Promise<void>;
  } = {},
): Promise<T> {
  const transcript = path.join(TEST_BUILD_DIR, "consoles", `${path.basename(iso).replace(/\.[a-z0-9]+$/, "")}-${entry}-${firmware}${options.usb ? "-usb" : ""}${options.tag ? `-${options.tag}` : ""}.log`);
  fs.mkdirSync(path.dirname(transcript), { recursive: true });
  // A disk image (by its name) boots as the machine's disk, an ISO as its CD.
  const diskFormat = diskFormatOf(iso);
  const media = diskFormat ? { drives: [{ file: iso, format: diskFormat }, ...(options.drives ?? [])] } : { iso, usb: options.usb, drives: options.drives };
  const label = `${entry}/${firmware}${options.usb ? "/usb" : ""}`;
  const boot = async (): Promise<QemuSession> => {
    const s = await QemuSession.start({ ...media, firmware, memoryMb: options.memoryMb ?? 1024, accel: "tcg", sshPort: options.sshPort, webPort: options.webPort }, { transcriptFile: transcript });
    try {
      await (options.choose ? options.choose(s) : s.selectEntry(entry));
      await options.beforeLogin?.(s);
      await s.login("root", options.password ?? TEST_PASSWORD, LOGIN_TIMEOUT_S, SILENCE_S);
      return s;
    } catch (e) {
      await s.stop();
      throw new Error(`${(e as Error).message}\n--- console tail (${transcript}) ---\n${s.tail(2500)}`, { cause: e });
    }
  };
  let s: QemuSession;
  try {
    s = await boot();
  } catch (e) {
    if (!((e as Error).cause instanceof ConsoleSilent)) throw e;
    const wedged = `${transcript.replace(/\.log$/, "")}.wedged.log`;
    fs.copyFileSync(transcript, wedged);
    process.stderr.write(`  ${label}: WEDGED (console silent ${SILENCE_S}s before login; transcript ${wedged}): booting once more\n`);
    s = await boot();
  }
  try {
    const loginSeconds = s.elapsed();
    process.stderr.write(`  ${label}: login after ${loginSeconds.toFixed(1)}s\n`);
    return await fn(s, loginSeconds);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- console tail (${transcript}) ---\n${s.tail(2500)}`);
  } finally {
    await s.stop();
  }
}

/** The mount table lines for /, /usr and the live medium as "mountpoint fstype". */
export const MOUNTS_CMD = `awk '$2=="/"||$2=="/usr"||$2=="/run/democd/medium"{print $2" "$3}' /proc/mounts`;

/** A live system's: the RAM root, the medium read-only, and /usr the medium under a RAM layer. */
export const LIVE_MOUNTS = ["/ tmpfs", "/usr overlay", "/run/democd/medium iso9660"];

type Session = QemuSession;

/**
 * /usr is writable and the change lands in the RAM layer, not on the medium; `df /usr` shows
 * that layer's filesystem (/run, a tmpfs as large as the root's).
 */
export async function expectWritableUsr(s: Session): Promise<void> {
  expect(await s.shell("echo hi >/usr/democd-written && cat /run/democd/usr/upper/democd-written; ls /run/democd/medium/democd-written 2>&1 | grep -c 'No such'")).toBe("hi\n1");
  expect(await s.shell("df -k /usr | awk 'NR==2{print $1, $2}'; df -k /run | awk 'NR==2{print $2}'; df -k / | awk 'NR==2{print $2}'")).toMatch(/^overlay (\d+)\n\1\n\1$/);
}

/** A package made on the spot with dpkg-deb, installed with dpkg -i into /usr, and run. */
export const DPKG_ON_THE_SPOT = [
  "d=$(mktemp -d) && mkdir -p $d/DEBIAN $d/usr/bin",
  "printf 'Package: democd-hello\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: democd tests <tests@democd.invalid>\\nDescription: made on the spot\\n' >$d/DEBIAN/control",
  "printf '#!/bin/sh\\necho hello from /usr\\n' >$d/usr/bin/democd-hello && chmod 755 $d/usr/bin/democd-hello",
  "dpkg-deb --build $d /root/democd-hello.deb >/dev/null && dpkg -i /root/democd-hello.deb >/dev/null 2>&1; echo rc=$?",
  "democd-hello; dpkg -s democd-hello | grep '^Status'; ls /run/democd/usr/upper/bin/democd-hello",
].join("; ");
export const DPKG_ON_THE_SPOT_OUT = "rc=0\nhello from /usr\nStatus: install ok installed\n/run/democd/usr/upper/bin/democd-hello";

/**
 * Attach to a guest's console from domain 0's shell (`xl console NAME`), do `fn` there, and
 * detach with Ctrl-]: xl console takes it only as a read of its own, so nothing is typed
 * just before or after it.
 */
export async function inXlConsole(s: QemuSession, name: string, fn: () => Promise<void>): Promise<void> {
  await s.type(`xl console ${name}\n`);
  await new Promise((r) => setTimeout(r, 2000));
  s.send("\r");
  await fn();
  const pause = () => new Promise((r) => setTimeout(r, 1500));
  await pause();
  s.send("\x1d");
  await pause();
  await s.shell("true", 60);
}
