import type { EntryId } from "../config/schema.ts";
import { escapeFilter } from "./escape.ts";
import { QemuSession, type QemuOptions } from "./qemu.ts";

/**
 * Boot with the serial console on this terminal: pick the GRUB entry for the user if
 * asked, then hand the keyboard over. Ctrl-A X ends QEMU. Returns QEMU's exit code.
 */
export async function bootInteractive(o: QemuOptions, entry?: EntryId): Promise<number> {
  process.stderr.write(`democd: booting ${o.iso ?? o.drives?.[0]?.file} (${o.firmware}, ${o.memoryMb} MB, ${o.accel}); Ctrl-A X quits\n`);
  if (o.sshPort) {
    process.stderr.write(`democd: ssh -p ${o.sshPort} root@127.0.0.1 reaches the machine; -p ${o.sshPort + 1}.. demo guest 1.. (after xen_nat_enable in domain 0)\n`);
  }
  if (o.webPort) {
    process.stderr.write(`democd: the web console (debian profile, Xen entry) will be at http://127.0.0.1:${o.webPort}/ once domain 0 is up; its address with the token follows\n`);
  }
  const onWebUrl = (url: string) => process.stderr.write(`\r\ndemocd: web console: ${url}\r\n`);
  const session = await QemuSession.start(o, { echo: process.stdout, onWebUrl });
  const stdin = process.stdin;
  const raw = stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  const keys = escapeFilter();
  const onKey = (chunk: Buffer) => {
    const { forward, quit } = keys(chunk);
    if (forward.length) session.send(forward.toString("binary"));
    if (quit) void session.stop();
  };
  stdin.on("data", onKey);
  try {
    if (entry) await session.selectEntry(entry).catch(() => undefined);
    const r = await session.child;
    return r.exitCode ?? 0;
  } finally {
    stdin.off("data", onKey);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  }
}
