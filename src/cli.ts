import fs from "node:fs";
import path from "node:path";
import type { Command, Option as OptionClass } from "commander";
import { build, createContext } from "./build.ts";
import { loadConfigFrom } from "./sources/unpacked.ts";
import { Logger } from "./log.ts";
import { unpackIso } from "./unpack/unpack-iso.ts";
import { bootInteractive } from "./boot/interactive.ts";
import { FIRMWARES, diskFormatOf, type Firmware } from "./boot/qemu.ts";
import { SSH_GUEST_PORTS, checkSshPort } from "./boot/ssh-forwards.ts";
import { checkWebPort } from "./boot/web-forward.ts";
import { loadConfig } from "./config/load.ts";
import { ENTRY_IDS, type EntryId } from "./config/schema.ts";
import { SETTINGS } from "./config/settings.ts";
import { doctor, formatDoctor } from "./doctor.ts";
import { diskFullError } from "./diskspace.ts";
import { DemocdError, isDemocdError } from "./errors.ts";
import { checkImage } from "./xenguest/check.ts";
import { createImage, dumpDiskConfig, dumpInit, dumpParamsConfig, dumpXenConfig, extractImage, packImage, updateImage } from "./xenguest/commands.ts";
import { OPTION_SPECS, ORDER_HELP, type XenguestOptions } from "./xenguest/ops.ts";

/** The CLI: each command turns its flags into library calls; errors become one line and exit 1. */
export async function runCli(argv: string[], program: Command, Option: typeof OptionClass): Promise<void> {
  program.name("democd").description("Build bootable Xen + Linux live demo ISOs").option("--verbose", "show the commands democd runs");

  const buildCmd = program
    .command("build")
    .description("fetch components, assemble the trees and master the ISO")
    .option("--config <file>", "JSON config file (all keys optional)")
    .option("--from <dir>", "rebuild a directory made by unpack-iso");
  for (const s of SETTINGS) {
    const shown = s.default !== undefined && !(Array.isArray(s.default) && s.default.length === 0) ? ` (default: ${s.default})` : "";
    buildCmd.addOption(new Option(s.flag, s.help + shown));
    // Both spellings, so a config file's true can be turned off on the command line.
    if (s.kind === "bool") buildCmd.addOption(new Option(s.flag.replace(/^--/, "--no-"), `turn off ${s.flag}`));
  }
  buildCmd.action(async (opts: Record<string, unknown>) => {
    const sources = { file: opts.config as string | undefined, cli: opts };
    const from = opts.from ? path.resolve(String(opts.from)) : undefined;
    const config = from ? loadConfigFrom(from, sources) : loadConfig(sources);
    const ctx = createContext(config, { verbose: program.opts().verbose, from });
    try {
      const r = await build(ctx);
      for (const o of r.outputs) ctx.log.info(`${path.relative(process.cwd(), o.file) || o.file}  sha256 ${o.sha256}`);
    } catch (e) {
      ctx.log.recordFailure(e);
      throw e;
    } finally {
      ctx.log.close();
    }
  });

  program
    .command("boot")
    .description("boot an ISO or a disk image (.raw .qcow2 .vhd .vmdk) in QEMU with its serial console on this terminal (Ctrl-A X quits; Ctrl-] reaches the machine)")
    .argument("<image>", "the ISO or disk image to boot (a disk is attached writable, as virtio)")
    .addOption(new Option("--entry <id>", "GRUB entry to pick").choices([...ENTRY_IDS]))
    .addOption(new Option("--firmware <fw>", "SeaBIOS, OVMF, or OVMF enforcing Secure Boot with Microsoft's keys (a private copy of its variables)").choices([...FIRMWARES]).default("bios"))
    .option("--memory <mb>", "memory of the QEMU machine in MB (demo guests need room beside dom0)", "3072")
    .addOption(new Option("--accel <a>", "tcg (always works) or kvm").choices(["tcg", "kvm"]).default("tcg"))
    .option("--usb", "attach the image as a USB stick instead of a CD")
    .option("--ssh <port>", `forward 127.0.0.1:PORT to the machine's ssh and PORT+1..PORT+${SSH_GUEST_PORTS} to its 2201.. (demo guests after xen_nat_enable; after xen_bridge_enable, the guests themselves)`)
    .option("--web <port>", "forward 127.0.0.1:PORT to domain 0's web console (its port 80), and print the page's address with its token once domain 0 is up")
    .action(async (iso: string, o: { entry?: EntryId; firmware: Firmware; memory: string; accel: "tcg" | "kvm"; usb?: boolean; ssh?: string; web?: string }) => {
      const memoryMb = Number(o.memory);
      if (!Number.isInteger(memoryMb) || memoryMb < 128) throw new DemocdError(`--memory: must be a whole number of MB (at least 128), got "${o.memory}"`);
      if (!fs.existsSync(iso)) throw new DemocdError(`${iso}: no such file`, { hint: "build one first: ./make.ts build" });
      const diskFormat = diskFormatOf(iso);
      if (diskFormat && o.usb) throw new DemocdError("--usb: only an ISO can be attached as a USB stick; a disk image is attached as a disk");
      const sshPort = o.ssh === undefined ? undefined : checkSshPort(o.ssh);
      const webPort = o.web === undefined ? undefined : checkWebPort(o.web, sshPort);
      const image = path.resolve(iso);
      const media = diskFormat ? { drives: [{ file: image, format: diskFormat }] } : { iso: image, usb: o.usb };
      const code = await bootInteractive({ ...media, firmware: o.firmware, memoryMb, accel: o.accel, sshPort, webPort }, o.entry);
      process.exitCode = code;
    });

  program
    .command("unpack-iso")
    .description("unpack an ISO (democd's or another tool's) into editable trees: usr/ root/ irtree/ rootpatch/ work/")
    .argument("<iso>", "the ISO to unpack")
    .argument("<dir>", "the directory to create")
    .option("--force", "replace a non-empty directory")
    .action(async (iso: string, dir: string, o: { force?: boolean }) => {
      const log = new Logger({ verbose: program.opts().verbose });
      try {
        const info = await log.stage("unpack", () => unpackIso(iso, dir, { force: o.force, log }), (i) => `${i.kind === "democd" ? "a democd medium" : "not a democd medium"} into ${dir}`);
        for (const r of info.refused) log.warn(`refused ${r}`);
        for (const c of info.bootConfigs ?? []) log.info(`  ${c.loader} config ${c.file}: kernels ${c.kernels.join(", ") || "none"}; initrds ${c.initrds.join(", ") || "none"}`);
        for (const i of info.initrds ?? []) log.info(`  initrd ${i.path} (${i.segments.join(" + ")}) unpacked into ${dir}/${i.dir}`);
        log.info(`edit ${dir}/${info.kind === "democd" ? "root, usr, irtree or rootpatch" : "usr"}, then: ./make.ts build --from ${dir} --out NEW.iso`);
      } finally {
        log.close();
      }
    });

  addXenguestCommands(program, Option);

  program
    .command("doctor")
    .description("list the host tools democd uses and the apt packages that provide them")
    .action(async () => {
      const rows = await doctor();
      console.log(formatDoctor(rows));
      if (rows.some((r) => !r.ok)) process.exitCode = 1;
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    const user = isDemocdError(e) ? e : diskFullError(e);
    if (user) {
      process.stderr.write(`democd: error: ${user.userLine}\n`);
    } else {
      process.stderr.write(`democd: internal error: ${(e as Error)?.stack ?? e}\n`);
    }
    process.exitCode = 1;
  }
}

/** `xenguest OP IMAGE`: make and edit Xen guest images (the format of meta-arm-autonomy's xenguest-mkimage). */
function addXenguestCommands(program: Command, Option: typeof OptionClass): void {
  const xg = program
    .command("xenguest")
    .description("create, check, edit, pack and extract Xen guest images (xenguest-mkimage's format)");
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  const withEditOptions = (cmd: Command) => {
    for (const spec of OPTION_SPECS) {
      const o = new Option(spec.flag, spec.repeat ? `${spec.help} (repeatable)` : spec.help);
      cmd.addOption(spec.repeat ? o.argParser(collect) : o);
    }
    cmd.addOption(new Option("--kernel <FILE>", "the same as --xen-kernel").hideHelp());
    cmd.addHelpText("after", `\n${ORDER_HELP}\n`);
    return cmd;
  };
  withEditOptions(xg.command("create").description("create an image: a file, or a directory if IMAGE is an empty directory").argument("<image>"))
    .action((image: string, o: XenguestOptions) => createImage(image, o));
  withEditOptions(xg.command("update").description("change an image (file or directory); it is left as it was if anything is wrong").argument("<image>"))
    .action((image: string, o: XenguestOptions) => updateImage(image, o));
  xg.command("check")
    .description("check an image: prints IMAGE: valid, or every problem (one a line) and exits 1")
    .argument("<image>")
    .action((image: string) => {
      const problems = checkImage(image);
      if (!problems.length) return void process.stdout.write(`${image}: valid\n`);
      for (const p of problems) process.stderr.write(`${image}: ${p}\n`);
      process.exitCode = 1;
    });
  const dumps: [string, string, (image: string) => string][] = [
    ["dump-xenconfig", "print the merged xl config (guest.cfg, then guest.d/* in name order)", dumpXenConfig],
    ["dump-diskconfig", "print disk.cfg", dumpDiskConfig],
    ["dump-paramsconfig", "print params.cfg", dumpParamsConfig],
    ["dump-init", "print the hooks in the order they run (init.pre, init.d, init.post)", dumpInit],
  ];
  for (const [name, description, dump] of dumps) {
    xg.command(name).description(description).argument("<image>").action((image: string) => void process.stdout.write(dump(image)));
  }
  xg.command("extract")
    .description("unpack an image file into a new or empty directory (hostile members refused, nothing written)")
    .argument("<image>")
    .argument("<dir>")
    .action((image: string, dir: string) => extractImage(image, dir));
  xg.command("pack")
    .description("pack an image directory into a file (reproducible: sorted, 0:0, mtimes SOURCE_DATE_EPOCH or 0)")
    .argument("<dir>")
    .argument("<image>")
    .option("--force", "replace an existing file")
    .action((dir: string, image: string, o: { force?: boolean }) => packImage(dir, image, o));
}
