import fs from "node:fs";
import path from "node:path";
import ejs from "ejs";
import { DemocdError } from "../errors.ts";

/** Render template text with variables: pure, so tests can snapshot it. */
export function renderText(template: string, vars: object, filename = "template"): string {
  try {
    return ejs.render(template, vars as ejs.Data, { filename, async: false, strict: false, rmWhitespace: false, escape: (s: unknown) => String(s) }) as string;
  } catch (e) {
    throw new DemocdError(`cannot render ${filename}: ${(e as Error).message.split("\n").at(-1)}`, { hint: "fix the template", debug: String(e) });
  }
}

/** Render a template file from a templates directory. */
export function renderFile(templatesDir: string, name: string, vars: object): string {
  const file = path.join(templatesDir, name);
  if (!fs.existsSync(file)) throw new DemocdError(`template ${file} is missing`, { hint: "restore it from the democd sources" });
  return renderText(fs.readFileSync(file, "utf8"), vars, file);
}
