import { DemocdError } from "../errors.ts";

/** How many demo guests `--ssh PORT` reaches from the host: PORT+1 .. PORT+4. */
export const SSH_GUEST_PORTS = 4;
/** Domain 0's port for guest N is this plus N (xen_nat_enable's forwards). */
const GUEST_SSH_BASE = 2200;
/** QEMU's user network as democd names it, for the monitor's hostfwd commands. */
export const USER_NETDEV = "net0";

/**
 * QEMU user networking's forwards for --ssh: host PORT to the machine's 22, PORT+N to its
 * 2200+N (domain 0 forwards those on to demo guest N). Loopback only: nobody else on the
 * host's network reaches the demo.
 */
export function sshForwards(port: number): string[] {
  const fwd = [`hostfwd=tcp:127.0.0.1:${port}-:22`];
  for (let n = 1; n <= SSH_GUEST_PORTS; n++) fwd.push(`hostfwd=tcp:127.0.0.1:${port + n}-:${GUEST_SSH_BASE + n}`);
  return fwd;
}

/** A --ssh port and the guest ports after it must all be TCP ports. */
export function checkSshPort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port + SSH_GUEST_PORTS > 65535) {
    throw new DemocdError(`--ssh: must be a TCP port from 1 to ${65535 - SSH_GUEST_PORTS} (it and the next ${SSH_GUEST_PORTS} are forwarded), got "${value}"`);
  }
  return port;
}

/**
 * What xen_bridge_enable announces on the console: the guests joined domain 0's network
 * (with domain 0's address there), or went back behind it.
 */
const BRIDGED = /democd: demo guests are bridged to \S+ network \(domain 0 is (\d{1,3}(?:\.\d{1,3}){3})\//;
const BEHIND = /democd: demo guests are behind domain 0 again/;

export type GuestNetwork = { bridged: true; dom0: string } | { bridged: false };

/** The network change a console line announces, if any. */
export function announcedNetwork(line: string): GuestNetwork | undefined {
  const b = BRIDGED.exec(line);
  if (b) return { bridged: true, dom0: b[1] };
  return BEHIND.test(line) ? { bridged: false } : undefined;
}

/**
 * The monitor commands that point PORT+N where guest N now is. Bridged, guest N has domain 0's
 * address + N: QEMU's DHCP server leases its addresses in turn from domain 0's (10.0.2.15), and
 * the command-line IP entry's guests take domain 0's + N. Behind domain 0, PORT+N goes back to
 * domain 0's 2200+N.
 */
export function forwardCommands(port: number, net: GuestNetwork): string[] {
  const out: string[] = [];
  for (let n = 1; n <= SSH_GUEST_PORTS; n++) {
    out.push(`hostfwd_remove ${USER_NETDEV} tcp:127.0.0.1:${port + n}`);
    out.push(`hostfwd_add ${USER_NETDEV} tcp:127.0.0.1:${port + n}-${net.bridged ? `${addAddress(net.dom0, n)}:22` : `:${GUEST_SSH_BASE + n}`}`);
  }
  return out;
}

/** a.b.c.d plus n, carrying across the bytes. */
export function addAddress(address: string, n: number): string {
  const v = address.split(".").reduce((a, b) => a * 256 + Number(b), 0) + n;
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join(".");
}
