import path from "node:path";
import { execa } from "execa";
import { debFileName } from "../../src/debian/apt.ts";
import { REPO } from "./paths.ts";

/** A file as the archive's .deb holds it (the one apt downloaded and checked), read straight from the package. */
export async function fileFromDeb(pkg: { package: string; version: string; arch: string }, member: string): Promise<Buffer> {
  const deb = path.join(REPO, "build", "cache", "debs", debFileName({ name: pkg.package, version: pkg.version, arch: pkg.arch }));
  const tar = execa("dpkg-deb", ["--fsys-tarfile", deb], { encoding: "buffer" });
  const out = await execa("tar", ["-xO", `./${member}`], { input: (await tar).stdout, encoding: "buffer" });
  return Buffer.from(out.stdout);
}
