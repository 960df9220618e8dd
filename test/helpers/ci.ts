/**
 * Under CI=true every part of every test runs: a part that this machine cannot run (a build
 * as another user needs root) fails the test there instead of quietly proving less.
 */
export function requireUnderCi(ok: boolean, what: string): void {
  if (!ok && process.env.CI === "true") throw new Error(`CI=true and ${what}: run the suite as root, as CI does`);
}
