import path from "node:path";
import { execa } from "execa";
import { tempDir } from "./temp.ts";

/**
 * A writable copy of a built image that costs nothing: a qcow2 overlay backed by it, so the
 * images other tests compare byte for byte stay as built.
 */
export async function diskOverlay(image: string, format: string, name: string): Promise<string> {
  const file = path.join(tempDir("disk-boot"), `${name}.qcow2`);
  await execa("qemu-img", ["create", "-q", "-f", "qcow2", "-F", format, "-b", image, file]);
  return file;
}
