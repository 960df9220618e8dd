// live-build on the same content as democd's default medium, for bench/run.ts: Debian bookworm
// with Xen and openssh, no installer, no firmware, no Recommends (democd's bootstrap installs
// none either), from the same mirrors; cold (its own caches empty), as root.
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";

const MIRROR = "http://deb.debian.org/debian/";
const SECURITY = "http://deb.debian.org/debian-security/";

export const LIVEBUILD_CONFIG = [
  "--distribution", "bookworm", "--archive-areas", "main",
  "--debian-installer", "none", "--firmware-binary", "false", "--firmware-chroot", "false",
  "--binary-images", "iso-hybrid", "--apt-recommends", "false",
  "--mirror-bootstrap", MIRROR, "--mirror-binary", MIRROR,
  "--mirror-chroot-security", SECURITY, "--mirror-binary-security", SECURITY,
];

/** live-build's cold build time and ISO size, or why there is none (not installed, not root). */
export async function liveBuild(dir: string): Promise<{ seconds: number; isoMb: number } | string> {
  if (!(await execa("sh", ["-c", "command -v lb"], { reject: false })).stdout) return "live-build is not installed (apt-get install live-build)";
  if (process.getuid?.() !== 0) return "live-build needs root";
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await execa("lb", ["config", ...LIVEBUILD_CONFIG], { cwd: dir });
  fs.writeFileSync(path.join(dir, "config", "package-lists", "demo.list.chroot"), "xen-system-amd64 openssh-server\n");
  const t = process.hrtime.bigint();
  const r = await execa("lb", ["build"], { cwd: dir, all: true, reject: false });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  fs.writeFileSync(path.join(dir, "..", "livebuild.log"), r.all ?? "");
  const iso = fs.readdirSync(dir).find((f) => f.endsWith(".iso"));
  if (r.exitCode !== 0 || !iso) return `lb build failed (exit ${r.exitCode}): see build/bench/livebuild.log`;
  const isoMb = fs.statSync(path.join(dir, iso)).size / 1e6;
  await execa("lb", ["clean", "--purge"], { cwd: dir, reject: false });
  fs.rmSync(dir, { recursive: true, force: true });
  return { seconds, isoMb };
}
