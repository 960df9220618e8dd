import path from "node:path";
import { execa } from "execa";
import { requireUnderCi } from "./ci.ts";
import { REPO } from "./paths.ts";
import { needTools } from "./tools.ts";

export const NOBODY = 65534;
const asRoot = () => process.getuid?.() === 0;

/**
 * Run ./make.ts as an unprivileged user: as nobody when the tests run as root (CI), else as
 * the caller. `umask` and `env` are the process's own. The checkout must be readable by
 * nobody: under a private home (/root is 0700) node cannot even load tsx, so that is said first.
 */
export async function democdAsNobody(args: string[], options: { env: NodeJS.ProcessEnv; umask?: string; hostname?: string }) {
  const cmd = [process.execPath, "--import", "tsx", path.join(REPO, "make.ts"), ...args];
  if (options.hostname) {
    // Another host name, in a private UTS namespace (root only): the build must not see it.
    if (!asRoot()) throw new Error("a build under another host name needs root (unshare --uts)");
    await needTools("unshare", "hostname");
    return execa("unshare", ["--uts", "sh", "-c", `hostname "$0" && exec setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups sh -c 'umask ${options.umask ?? "022"}; exec "$@"' sh "$@"`, options.hostname, ...cmd], { cwd: REPO, reject: false, env: options.env, extendEnv: false });
  }
  const shell = ["sh", "-c", `umask ${options.umask ?? "022"}; exec "$@"`, "sh", ...cmd];
  requireUnderCi(asRoot(), "this build would run as the caller, not as another user (nobody)");
  if (!asRoot()) return execa(shell[0], shell.slice(1), { cwd: REPO, reject: false, env: options.env, extendEnv: false });
  await needTools("setpriv");
  const setpriv = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"];
  const readable = await execa(setpriv[0], [...setpriv.slice(1), "test", "-r", path.join(REPO, "node_modules/tsx/package.json")], { reject: false });
  if (readable.exitCode !== 0) throw new Error(`these tests run ./make.ts as nobody, who cannot read ${REPO}/node_modules: clone the project where other users can read it (not under /root)`);
  return execa(setpriv[0], [...setpriv.slice(1), ...shell], { cwd: REPO, reject: false, env: options.env, extendEnv: false });
}
