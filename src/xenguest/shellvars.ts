/**
 * params.cfg and disk.cfg: shell variable files (`GUEST_AUTOBOOT="1"`), read by a small
 * tokenizer of shell assignments and written back line by line, so comments and the order
 * of lines survive and a value with quotes, `&`, `@`, `$` or spaces round-trips. Expansions
 * (`$VAR`, `$(...)`, backticks) are refused: the files are data, not scripts.
 */

export interface ShellLine {
  /** The line as read (or as written by set). */
  raw: string;
  assign?: { key: string; value: string };
}

export interface ConfigProblem {
  /** 1-based line number, when the problem is on one line. */
  line?: number;
  message: string;
}

export interface ShellVarsFile {
  lines: ShellLine[];
  problems: ConfigProblem[];
}

export const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The value of one shell word (the text after `NAME=`), or why it cannot be read as data. */
export function parseShellWord(text: string): { value: string; rest: string } | { error: string } {
  let value = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t") break;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { error: "unterminated single quote" };
      value += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return { error: "unterminated double quote" };
        const d = text[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === "\\") {
          const n = text[i + 1];
          if (n === undefined) return { error: "unterminated double quote" };
          if ('$`"\\'.includes(n)) value += n;
          else value += "\\" + n;
          i += 2;
          continue;
        }
        if (d === "`" || (d === "$" && i + 1 < text.length && /[A-Za-z_{(0-9@*#?$!-]/.test(text[i + 1]))) {
          return { error: "uses a shell expansion ($ or `), which a data file must not" };
        }
        value += d;
        i++;
      }
    } else if (c === "\\") {
      if (i + 1 >= text.length) return { error: "a backslash at the end of the line (continued lines are not supported)" };
      value += text[i + 1];
      i += 2;
    } else if (c === "$" || c === "`") {
      if (c === "$" && (i + 1 >= text.length || !/[A-Za-z_{(0-9@*#?$!-]/.test(text[i + 1]))) {
        value += c;
        i++;
        continue;
      }
      return { error: "uses a shell expansion ($ or `), which a data file must not" };
    } else if (";&|<>()".includes(c)) {
      return { error: `unquoted ${JSON.stringify(c)} (quote the value)` };
    } else {
      value += c;
      i++;
    }
  }
  return { value, rest: text.slice(i) };
}

export function parseShellVars(text: string): ShellVarsFile {
  const problems: ConfigProblem[] = [];
  const rawLines = text.split("\n");
  if (rawLines.at(-1) === "") rawLines.pop();
  const lines = rawLines.map((raw, idx): ShellLine => {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return { raw };
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m) {
      problems.push({ line: idx + 1, message: "not a shell variable assignment (NAME=\"value\")" });
      return { raw };
    }
    const word = parseShellWord(m[2]);
    if ("error" in word) {
      problems.push({ line: idx + 1, message: `${m[1]}: ${word.error}` });
      return { raw };
    }
    const rest = word.rest.trim();
    if (rest !== "" && !rest.startsWith("#")) {
      problems.push({ line: idx + 1, message: `${m[1]}: unexpected text after the value: ${rest}` });
      return { raw };
    }
    return { raw, assign: { key: m[1], value: word.value } };
  });
  return { lines, problems };
}

/** A value as a double-quoted shell word: `"`, `\`, `$` and backtick escaped. */
export function quoteShell(value: string): string {
  return `"${value.replace(/[\\"$`]/g, "\\$&")}"`;
}

/** The value a shell would see after sourcing the file (the last assignment wins). */
export function getVar(f: ShellVarsFile, key: string): string | undefined {
  let v: string | undefined;
  for (const l of f.lines) if (l.assign?.key === key) v = l.assign.value;
  return v;
}

/** All variables, last assignment winning, in the order first seen. */
export function allVars(f: ShellVarsFile): Map<string, { value: string; line: number }> {
  const out = new Map<string, { value: string; line: number }>();
  f.lines.forEach((l, i) => {
    if (l.assign) out.set(l.assign.key, { value: l.assign.value, line: i + 1 });
  });
  return out;
}

/** Set a variable: the first assignment is rewritten in place (later ones dropped), or a line is appended. */
export function setVar(f: ShellVarsFile, key: string, value: string): void {
  if (!SHELL_NAME.test(key)) throw new Error(`internal: bad shell variable name ${key}`);
  if (/[\n\r\0]/.test(value)) throw new Error(`internal: ${key}: value with a line break`);
  const raw = `${key}=${quoteShell(value)}`;
  let done = false;
  f.lines = f.lines.flatMap((l) => {
    if (l.assign?.key !== key) return [l];
    if (done) return [];
    done = true;
    return [{ raw, assign: { key, value } }];
  });
  if (!done) f.lines.push({ raw, assign: { key, value } });
}

/** Remove every assignment of a variable. */
export function unsetVar(f: ShellVarsFile, key: string): void {
  f.lines = f.lines.filter((l) => l.assign?.key !== key);
}

export function formatShellVars(f: ShellVarsFile): string {
  return f.lines.map((l) => l.raw + "\n").join("");
}
