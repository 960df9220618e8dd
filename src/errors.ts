/**
 * The one error class democd throws on purpose. `message` is the short line a user
 * sees; `hint` says how to fix it; `debug` carries the long story (tool output, stack)
 * that goes to the build log only.
 */
export class DemocdError extends Error {
  readonly hint?: string;
  readonly debug?: string;

  constructor(message: string, options: { hint?: string; debug?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "DemocdError";
    this.hint = options.hint;
    this.debug = options.debug;
  }

  /** One line for the terminal: the message, then the hint if any. */
  get userLine(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

export function isDemocdError(e: unknown): e is DemocdError {
  return e instanceof DemocdError;
}
