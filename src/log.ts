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

  private say(line: string): void {
    this.record(line);
    if (this.quiet) return;
    this.clearProgress();
    this.stream.write(line + "\n");
  }

  info(message: string): void {
    this.say(message);
  }

  warn(message: string): void {
    this.say(this.color(33, `warning: ${message}`));
  }

  error(message: string): void {
    this.say(this.color(31, `error: ${message}`));
  }

  /** A command about to run: shown with --verbose, always logged. */
  command(argv: readonly string[]): void {
    const line = "$ " + argv.map(shellQuote).join(" ");
    if (this.verbose) this.say(this.color(2, line));
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
      this.say(`${this.color(32, "✓")} ${name.padEnd(9)} ${seconds.toFixed(1).padStart(6)}s${extra}`);
      return result;
    } catch (e) {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.say(`${this.color(31, "✗")} ${name.padEnd(9)} ${seconds.toFixed(1).padStart(6)}s`);
      throw e;
    }
  }

  /** The per-stage times as one summary line (printed at the end of a build). */
  timingSummary(): string {
    const total = this.timings.reduce((s, t) => s + t.seconds, 0);
    return this.timings.map((t) => `${t.stage} ${t.seconds.toFixed(1)}s`).join(", ") + ` | total ${total.toFixed(1)}s`;
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
