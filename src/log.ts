import fs from "node:fs";
import path from "node:path";

/**
 * What the user sees: one line per stage with its time, progress on long steps, and
 * (with --verbose) the commands. Everything, including full tool output, also goes to
 * a log file so a failure can be read after the fact.
 */
export interface LoggerOptions {
  verbose?: boolean;
  /** Where the full log goes; no file when undefined. */
  file?: string;
  /** The terminal stream; defaults to stderr so stdout stays clean for data. */
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Silence everything but the file (tests). */
  quiet?: boolean;
}

const paint = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;

export class Logger {
  readonly verbose: boolean;
  readonly file?: string;
  private readonly stream: NodeJS.WritableStream;
  private readonly tty: boolean;
  private readonly quiet: boolean;
  private fd?: number;
  private progressShown = false;
  readonly timings: { stage: string; seconds: number }[] = [];
  private readonly born = process.hrtime.bigint();

  constructor(options: LoggerOptions = {}) {
    this.verbose = options.verbose ?? false;
    this.quiet = options.quiet ?? false;
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean((this.stream as NodeJS.WriteStream).isTTY) && !process.env.NO_COLOR;
    this.file = options.file;
    if (this.file) {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      this.fd = fs.openSync(this.file, "a");
    }
  }

  private color(code: number, s: string): string {
    return this.tty ? paint(code)(s) : s;
  }

  /** Append raw text to the log file only. */
  record(text: string): void {
    if (this.fd !== undefined) fs.writeSync(this.fd, text.endsWith("\n") ? text : text + "\n");
  }

  /** A line for the terminal (`painted`: its coloured form there); the log gets it plain. */
  private say(line: string, painted = line): void {
    this.record(line);
    if (this.quiet) return;
    this.clearProgress();
    this.stream.write(painted + "\n");
  }

  info(message: string): void {
    this.say(message);
  }

  warn(message: string): void {
    this.say(`warning: ${message}`, this.color(33, `warning: ${message}`));
  }

  error(message: string): void {
    this.say(`error: ${message}`, this.color(31, `error: ${message}`));
  }

  /** Seconds since this log was opened (a build's start): when each command ended, in the log. */
  elapsed(): number {
    return Number(process.hrtime.bigint() - this.born) / 1e9;
  }

  /** A command about to run: shown with --verbose, always logged. */
  command(argv: readonly string[]): void {
    const line = "$ " + argv.map(shellQuote).join(" ");
    if (this.verbose) this.say(line, this.color(2, line));
    else this.record(line);
  }

  /** A transient status line for long steps; only drawn on a terminal. */
  progress(text: string): void {
    if (this.quiet || !this.tty) return;
    this.stream.write(`\r\x1b[2K  ${text}`);
    this.progressShown = true;
  }

  private clearProgress(): void {
    if (this.progressShown) {
      this.stream.write("\r\x1b[2K");
      this.progressShown = false;
    }
  }

  /** Run one named stage, print its line with the time it took. */
  async stage<T>(name: string, fn: () => Promise<T>, detail?: (result: T) => string): Promise<T> {
    const start = process.hrtime.bigint();
    this.record(`== stage ${name}`);
    try {
      const result = await fn();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.timings.push({ stage: name, seconds });
      const extra = detail ? `  ${detail(result)}` : "";
      const rest = ` ${name.padEnd(9)} ${seconds.toFixed(1).padStart(6)}s${extra}`;
      this.say(`✓${rest}`, `${this.color(32, "✓")}${rest}`);
      return result;
    } catch (e) {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const rest = ` ${name.padEnd(9)} ${seconds.toFixed(1).padStart(6)}s`;
      this.say(`✗${rest}`, `${this.color(31, "✗")}${rest}`);
      throw e;
    }
  }

  /** The per-stage times as one summary line (printed at the end of a build). */
  timingSummary(): string {
    const total = this.timings.reduce((s, t) => s + t.seconds, 0);
    return this.timings.map((t) => `${t.stage} ${t.seconds.toFixed(1)}s`).join(", ") + ` | total ${total.toFixed(1)}s`;
  }

  /**
   * The error a run ends with, whole, into the log file only (the terminal gets its one line
   * from the CLI): its message, hint, the tools' output it carries, and the stack.
   */
  recordFailure(e: unknown): void {
    const err = e as { message?: string; hint?: string; debug?: string; stack?: string };
    this.record(["===== failed: " + (err?.message ?? String(e)), err?.hint && `hint: ${err.hint}`, err?.debug, err?.stack].filter(Boolean).join("\n"));
  }

  /** Keep the last `keep` logs: file -> file.1 -> ... (a new run starts a new file). */
  static rotate(file: string, keep: number): void {
    if (!fs.existsSync(file)) return;
    for (let i = keep - 1; i >= 1; i--) {
      const from = i === 1 ? file : `${file}.${i - 1}`;
      if (fs.existsSync(from)) fs.renameSync(from, `${file}.${i}`);
    }
  }

  close(): void {
    this.clearProgress();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
