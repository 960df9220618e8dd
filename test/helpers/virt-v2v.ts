import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { resolveMirrors, sourceLines } from "../../src/debian/mirrors.ts";
import { REPO } from "./paths.ts";

/**
 * Debian's virt-v2v in a root of its own (mmdebstrap, cached in build/cache): installed on the
 * host it would bring systemd-sysv, udev, mdadm, exim4 and a kernel. Its `--print-source`
 * reads an OVA as an importer does: lists the tar, checks every manifest hash, parses the OVF.
 * No kernel: the check never boots a guest (about 70 s and 144 MB once, then 1 s a check).
 */
const ROOT = path.join(REPO, "build", "cache", "test-virt-v2v");

async function v2vRoot(): Promise<string> {
  if (fs.existsSync(path.join(ROOT, ".complete"))) return ROOT;
  fs.rmSync(ROOT, { recursive: true, force: true });
  const tmp = `${ROOT}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const mirrors = await resolveMirrors({});
  await execa("mmdebstrap", ["--quiet", "--variant=apt", "--include=virt-v2v", "bookworm", tmp, ...sourceLines(mirrors, "bookworm")]);
  fs.writeFileSync(path.join(tmp, ".complete"), "virt-v2v\n");
  fs.renameSync(tmp, ROOT);
  return ROOT;
}

/** `virt-v2v -i ova FILE --print-source` inside that root; the OVA is bind-mounted read-only into it. */
export async function virtV2vPrintSource(ova: string): Promise<{ exitCode: number; output: string }> {
  const root = await v2vRoot();
  const script = 'R=$0; F=$1; mkdir -p "$R/srv/ova"; : >"$R/srv/ova/x.ova"; mount --bind -o ro "$F" "$R/srv/ova/x.ova"; exec chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp virt-v2v -i ova /srv/ova/x.ova --print-source';
  const r = await execa("unshare", ["-m", "--propagation", "private", "sh", "-c", script, root, path.resolve(ova)], { reject: false, all: true });
  return { exitCode: r.exitCode ?? -1, output: r.all ?? "" };
}
