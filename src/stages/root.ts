import fs from "node:fs";
import path from "node:path";
import { busyboxApplets, installBusybox } from "../busybox.ts";
import { INSTALL_KIT } from "../disk/install-kit.ts";
import { need, type BuildContext } from "../context.ts";
import { sha256 } from "../hash.ts";
import { freshDir, mirrorTree, symlink } from "../fsutil.ts";
import { mediumModulesPath } from "./assemble.ts";
import { overlayTree } from "../overlay.ts";
import { DEMO_ROOT_PASSWORD, hashPassword, saltFrom } from "../password.ts";
import { renderText } from "../render/ejs.ts";

/** Top-level directories of the mutable root, with their modes. */
const ROOT_DIRS: [string, number][] = [
  ["dev", 0o755], ["proc", 0o555], ["sys", 0o555], ["run", 0o755], ["tmp", 0o1777], ["root", 0o700],
  ["home", 0o755], ["mnt", 0o755], ["media", 0o755], ["usr", 0o755], ["etc", 0o755],
  ["var", 0o755], ["var/log", 0o755], ["var/tmp", 0o1777], ["var/run", 0o755],
];

/** Merged /usr: the root's bin, sbin, lib point into the medium. */
export const MERGED_USR_LINKS = ["bin", "sbin", "lib", "lib64"];

/**
 * The demo domains' network: dom0's bridge, host-only, link-local (the original CD's
 * 169.254.1.<n> convention); guests take addresses from .1 up.
 */
export const DEMO_NET = { bridge: "xenbr0", prefix: "169.254.1", dom0: "169.254.1.254", netmask: "255.255.255.0", cidr: 24 } as const;

/** Domain 0's port SSH_PORT_BASE+N leads to demo guest N's ssh (xen_nat_enable), as on the original CD. */
export const SSH_PORT_BASE = 2200;

/**
 * Variables every root template sees: the build's facts, which every source has (an unpacked
 * medium's motd is matched against them). `sshPasswordLogin` defaults to what the config says.
 */
export function rootTemplateVars(ctx: BuildContext, sshPasswordLogin?: boolean): Record<string, unknown> {
  const v = need(ctx.bootVersions, "bootVersions");
  return {
    version: ctx.config.version,
    builder: ctx.config.builder,
    hostname: ctx.config.hostname,
    serialSpeed: ctx.config.boot.serialSpeed,
    kernelVersion: v.kernel,
    xenVersion: v.xen,
    buildDate: new Date(ctx.sourceDateEpoch * 1000).toISOString().slice(0, 10),
    rootPasswordHash: ctx.rootPasswordHash,
    passwordChangedDays: Math.floor(ctx.sourceDateEpoch / 86400),
    guestMemory: ctx.config.guest.memory,
    demoNet: DEMO_NET,
    sshPortBase: SSH_PORT_BASE,
    // The documented default is no secret: over ssh, root then needs a key.
    sshPasswordLogin: sshPasswordLogin ?? (ctx.config.rootPassword !== undefined && ctx.config.rootPassword !== DEMO_ROOT_PASSWORD),
    defaultPassword: DEMO_ROOT_PASSWORD,
    installKit: INSTALL_KIT,
    // The live medium's text; installedMotd renders the installed system's.
    installed: false,
  };
}

/** The root password's SHA-512 crypt hash, with a salt derived from the build (reproducible). */
export async function hashRootPassword(ctx: BuildContext): Promise<string> {
  if (ctx.config.rootPassword === undefined) {
    ctx.log.warn(`no --root-password given: root's password is the documented demo default "${DEMO_ROOT_PASSWORD}"`);
  }
  const salt = saltFrom(sha256(`${ctx.config.hostname}\0${ctx.config.version}\0${ctx.sourceDateEpoch}`));
  return hashPassword(ctx.config.rootPassword ?? DEMO_ROOT_PASSWORD, salt, ctx.log);
}

/** templates/<profile>/usr and /root over the trees, *.ejs rendered with the root's variables. */
export function renderProfileTemplates(ctx: BuildContext): void {
  const { profile, profileDir } = ctx.config;
  const vars = { ...rootTemplateVars(ctx), rootPasswordHash: need(ctx.rootPasswordHash, "rootPasswordHash") };
  const profileTemplates = path.join(profileDir, "templates", profile);
  const render = (rel: string, text: string) => renderText(text, vars, `${profileTemplates}/${rel}.ejs`);
  overlayTree(path.join(profileTemplates, "usr"), ctx.paths.usr, { render, label: `templates/${profile}/usr` });
  overlayTree(path.join(profileTemplates, "root"), ctx.paths.root, { render, label: `templates/${profile}/root` });
}

/** The minimal profile: a busybox userland on the medium and a small /etc in the root. */
export async function makeMinimalRoot(ctx: BuildContext): Promise<void> {
  const { root, usr } = ctx.paths;
  const c = need(ctx.components, "components");
  freshDir(root);
  // Emptied but for the kernel modules, which the assemble stage mirrors in place.
  mirrorTree(undefined, usr, { owned: [mediumModulesPath(ctx)] });
  ctx.rootPasswordHash = await hashRootPassword(ctx);

  const applets = await busyboxApplets(c.busybox.binary, ctx.log);
  installBusybox(c.busybox.binary, applets, usr, true);

  for (const [dir, mode] of ROOT_DIRS) {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.chmodSync(path.join(root, dir), mode);
  }
  for (const link of MERGED_USR_LINKS) {
    if (link === "lib64" && !fs.existsSync(path.join(usr, "lib64"))) continue;
    symlink(`usr/${link}`, path.join(root, link));
  }
  renderProfileTemplates(ctx);
  fs.chmodSync(path.join(root, "etc", "shadow"), 0o600);
}
