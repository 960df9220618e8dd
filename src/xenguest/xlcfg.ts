import type { ConfigProblem } from "./shellvars.ts";

/**
 * guest.cfg and guest.d/*: xl's config syntax (libxlu): `key = value` settings ended by a
 * newline or `;`, values are strings ("..." or '...', with backslash escapes), numbers, or
 * lists `[ "a", "b" ]` that may span lines; `#` starts a comment. The text is kept as read
 * and edits replace the span of one setting, so comments and layout survive.
 */
export type XlValue = { kind: "string"; value: string } | { kind: "number"; raw: string } | { kind: "list"; items: XlValue[] };

export interface XlSetting {
  key: string;
  /** `=` or `+=` (xl appends to a list or string). */
  op: "=" | "+=";
  value: XlValue;
  /** The setting's span in the text: from its key to the end of its value. */
  start: number;
  end: number;
  line: number;
}

export interface XlConfig {
  text: string;
  settings: XlSetting[];
  problems: ConfigProblem[];
}

type Tok =
  | { t: "id"; v: string; s: number; e: number; line: number }
  | { t: "str"; v: string; s: number; e: number; line: number }
  | { t: "num"; v: string; s: number; e: number; line: number }
  | { t: "punct"; v: string; s: number; e: number; line: number }
  | { t: "nl"; s: number; e: number; line: number };

const ESCAPES: Record<string, string> = { '"': '"', "'": "'", "\\": "\\", a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

function tokenize(text: string, problems: ConfigProblem[]): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      toks.push({ t: "nl", s: i, e: i + 1, line });
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") i++;
    else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      toks.push({ t: "id", v: m[0], s: i, e: i + m[0].length, line });
      i += m[0].length;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?)/.exec(text.slice(i));
      if (!m) {
        problems.push({ line, message: `unexpected ${JSON.stringify(c)}` });
        i++;
        continue;
      }
      toks.push({ t: "num", v: m[0], s: i, e: i + m[0].length, line });
      i += m[0].length;
    } else if (c === '"' || c === "'") {
      const s = i;
      let v = "";
      i++;
      let closed = false;
      while (i < text.length) {
        const d = text[i];
        if (d === c) {
          closed = true;
          i++;
          break;
        }
        if (d === "\n") break;
        if (d === "\\") {
          const n = text[i + 1];
          if (n !== undefined && n in ESCAPES) {
            v += ESCAPES[n];
            i += 2;
            continue;
          }
          problems.push({ line, message: `invalid escape \\${n ?? ""} in a string` });
          i += 2;
          continue;
        }
        v += d;
        i++;
      }
      if (!closed) problems.push({ line, message: "unterminated string" });
      toks.push({ t: "str", v, s, e: i, line });
    } else if ("=[],;+".includes(c)) {
      if (c === "+" && text[i + 1] === "=") {
        toks.push({ t: "punct", v: "+=", s: i, e: i + 2, line });
        i += 2;
      } else {
        toks.push({ t: "punct", v: c, s: i, e: i + 1, line });
        i++;
      }
    } else {
      problems.push({ line, message: `unexpected ${JSON.stringify(c)}` });
      i++;
    }
  }
  return toks;
}

export function parseXlConfig(text: string): XlConfig {
  const problems: ConfigProblem[] = [];
  const toks = tokenize(text, problems);
  const settings: XlSetting[] = [];
  let p = 0;
  const skipToEnd = () => {
    while (p < toks.length && toks[p].t !== "nl" && !(toks[p].t === "punct" && (toks[p] as { v: string }).v === ";")) p++;
    p++;
  };
  const value = (): XlValue | undefined => {
    const t = toks[p];
    if (!t) return undefined;
    if (t.t === "str") {
      p++;
      return { kind: "string", value: t.v };
    }
    if (t.t === "num") {
      p++;
      return { kind: "number", raw: t.v };
    }
    if (t.t === "punct" && t.v === "[") {
      p++;
      const items: XlValue[] = [];
      for (;;) {
        while (toks[p]?.t === "nl") p++;
        const u = toks[p];
        if (!u) return undefined;
        if (u.t === "punct" && u.v === "]") {
          p++;
          return { kind: "list", items };
        }
        const item = value();
        if (!item || item.kind === "list") return undefined;
        items.push(item);
        while (toks[p]?.t === "nl") p++;
        const sep = toks[p];
        if (sep?.t === "punct" && sep.v === ",") p++;
        else if (!(sep?.t === "punct" && sep.v === "]")) return undefined;
      }
    }
    return undefined;
  };
  while (p < toks.length) {
    const t = toks[p];
    if (t.t === "nl" || (t.t === "punct" && t.v === ";")) {
      p++;
      continue;
    }
    if (t.t !== "id") {
      problems.push({ line: t.line, message: "expected a setting (key = value)" });
      skipToEnd();
      continue;
    }
    const op = toks[p + 1];
    if (!(op?.t === "punct" && (op.v === "=" || op.v === "+="))) {
      problems.push({ line: t.line, message: `${t.v}: expected = after the key` });
      skipToEnd();
      continue;
    }
    p += 2;
    const v = value();
    const after = toks[p];
    if (!v || (after && !(after.t === "nl" || (after.t === "punct" && after.v === ";")))) {
      problems.push({ line: t.line, message: `${t.v}: the value must be a "string", a number or a [ list ] of them` });
      skipToEnd();
      continue;
    }
    settings.push({ key: t.v, op: (op as { v: string }).v as "=" | "+=", value: v, start: t.s, end: toks[p - 1].e, line: t.line });
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { text, settings, problems };
}

export function quoteXlString(s: string): string {
  return `"${s.replace(/[\\"]/g, "\\$&").replace(/\t/g, "\\t")}"`;
}

export function formatXlValue(v: XlValue): string {
  if (v.kind === "string") return quoteXlString(v.value);
  if (v.kind === "number") return v.raw;
  return `[ ${v.items.map(formatXlValue).join(", ")} ]`;
}

export const xlString = (value: string): XlValue => ({ kind: "string", value });
export const xlNumber = (n: number): XlValue => ({ kind: "number", raw: String(n) });
export const xlList = (items: string[]): XlValue => ({ kind: "list", items: items.map(xlString) });

/** The effective value of a key: the last `=`, with later `+=` appended. */
export function getXl(cfg: XlConfig, key: string): XlValue | undefined {
  let v: XlValue | undefined;
  for (const s of cfg.settings) {
    if (s.key !== key) continue;
    if (s.op === "=" || !v) v = s.value;
    else if (v.kind === "list" && s.value.kind === "list") v = { kind: "list", items: [...v.items, ...s.value.items] };
    else if (v.kind === "string" && s.value.kind === "string") v = { kind: "string", value: v.value + s.value.value };
    else v = s.value;
  }
  return v;
}

/** A commented-out setting of this key (`# name = ""`), as the original's default guest.cfg has. */
function commentedLine(text: string, key: string): { start: number; end: number } | undefined {
  const re = new RegExp(`^[ \\t]*#[ \\t]*${key}[ \\t]*=.*$`, "m");
  const m = re.exec(text);
  return m ? { start: m.index, end: m.index + m[0].length } : undefined;
}

/** Whether this file mentions the key at all (set or commented out). */
export function mentions(cfg: XlConfig, key: string): boolean {
  return cfg.settings.some((s) => s.key === key) || commentedLine(cfg.text, key) !== undefined;
}

function splice(cfg: XlConfig, start: number, end: number, insert: string): XlConfig {
  return parseXlConfig(cfg.text.slice(0, start) + insert + cfg.text.slice(end));
}

/**
 * Set a key: its last setting is replaced in place and earlier ones dropped; else a
 * commented-out line for it becomes the setting; else a line is appended.
 */
export function setXl(cfg: XlConfig, key: string, value: XlValue): XlConfig {
  const line = `${key} = ${formatXlValue(value)}`;
  const mine = cfg.settings.filter((s) => s.key === key);
  if (mine.length) {
    let out = cfg;
    // From the end, so earlier spans stay valid; every setting but the last is removed.
    for (const s of [...mine].reverse()) {
      const isLast = s === mine.at(-1);
      const cur = out.settings.find((x) => x.key === key && x.line === s.line)!;
      out = isLast ? splice(out, cur.start, cur.end, line) : removeLine(out, cur);
    }
    return out;
  }
  const c = commentedLine(cfg.text, key);
  if (c) return splice(cfg, c.start, c.end, line);
  const sep = cfg.text === "" || cfg.text.endsWith("\n") ? "" : "\n";
  return parseXlConfig(`${cfg.text}${sep}${line}\n`);
}

function removeLine(cfg: XlConfig, s: XlSetting): XlConfig {
  let end = s.end;
  if (cfg.text[end] === ";") end++;
  if (cfg.text[end] === "\n") end++;
  return splice(cfg, s.start, end, "");
}

/** Disable a key, as the original's `--xen-name=`: its settings become one comment line. */
export function disableXl(cfg: XlConfig, key: string): XlConfig {
  const mine = cfg.settings.filter((s) => s.key === key);
  if (!mine.length) return cfg;
  const last = getXl(cfg, key)!;
  let out = cfg;
  for (const s of [...mine].reverse()) {
    const cur = out.settings.find((x) => x.key === key && x.line === s.line)!;
    out = s === mine[0] ? splice(out, cur.start, cur.end, `# ${key} = ${formatXlValue(last)}`) : removeLine(out, cur);
  }
  return out;
}
