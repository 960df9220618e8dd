import fs from "node:fs";
import path from "node:path";
import type { BuildContext } from "../context.ts";
import { renderText } from "../render/ejs.ts";
import { rootTemplateVars } from "./root.ts";

/**
 * /etc/motd for the installed system (disk images, democd-install): the profile's motd.ejs
 * rendered with `installed`, where the live one speaks of a RAM disk and the CD. Undefined
 * when the root's /etc/motd is not one the profile renders from this build's facts (a
 * rootpatch's, an unpacked CD's edited one): that one is the user's, and stays as it is. An
 * unpacked medium does not say whether its build allowed ssh passwords, so both texts match.
 */
export function installedMotd(ctx: BuildContext): string | undefined {
  if (!ctx.source.system) return undefined;
  const template = path.join(ctx.config.profileDir, "templates", ctx.config.profile, "root", "etc", "motd.ejs");
  const live = path.join(ctx.paths.root, "etc", "motd");
  if (!fs.existsSync(template) || !fs.existsSync(live)) return undefined;
  const text = fs.readFileSync(template, "utf8");
  const liveText = fs.readFileSync(live, "utf8");
  const configured = rootTemplateVars(ctx).sshPasswordLogin as boolean;
  for (const sshPasswordLogin of [configured, !configured]) {
    const vars = rootTemplateVars(ctx, sshPasswordLogin);
    if (renderText(text, vars, template) === liveText) return renderText(text, { ...vars, installed: true }, template);
  }
  return undefined;
}
