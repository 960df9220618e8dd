import { bootstrapMode } from "../debian/bootstrap.ts";
import { checkRootless } from "../debian/rootless.ts";
import { need, type BuildContext } from "../context.ts";
import type { ToolName } from "../exec.ts";
import { makeDebianRoot, startBootstrap, type StartedBootstrap } from "../stages/root-debian.ts";
import type { BootInputs } from "../stages/fetch.ts";
import { ProfileSource } from "./profile.ts";

/** The debian profile: a root bootstrapped by mmdebstrap with the Xen toolstack, sshd and democd-install. */
export class DebianSource extends ProfileSource {
  readonly installer = true;

  protected override tools(): ToolName[] {
    return [...super.tools(), "mmdebstrap", "grub-mkimage", "xz"];
  }

  override async check(ctx: BuildContext): Promise<void> {
    await super.check(ctx);
    // Told before fetching anything: what an ordinary user's bootstrap needs from the host.
    if (bootstrapMode() === "unshare") await checkRootless();
  }

  private bootstrap?: Promise<StartedBootstrap>;
  private readonly stopBootstrap = new AbortController();

  /** The bootstrap starts as soon as fetch knows the build's date and the hypervisor, beside the rest of fetch. */
  protected override bootInputsReady(ctx: BuildContext, inputs: BootInputs): void {
    this.bootstrap = startBootstrap(ctx, inputs.xen, this.stopBootstrap.signal);
    // Its failure is the root stage's to report; until then it must not count as unhandled.
    this.bootstrap.catch(() => undefined);
  }

  override async fetch(ctx: BuildContext): Promise<string> {
    try {
      return await super.fetch(ctx);
    } catch (e) {
      // A failed fetch ends the build: mmdebstrap is stopped, not left running behind it.
      this.stopBootstrap.abort();
      await this.bootstrap?.catch(() => undefined);
      throw e;
    }
  }

  async root(ctx: BuildContext): Promise<string> {
    const r = await makeDebianRoot(ctx, this.bootstrap ?? startBootstrap(ctx, need(ctx.components, "components").xen.pkg));
    return `profile debian, ${this.config.debian.suite} ${r.reused ? "bootstrap reused" : "bootstrapped"} (${ctx.rootPackages?.length} packages)`;
  }
}
