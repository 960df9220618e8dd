import fs from "node:fs";
import path from "node:path";
import { sha256 } from "../hash.ts";
import { loadImage, packMembers } from "./image.ts";

/** Where the medium keeps guest images (under the usr tree, mounted at /usr), for xenguest-manager autoboot. */
export const GUESTS_DIR = "share/guests";

/** A guest's name: its file name without .xenguest (as xenguest-manager create names it). */
export function guestName(file: string): string {
  return path.basename(path.resolve(file)).replace(/\.xenguest$/, "");
}

/**
 * Copy the (already checked) images into usr/share/guests/NAME.xenguest: a file as it is, a
 * directory image packed (reproducibly). Returns name and sha256 of each, for the manifest.
 */
export function installGuests(images: readonly string[], usr: string, epoch: number): { name: string; sha256: string }[] {
  const dir = path.join(usr, GUESTS_DIR);
  if (images.length) fs.mkdirSync(dir, { recursive: true });
  return images.map((file) => {
    const name = guestName(file);
    const data = fs.statSync(file).isDirectory() ? packMembers(loadImage(file).members, epoch) : fs.readFileSync(file);
    const dest = path.join(dir, `${name}.xenguest`);
    fs.rmSync(dest, { force: true });
    fs.writeFileSync(dest, data, { flag: "wx", mode: 0o644 });
    return { name, sha256: sha256(data) };
  });
}
