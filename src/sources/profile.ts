import path from "node:path";
import type { Config } from "../config/schema.ts";
import { need, type BuildContext, type IsoLayout, type Source } from "../context.ts";
import { DemocdError } from "../errors.ts";
import { requireTools, type ToolName } from "../exec.ts";
import { BIOS_PLATFORM, EFI_PLATFORM, GRUB_LIB, makeGrubImages } from "../iso/grub-images.ts";
import { volumeId } from "../iso/xorriso.ts";
import { mediumZisofs } from "./medium-compression.ts";
import { cdEspFiles } from "../efi/esp-files.ts";
import { signXen } from "../efi/user-key.ts";
import { menuEntries } from "../render/grub.ts";
import { xenCfg } from "../render/xen-cfg.ts";
import { assembleIrtree, installBootFiles, installKernelModules } from "../stages/assemble.ts";
import { fetchComponents, type BootInputs } from "../stages/fetch.ts";
import { SECURE_BOOT_DER, renderBootFiles, writeManifest } from "../stages/render.ts";
import { compressorTools } from "../archive/compress.ts";

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;


/**
 * What the debian and minimal profiles share: Debian's kernel, Xen and busybox fetched by
 * exact version, the medium's /boot and initrd tree made from them, and democd's own menu,
 * /linuxrc and manifest rendered from the config. They differ in their root.
 */
export abstract class ProfileSource implements Source {
  readonly system = true;
  abstract readonly installer: boolean;
  readonly rootpatch: string;

  constructor(protected readonly config: Config) {
    this.rootpatch = path.join(config.profileDir, "rootpatch");
  }

  get label(): string {
    return `profile ${this.config.profile}`;
  }

  refuse(_config: Config): string[] {
    return [];
  }

  /** The tools its stages run, told before any work. */
  protected tools(): ToolName[] {
    return [
      "apt-cache", "apt-get", "dpkg-deb", "depmod", "nice", "openssl", ...compressorTools(this.config.initrd.compression),
      ...(this.config.formats.includes("iso") ? (["grub-mkimage", "mformat", "mmd", "mcopy"] as const) : []),
      ...(this.config.secureBoot.key ? (["objcopy", "sbsign", "sbverify"] as const) : []),
    ];
  }

  async check(_ctx: BuildContext): Promise<void> {
    await requireTools(...this.tools());
  }

  async fetch(ctx: BuildContext): Promise<string> {
    const c = await fetchComponents(ctx, (inputs) => {
      if (!ctx.epochFromEnv) ctx.sourceDateEpoch = inputs.epoch;
      this.bootInputsReady(ctx, inputs);
    });
    ctx.components = c;
    ctx.bootVersions = { kernel: c.kernel.release, xen: c.xen.release };
    return `linux ${c.kernel.pkg.version}, xen ${c.xen.pkg.version}, busybox ${c.busybox.pkg.version}`;
  }

  /** Told during fetch, once the build's date and the hypervisor are known: work that needs only them may start. */
  protected bootInputsReady(_ctx: BuildContext, _inputs: BootInputs): void {}

  abstract root(ctx: BuildContext): Promise<string>;

  async boot(ctx: BuildContext): Promise<string> {
    const modules = installKernelModules(ctx);
    installBootFiles(ctx);
    const ir = await assembleIrtree(ctx);
    ctx.initrdSegments = [{ compression: this.config.initrd.compression, members: [] }];
    return `, ${modules} kernel modules on the medium, ${ir.modules} in the initrd (+ sfdisk, resize2fs: ${mb(ir.growBytes)})`;
  }

  async render(ctx: BuildContext): Promise<string> {
    renderBootFiles(ctx);
    writeManifest(ctx);
    return `id ${ctx.mediaId}`;
  }

  /** With the user's Secure Boot key: one Xen image signed with it, carrying its xen.cfg (the menu's Xen entries), kernel and initrd. */
  private async signedXen(ctx: BuildContext): Promise<string | undefined> {
    const { key, cert } = this.config.secureBoot;
    if (!key || !cert) return undefined;
    const xen = need(ctx.components, "components").xen;
    if (!xen.xenEfi) throw new DemocdError(`${xen.pkg.name} ${xen.pkg.version} has no /boot/xen-*.efi to sign`, { hint: "choose a xen-hypervisor-* package built with EFI support, or leave --secure-boot-key out" });
    const payload = {
      cfg: xenCfg(menuEntries(this.config, need(ctx.bootVersions, "bootVersions").kernel)),
      kernel: path.join(ctx.paths.boot, "vmlinuz"),
      initrd: path.join(ctx.paths.boot, "initrd.img"),
    };
    return signXen(xen.xenEfi, xen.release, payload, { key, cert }, path.join(ctx.paths.work, "secure-boot"), ctx.log);
  }

  /** The trees in place, GRUB's own modules beside them, and both boot modes' images. */
  async isoLayout(ctx: BuildContext): Promise<IsoLayout> {
    const efi = need(ctx.components, "components").efi;
    const signedXen = await this.signedXen(ctx);
    const user = signedXen ? { xen: signedXen, cert: path.join(ctx.paths.democd, SECURE_BOOT_DER) } : undefined;
    // An ESP with a Xen signed for this build alone (signatures carry their time) is not cached.
    const espDir = user ? path.dirname(user.xen) : undefined;
    const images = await makeGrubImages(ctx.paths.cache, ctx.sourceDateEpoch, cdEspFiles(efi, user), ctx.log, espDir);
    return {
      volid: volumeId(this.config.version),
      grafts: [
        { iso: "/", host: ctx.paths.usr, zisofs: mediumZisofs(this.config) },
        { iso: "/boot", host: ctx.paths.boot },
        { iso: "/democd", host: ctx.paths.democd },
        { iso: `/boot/grub/${BIOS_PLATFORM}`, host: path.join(GRUB_LIB, BIOS_PLATFORM) },
        // At exactly the signed GRUB's version: it loads multiboot2.mod from here when Secure Boot is off.
        { iso: `/boot/grub/${EFI_PLATFORM}`, host: efi.modules },
      ],
      // grub-efi-amd64-bin's unsigned whole-GRUB images: the medium boots the signed one (15 MB).
      exclude: [path.join(efi.modules, "monolithic")],
      bios: { eltorito: images.eltorito, mbr: images.mbr },
      efi: { image: images.efiImg },
    };
  }
}
