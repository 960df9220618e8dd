import fs from "node:fs";
import path from "node:path";
import type { BuildContext } from "../context.ts";
import { renderText } from "../render/ejs.ts";
import { rootTemplateVars } from "./root.ts";

/**
 * /etc/motd for the installed system (disk images, democd-install): the profile's motd.ejs
 * rendered with `installed`, where the live one speaks of a RAM disk and the CD. Undefined
 * when the root's /etc/motd is not the one the profile rendered (a rootpatch's, an unpacked
 * CD's): that one is the user's, and stays as it is.
 */
export function installedMotd(ctx: BuildContext): string | undefined {
  if (!ctx.components || !ctx.rootPasswordHash) return undefined;
  const template = path.join(ctx.config.profileDir, "templates", ctx.config.profile, "root", "etc", "motd.ejs");
  const live = path.join(ctx.paths.root, "etc", "motd");
  if (!fs.existsSync(template) || !fs.existsSync(live)) return undefined;
  const text = fs.readFileSync(template, "utf8");
  const vars = rootTemplateVars(ctx);
  if (renderText(text, vars, template) !== fs.readFileSync(live, "utf8")) return undefined;
  return renderText(text, { ...vars, installed: true }, template);
}
