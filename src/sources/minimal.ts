import type { Config } from "../config/schema.ts";
import type { BuildContext } from "../context.ts";
import { makeMinimalRoot } from "../stages/root.ts";
import { ProfileSource } from "./profile.ts";

/** The minimal profile: a busybox userland, no root needed; no Xen toolstack, no ssh. */
export class MinimalSource extends ProfileSource {
  readonly installer = false;

  override refuse(config: Config): string[] {
    const refused: string[] = [];
    if (config.guests.length) refused.push("guests: the minimal profile has no Xen toolstack to run them (use --profile debian)");
    if (config.ssh.keys.length) refused.push("ssh.keys: the minimal profile has no ssh server (use --profile debian)");
    if (config.debian.packages.length) refused.push("debian.packages: the minimal profile's root is busybox, not Debian's packages (use --profile debian)");
    if (config.debian.hvm) refused.push("debian.hvm: the minimal profile has no Xen toolstack to run HVM guests (use --profile debian)");
    return refused;
  }

  async root(ctx: BuildContext): Promise<string> {
    await makeMinimalRoot(ctx);
    return "profile minimal";
  }
}
