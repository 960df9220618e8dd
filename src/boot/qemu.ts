import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { DemocdError } from "../errors.ts";
import { TOOL_FILES, spawnTool, type Spawned } from "../exec.ts";
import type { EntryId } from "../config/schema.ts";
import { ENTRY_HOTKEYS } from "../render/grub.ts";
import type { Logger } from "../log.ts";
import { USER_NETDEV, announcedNetwork, forwardCommands, sshForwards } from "./ssh-forwards.ts";
import { forwardedWebUrl, webForward } from "./web-forward.ts";

/** SeaBIOS, OVMF, or OVMF enforcing Secure Boot with Microsoft's keys enrolled (as PCs ship). */
export const FIRMWARES = ["bios", "uefi", "uefi-secure"] as const;
export type Firmware = (typeof FIRMWARES)[number];
export type Accel = "tcg" | "kvm";

/** A disk attached to the machine (-drive): a file, its format, and how the guest sees it. */
export interface QemuDrive {
  file: string;
  format: "raw" | "qcow2" | "vpc" | "vmdk";
  /** Default virtio (/dev/vda, vdb ... in Linux). */
  interface?: "virtio" | "ide" | "none";
  readonly?: boolean;
}

export interface QemuOptions {
  /** The medium, as a CD (or a USB stick with `usb`); optional when booting a kernel or a disk. */
  iso?: string;
  firmware: Firmware;
  memoryMb: number;
  accel: Accel;
  cpus?: number;
  /** Attach the medium as a USB stick instead of a CD (the hybrid image's other half). */
  usb?: boolean;
  /** Direct kernel boot (-kernel/-initrd/-append), skipping firmware's boot loader. */
  kernel?: string;
  initrd?: string;
  append?: string;
  /** Disks besides the medium, in order. */
  drives?: QemuDrive[];
  /** uefi-secure: the machine's own copy of the UEFI variables (Secure Boot's keys, boot entries, MOKs). */
  efiVars?: string;
  /** Host port (on 127.0.0.1) to the machine's ssh; the next SSH_GUEST_PORTS lead to its 2201, 2202 ... */
  sshPort?: number;
  /** A Unix socket for QEMU's human monitor: `--ssh` follows the demo guests' network through it. */
  monitor?: string;
  /** Host port (on 127.0.0.1) to domain 0's web console (its port 80). */
  webPort?: number;
}

/** qemu's format for a disk image by its name, or undefined for a CD image. */
export function diskFormatOf(file: string): QemuDrive["format"] | undefined {
  if (/\.qcow2$/i.test(file)) return "qcow2";
  if (/\.vhd$/i.test(file)) return "vpc";
  if (/\.vmdk$/i.test(file)) return "vmdk";
  if (/\.(raw|img)$/i.test(file)) return "raw";
  return undefined;
}

export const OVMF = TOOL_FILES["OVMF firmware"].path;
export const OVMF_SECURE = TOOL_FILES["OVMF Secure Boot firmware"].path;
export const OVMF_MS_VARS = TOOL_FILES["OVMF variables with Microsoft's keys"].path;

/**
 * Secure Boot as OVMF enforces it: a q35 machine with SMM (the variables are writable only from
 * SMM, so nothing the OS runs can change the keys), the Secure Boot build of the firmware code,
 * and a private copy of the variables holding Microsoft's keys.
 */
function firmwareArgs(o: QemuOptions): string[] {
  if (o.firmware === "bios") return [];
  if (o.firmware === "uefi") return ["-bios", OVMF];
  if (!o.efiVars) throw new DemocdError("uefi-secure needs the machine's own copy of the UEFI variables");
  return [
    "-machine", "q35,smm=on",
    "-global", "driver=cfi.pflash01,property=secure,value=on",
    "-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_SECURE}`,
    "-drive", `if=pflash,format=raw,unit=1,file=${o.efiVars.replace(/,/g, ",,")}`,
  ];
}

/**
 * The CPU under TCG: qemu64, because a Xen PV dom0 crashes with -cpu max; with SVM and nested
 * paging, because Debian's Xen has no shadow paging and runs HVM and PVH guests only with HAP
 * ("neither hap nor shadow paging available" on plain qemu64). Domain 0 boots no slower.
 */
export const TCG_CPU = "qemu64,+svm,+npt";

/** qemu-system-x86_64's arguments; -no-reboot so a reboot or crash ends QEMU instead of looping. */
export function qemuArgs(o: QemuOptions): string[] {
  const medium = !o.iso
    ? []
    : o.usb
      ? ["-device", "qemu-xhci", "-drive", `if=none,id=stick,format=raw,readonly=on,file=${o.iso}`, "-device", "usb-storage,drive=stick"]
      : ["-drive", `file=${o.iso},media=cdrom,readonly=on,format=raw`];
  // QEMU's -drive is comma-separated: a comma in a file name is written twice.
  const drives = (o.drives ?? []).flatMap((d) => [
    "-drive",
    `file=${d.file.replace(/,/g, ",,")},format=${d.format},if=${d.interface ?? "virtio"}${d.readonly ? ",readonly=on" : ""}`,
  ]);
  const direct = [
    ...(o.kernel ? ["-kernel", o.kernel] : []),
    ...(o.initrd ? ["-initrd", o.initrd] : []),
    ...(o.append !== undefined ? ["-append", o.append] : []),
  ];
  return [
    "-accel", o.accel,
    "-cpu", o.accel === "kvm" ? "host" : TCG_CPU,
    "-m", String(o.memoryMb),
    // Two vCPUs: under TCG each is a host thread, and dom0 and a guest then run side by side
    // (measured: a demo guest reaches its login ~75 s sooner than on one).
    "-smp", String(o.cpus ?? 2),
    ...firmwareArgs(o),
    ...medium,
    ...drives,
    // The CD first: SeaBIOS would otherwise start a bootable disk beside it (QEMU's default order
    // puts hard disks before CD-ROMs).
    ...(o.iso && !o.usb && o.drives?.length ? ["-boot", "order=d"] : []),
    ...direct,
    "-nic", ["user", `id=${USER_NETDEV}`, "model=e1000", ...(o.sshPort ? sshForwards(o.sshPort) : []), ...(o.webPort ? [webForward(o.webPort)] : [])].join(","),
    "-display", "none",
    "-vga", "std",
    "-serial", "stdio",
    "-monitor", o.monitor ? `unix:${o.monitor.replace(/,/g, ",,")},server=on,wait=off` : "none",
    "-no-reboot",
  ];
}

/** A machine whose console went quiet for longer than any healthy boot does. */
export class ConsoleSilent extends DemocdError {}

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]/g, "");

/**
 * A running QEMU with its serial console: wait for text, type, pick a GRUB entry, log in,
 * run commands. Powers both `democd boot` and the end-to-end tests.
 */
export class QemuSession {
  private transcript = "";
  private cursor = 0;
  private exited = false;
  private readonly started = Date.now();
  private lastOutput = Date.now();
  private waiters: (() => void)[] = [];
  readonly child: Spawned;

  /** Where the next console line to look at for a network change or the web console starts. */
  private lineStart = 0;
  private monitorQueue = Promise.resolve();
  /** The web console's address from the host (--web), once domain 0 has printed it. */
  webUrl?: string;

  private constructor(
    child: Spawned,
    private readonly echo?: NodeJS.WritableStream,
    private readonly transcriptFile?: string,
    private readonly follow?: { port: number; monitor: string; log?: Logger },
    private readonly web?: { port: number; onUrl?: (url: string) => void },
  ) {
    this.child = child;
    // One decoder: a UTF-8 character split across two reads must not become two U+FFFDs.
    const decoder = new StringDecoder("utf8");
    const onData = (chunk: Buffer) => {
      const text = decoder.write(chunk);
      this.transcript += stripAnsi(text);
      this.lastOutput = Date.now();
      this.echo?.write(chunk);
      if (this.transcriptFile) fs.appendFileSync(this.transcriptFile, chunk);
      if (this.follow || this.web) this.watchLines();
      this.waiters.splice(0).forEach((w) => w());
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void child.then(() => {
      this.exited = true;
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  static async start(
    o: QemuOptions,
    extra: { log?: Logger; echo?: NodeJS.WritableStream; transcriptFile?: string; onWebUrl?: (url: string) => void } = {},
  ): Promise<QemuSession> {
    if (!o.iso && !o.kernel && !o.drives?.length) throw new DemocdError("nothing to boot: give a medium, a kernel or a disk");
    if ((o.initrd || o.append !== undefined) && !o.kernel) throw new DemocdError("an initrd or kernel command line needs a kernel to boot (-kernel)");
    for (const f of [o.iso, o.kernel, o.initrd, ...(o.drives ?? []).map((d) => d.file)]) {
      if (f && !fs.existsSync(f)) throw new DemocdError(`${f} does not exist`, { hint: "build it first: ./make.ts build" });
    }
    const firmwareFiles = o.firmware === "uefi" ? [OVMF] : o.firmware === "uefi-secure" ? [OVMF_SECURE, OVMF_MS_VARS] : [];
    for (const f of firmwareFiles) if (!fs.existsSync(f)) throw new DemocdError(`UEFI firmware ${f} is missing`, { hint: `apt-get install ${TOOL_FILES["OVMF firmware"].pkg}` });
    if (extra.transcriptFile) fs.writeFileSync(extra.transcriptFile, "");
    // The machine's own files, gone with it.
    let own: string | undefined;
    const ownDir = () => (own ??= fs.mkdtempSync(path.join(os.tmpdir(), "democd-qemu-")));
    // Secure Boot's variables are written by the machine (MOKs, boot entries): its own copy.
    if (o.firmware === "uefi-secure" && !o.efiVars) {
      o = { ...o, efiVars: path.join(ownDir(), "OVMF_VARS.fd") };
      fs.copyFileSync(OVMF_MS_VARS, o.efiVars!);
    }
    if (o.sshPort && !o.monitor) o = { ...o, monitor: path.join(ownDir(), "monitor.sock") };
    const { child } = await spawnTool("qemu-system-x86_64", qemuArgs(o), extra.log);
    if (own) void child.catch(() => undefined).finally(() => fs.rmSync(own!, { recursive: true, force: true }));
    const follow = o.sshPort && o.monitor ? { port: o.sshPort, monitor: o.monitor, log: extra.log } : undefined;
    const web = o.webPort ? { port: o.webPort, onUrl: extra.onWebUrl } : undefined;
    return new QemuSession(child, extra.echo, extra.transcriptFile, follow, web);
  }

  /** Each new whole console line, for --ssh's network changes and --web's address. */
  private watchLines(): void {
    const end = this.transcript.lastIndexOf("\n");
    if (end < this.lineStart) return;
    for (const line of this.transcript.slice(this.lineStart, end).split("\n")) {
      if (this.follow) this.followNetwork(this.follow, line);
      const url = this.web && forwardedWebUrl(line, this.web.port);
      if (url) {
        this.webUrl = url;
        this.web!.onUrl?.(url);
      }
    }
    this.lineStart = end + 1;
  }

  /**
   * --ssh's guest ports follow the demo guests: when xen_bridge_enable announces on the console
   * that they joined domain 0's network (or left it), PORT+N is pointed at guest N's own address
   * (or back at domain 0's 2200+N) through QEMU's monitor.
   */
  private followNetwork(f: { port: number; monitor: string; log?: Logger }, line: string): void {
    const change = announcedNetwork(line);
    if (!change) return;
    const commands = forwardCommands(f.port, change);
    this.monitorQueue = this.monitorQueue.then(() => monitorCommands(f.monitor, commands)).catch((e: Error) => {
      f.log?.warn(`could not point the --ssh guest ports at the demo guests: ${e.message}`);
    });
  }

  /** The web console's address from the host (--web), once domain 0 prints it. */
  async waitForWebUrl(timeoutS: number): Promise<string> {
    if (!this.web) throw new DemocdError("this machine was started without a web console port (webPort)");
    const deadline = Date.now() + timeoutS * 1000;
    while (!this.webUrl) {
      if (this.exited) throw new DemocdError("QEMU exited before domain 0 announced its web console", { debug: this.tail() });
      const left = deadline - Date.now();
      if (left <= 0) throw new DemocdError(`domain 0 announced no web console within ${timeoutS}s`, { debug: this.tail() });
      await this.nextOutput(Math.min(left, 1000));
    }
    return this.webUrl;
  }

  /** Until the console prints more (or QEMU exits), at most ms. */
  private nextOutput(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Seconds since QEMU started. */
  elapsed(): number {
    return (Date.now() - this.started) / 1000;
  }

  get output(): string {
    return this.transcript;
  }

  get running(): boolean {
    return !this.exited;
  }

  /**
   * Wait for text after the cursor; the cursor moves past the match. With `silenceS`, a console
   * that prints nothing for that long fails at once with a ConsoleSilent (the machine is wedged).
   */
  async waitFor(pattern: RegExp | string, timeoutS: number, silenceS?: number): Promise<RegExpExecArray> {
    const re = typeof pattern === "string" ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : pattern;
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const rest = this.transcript.slice(this.cursor);
      const m = re.exec(rest);
      if (m) {
        this.cursor += m.index + m[0].length;
        return m;
      }
      if (this.exited) throw new DemocdError(`QEMU exited before ${re} appeared on the console`, { debug: this.tail() });
      const left = deadline - Date.now();
      if (left <= 0) throw new DemocdError(`timed out after ${timeoutS}s waiting for ${re} on the console`, { debug: this.tail() });
      if (silenceS !== undefined && Date.now() - this.lastOutput > silenceS * 1000) {
        throw new ConsoleSilent(`the console printed nothing for ${silenceS}s while waiting for ${re}`, { debug: this.tail() });
      }
      await this.nextOutput(Math.min(left, 1000));
    }
  }

  tail(chars = 3000): string {
    return this.transcript.slice(-chars);
  }

  /** Type raw bytes at once (interactive use: the user types at human speed). */
  send(text: string): void {
    this.child.stdin?.write(text);
  }

  /**
   * Type a line in small chunks: Xen's console input ring drops characters when a long
   * line arrives at once.
   */
  async type(text: string): Promise<void> {
    for (let i = 0; i < text.length; i += 16) {
      this.send(text.slice(i, i + 16));
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  /** Wait for GRUB's menu and press the entry's hotkey. */
  async selectEntry(entry: EntryId, timeoutS = 120): Promise<void> {
    await this.waitFor(/GNU GRUB|Use the \^ and v keys/, timeoutS);
    this.send(ENTRY_HOTKEYS[entry]);
  }

  async login(user: string, password: string, timeoutS: number, silenceS?: number): Promise<void> {
    await this.waitFor(/login: $|login: /m, timeoutS, silenceS);
    await new Promise((r) => setTimeout(r, 500));
    await this.type(user + "\n");
    await this.waitFor(/Password: ?/, 60);
    await this.type(password + "\n");
    // Typing before the shell reads its terminal loses characters (login flushes input, and
    // a Debian login is slow under emulation): wait for the prompt, and retry once after ^C.
    // busybox ash may follow its prompt with a cursor-position query (ESC [6n).
    await this.waitFor(/[#$] (\x1b\[[0-9;?]*[A-Za-z])*$/m, 120);
    try {
      await this.shell("true", 30);
    } catch {
      this.send("\x03");
      await this.shell("true", 60);
    }
  }

  private seq = 0;

  /** Run a shell command at the logged-in prompt and return its output. */
  async shell(command: string, timeoutS = 60): Promise<string> {
    const n = ++this.seq;
    // The markers are split in what is typed, so the echo of the command never matches.
    await this.type(`echo "@@B""${n}@@"; ${command}; echo "@@E""${n}@@"\n`);
    await this.waitFor(`@@B${n}@@`, timeoutS);
    const start = this.cursor;
    await this.waitFor(`@@E${n}@@`, timeoutS);
    const body = this.transcript.slice(start, this.cursor - `@@E${n}@@`.length);
    return body.replace(/\r/g, "").trim();
  }

  async stop(): Promise<void> {
    if (!this.exited) this.child.kill("SIGTERM");
    await this.child.catch(() => undefined);
  }
}

/** Send lines to QEMU's human monitor on a Unix socket, and wait until it has answered them all. */
function monitorCommands(socket: string, commands: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(socket);
    let seen = "";
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`QEMU's monitor did not answer within 10 s (${socket})`));
    }, 10_000);
    c.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on("data", (d) => {
      seen += d.toString();
      // One prompt for the greeting and one after each command.
      if ((seen.match(/\(qemu\) /g) ?? []).length > commands.length) {
        clearTimeout(timer);
        c.end();
        resolve();
      }
    });
    c.on("connect", () => c.write(commands.map((l) => `${l}\n`).join("")));
  });
}
