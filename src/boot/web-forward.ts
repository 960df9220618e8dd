import { DemocdError } from "../errors.ts";
import { SSH_GUEST_PORTS } from "./ssh-forwards.ts";

/** Domain 0's port of the web console: democd-web listens on 80 of each of its addresses. */
export const WEB_CONSOLE_PORT = 80;

/** QEMU user networking's forward for --web: loopback only, like --ssh's. */
export function webForward(port: number): string {
  return `hostfwd=tcp:127.0.0.1:${port}-:${WEB_CONSOLE_PORT}`;
}

/** A --web port: a TCP port, and not one of --ssh's. */
export function checkWebPort(value: string, sshPort?: number): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DemocdError(`--web: must be a TCP port from 1 to 65535, got "${value}"`);
  if (sshPort !== undefined && port >= sshPort && port <= sshPort + SSH_GUEST_PORTS) {
    throw new DemocdError(`--web ${port}: --ssh ${sshPort} forwards ${sshPort}-${sshPort + SSH_GUEST_PORTS} already; choose another port`);
  }
  return port;
}

/** What democd-web prints on domain 0's console: its address there, with this boot's token. */
const ANNOUNCED = /democd: web console: http:\/\/[^\s/?]+\/\?token=([A-Za-z0-9_-]{16,})/;

/** The page's address from the host, through --web's forward, if the line announces it. */
export function forwardedWebUrl(line: string, port: number): string | undefined {
  const m = ANNOUNCED.exec(line);
  return m ? `http://127.0.0.1:${port}/?token=${m[1]}` : undefined;
}
