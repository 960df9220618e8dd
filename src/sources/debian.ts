import { bootstrapMode } from "../debian/bootstrap.ts";
import { checkRootless } from "../debian/rootless.ts";
import type { BuildContext } from "../context.ts";
import type { ToolName } from "../exec.ts";
import { makeDebianRoot } from "../stages/root-debian.ts";
import { ProfileSource } from "./profile.ts";

/** The debian profile: a root bootstrapped by mmdebstrap with the Xen toolstack, sshd and democd-install. */
export class DebianSource extends ProfileSource {
  readonly installer = true;

  protected override tools(): ToolName[] {
    return [...super.tools(), "mmdebstrap", "grub-mkimage"];
  }

  override async check(ctx: BuildContext): Promise<void> {
    await super.check(ctx);
    // Told before fetching anything: what an ordinary user's bootstrap needs from the host.
    if (bootstrapMode() === "unshare") await checkRootless();
  }

  async root(ctx: BuildContext): Promise<string> {
    const r = await makeDebianRoot(ctx);
    return `profile debian, ${this.config.debian.suite} ${r.reused ? "bootstrap reused" : "bootstrapped"} (${ctx.rootPackages?.length} packages)`;
  }
}
