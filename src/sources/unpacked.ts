import fs from "node:fs";
import path from "node:path";
import { compressorTools } from "../archive/compress.ts";
import type { TreeRecord } from "../archive/safe-tree.ts";
import { loadConfig, type ConfigSources } from "../config/load.ts";
import { publicConfig, type Config } from "../config/schema.ts";
import type { BuildContext, IsoLayout, Source } from "../context.ts";
import { envSourceDateEpoch } from "../epoch.ts";
import { DemocdError } from "../errors.ts";
import { requireTools, run } from "../exec.ts";
import { freshDir, linkTree, removeTree } from "../fsutil.ts";
import { volumeId } from "../iso/xorriso.ts";
import { mediumZisofs } from "./medium-compression.ts";
import { OUTPUT_FORMATS } from "../outputs/formats.ts";
import { grubCfgFor } from "../stages/render.ts";
import { replayOptions } from "../unpack/boot-records.ts";
import { UNPACK_INFO, type UnpackInfo } from "../unpack/unpack-iso.ts";

export function readUnpackInfo(dir: string): UnpackInfo {
  const file = path.join(dir, UNPACK_INFO);
  if (!fs.existsSync(file)) throw new DemocdError(`${dir} was not made by unpack-iso (no ${UNPACK_INFO})`, { hint: "run ./make.ts unpack-iso ISO DIR first" });
  return JSON.parse(fs.readFileSync(file, "utf8")) as UnpackInfo;
}

/** The config of a rebuild: the recovered democd.json, then --config, then flags. */
export function loadConfigFrom(dir: string, sources: ConfigSources): Config {
  readUnpackInfo(dir);
  const recovered = path.join(dir, "democd.json");
  const base = fs.existsSync(recovered) ? (JSON.parse(fs.readFileSync(recovered, "utf8")) as Record<string, unknown>) : {};
  return loadConfig({ ...sources, base });
}

export function readRecord(file: string): TreeRecord {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as TreeRecord) : { owners: {}, devices: [] };
}

/** Epoch of a rebuild: SOURCE_DATE_EPOCH, else the original build's, else the medium's own date. */
export function rebuildEpoch(info: UnpackInfo, env = process.env): number {
  const fromEnv = envSourceDateEpoch(env);
  if (fromEnv !== undefined) return fromEnv;
  if (info.sourceDateEpoch) return info.sourceDateEpoch;
  const d = info.boot.modificationDate;
  if (d && /^\d{14}/.test(d)) return Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(8, 10), +d.slice(10, 12), +d.slice(12, 14)) / 1000;
  return Math.floor(Date.now() / 1000);
}

/** What a rebuild may change: where and what it writes. Everything else is the medium's. */
const APPLIED = new Set(["out", "formats", "disk", "vm", "buildDir", "profileDir"]);

/** Where in an unpacked democd medium a setting's effect lives, so a refusal can say what to edit. */
const WHERE: [prefix: string, where: string][] = [
  ["boot.", "work/boot/grub/grub.cfg"],
  ["initrd.", "irtree/linuxrc"],
  ["rootPassword", "root/etc/shadow"],
  ["ssh.keys", "root/root/.ssh/authorized_keys"],
  ["guests", "usr/share/guests/ (copy the image there)"],
  ["hostname", "root/etc/hostname and root/etc/hosts"],
  ["guest.memory", "root/etc/democd/demo.cfg.in"],
];

/** Leaf settings as `a.b.c` -> JSON value (lists whole). */
function leaves(value: unknown, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) for (const [p, j] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(p, j);
  } else if (prefix) out.set(prefix, JSON.stringify(value));
  return out;
}

/** Whether a manifest's settings include `key`'s group (an unset optional setting is absent, an unknown one too). */
function knew(built: Map<string, string>, key: string): boolean {
  const parent = key.slice(0, key.lastIndexOf(".") + 1);
  return parent !== "" && [...built.keys()].some((k) => k.startsWith(parent));
}

/**
 * An unpacked medium (`unpack-iso DIR`) as the build's source. A democd medium brings its
 * root, usr, irtree (with its /linuxrc), /boot (with its grub.cfg) and /democd (id, manifest):
 * the same trees and facts a profile makes, for the same stages and writers. Another tool's
 * medium is only its usr tree and boot records, repacked as an ISO.
 */
export class UnpackedSource implements Source {
  readonly info: UnpackInfo;
  readonly system: boolean;
  readonly installer = false;
  readonly rootpatch: string;
  readonly label: string;

  constructor(readonly dir: string) {
    this.info = readUnpackInfo(dir);
    this.system = this.info.kind === "democd";
    this.rootpatch = path.join(dir, "rootpatch");
    this.label = `unpacked medium ${path.relative(process.cwd(), dir) || dir}`;
  }

  private manifest(): { kernel?: string; xen?: string; config?: Record<string, unknown> } {
    return JSON.parse(fs.readFileSync(path.join(this.dir, "work", "democd", "build.json"), "utf8"));
  }

  /**
   * A rebuild writes what the medium holds: a setting that would change it is refused, naming
   * the file that holds its effect. Disk images render their menu from the config, so they
   * are refused too when the medium's grub.cfg is not that menu (edited by hand, or rendered by
   * another democd), where the ISO and the disks would boot differently.
   */
  refuse(config: Config): string[] {
    const refused: string[] = [];
    const disks = config.formats.filter((f) => OUTPUT_FORMATS[f].disk);
    if (!this.system) {
      if (disks.length) refused.push(`formats: ${disks.join(", ")}: ${this.dir} holds another tool's medium, which only the iso writer can repack (--format iso)`);
      if (fs.existsSync(this.rootpatch) && fs.readdirSync(this.rootpatch).length) refused.push(`${this.rootpatch}: this medium was not made by democd and has no root to patch (edit ${this.dir}/usr instead, and empty rootpatch/)`);
    }
    if (config.secureBoot.key || config.secureBoot.cert) refused.push(`secureBoot: ${this.dir} keeps its medium's boot images; build from the profile to sign Xen with your key (without --from)`);
    const built = this.system ? leaves(this.manifest().config ?? {}) : leaves(publicConfig(loadConfig()));
    const defaultLeaves = leaves(publicConfig(loadConfig()));
    const now = leaves({ ...publicConfig(config), rootPassword: config.rootPassword, guests: config.guests, ssh: config.ssh });
    for (const [key, value] of now) {
      if (APPLIED.has(key.split(".")[0])) continue;
      const was = key === "rootPassword" ? undefined : key === "guests" || key === "ssh.keys" ? "[]" : built.get(key);
      if (was === undefined && key !== "rootPassword" && !knew(built, key)) continue; // a setting the medium's democd did not have
      if (was === undefined && key !== "rootPassword" && value === defaultLeaves.get(key)) continue; // ... nor its group's newer member, at its default
      if (value === was) continue;
      const where = WHERE.find(([p]) => key.startsWith(p))?.[1];
      const fix = !this.system ? `edit ${this.dir}/usr instead` : where ? `edit ${this.dir}/${where} instead` : "build it from the profile instead (without --from)";
      refused.push(`${key}: ${this.dir} keeps what its medium was built with${was && was !== "[]" ? ` (${was})` : ""}; ${fix}`);
    }
    if (this.system && disks.length && !refused.length) {
      const bootDir = path.join(this.dir, "work", "boot");
      const m = this.manifest();
      const ours = grubCfgFor(config, { kernel: m.kernel ?? "unknown", xen: m.xen ?? "unknown" }, { kind: "live" }, bootDir);
      const theirs = path.join(bootDir, "grub", "grub.cfg");
      if (!fs.existsSync(theirs) || fs.readFileSync(theirs, "utf8") !== ours) {
        refused.push(`formats: ${disks.join(", ")}: ${theirs} is not the menu democd renders from ${this.dir}/democd.json (edited by hand, or made by another democd version), and disk images would boot that rendered menu, not this one: restore it, or build --format iso only`);
      }
    }
    return refused;
  }

  async check(_ctx: BuildContext): Promise<void> {
    await requireTools("xorriso", ...(this.system ? (["cp"] as const) : []), ...(this.info.initrd?.segments ?? []).flatMap((s) => compressorTools(s.compression)));
  }

  /** Its versions and date, from the manifest it carries. */
  async fetch(ctx: BuildContext): Promise<string> {
    ctx.sourceDateEpoch = rebuildEpoch(this.info);
    if (!this.system) return `${this.label}: another tool's medium, repacked as it is`;
    const m = this.manifest();
    ctx.bootVersions = { kernel: m.kernel ?? "unknown", xen: m.xen ?? "unknown" };
    return `${this.label}: linux ${ctx.bootVersions.kernel}, xen ${ctx.bootVersions.xen}`;
  }

  /** The unpacked root copied with its owners (the unpack stays as the user left it); its usr tree in place. */
  async root(ctx: BuildContext): Promise<string> {
    removeTree(ctx.paths.root);
    await run("cp", ["-a", "--no-target-directory", path.join(this.dir, "root"), ctx.paths.root], { log: ctx.log });
    ctx.rootRecord = readRecord(path.join(this.dir, "work", "root.record.json"));
    ctx.paths.usr = path.join(this.dir, "usr");
    return `from ${this.dir}`;
  }

  /** The medium's /boot and /democd, and its initrd tree in the segments it came in. */
  async boot(ctx: BuildContext): Promise<string> {
    freshDir(ctx.paths.work);
    linkTree(path.join(this.dir, "work", "boot"), ctx.paths.boot);
    linkTree(path.join(this.dir, "work", "democd"), ctx.paths.democd);
    ctx.paths.irtree = path.join(this.dir, "irtree");
    ctx.irtreeRecord = readRecord(path.join(this.dir, "work", "irtree.record.json"));
    ctx.initrdSegments = this.info.initrd?.segments;
    return "";
  }

  /** It keeps its own menu, /linuxrc and manifest. */
  async render(ctx: BuildContext): Promise<string> {
    ctx.mediaId = this.info.id ?? fs.readFileSync(path.join(this.dir, "work", "democd", "id"), "utf8").trim();
    return `id ${ctx.mediaId}, the medium's own grub.cfg, /linuxrc and build.json`;
  }

  /** Its own boot records replayed, its trees in place. */
  async isoLayout(ctx: BuildContext): Promise<IsoLayout> {
    const usr = path.join(this.dir, "usr");
    return {
      volid: this.system ? volumeId(ctx.config.version) : (this.info.boot.volid ?? "CDROM"),
      grafts: this.system ? [{ iso: "/", host: usr, zisofs: mediumZisofs(ctx.config) }, { iso: "/boot", host: ctx.paths.boot }, { iso: "/democd", host: ctx.paths.democd }] : [{ iso: "/", host: usr }],
      replay: replayOptions(this.info.boot, path.join(this.dir, "work", "boot-records")),
    };
  }
}
