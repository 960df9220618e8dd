import { run } from "../exec.ts";
import type { Logger } from "../log.ts";
import { ESP_LABEL, SECTOR } from "./layout.ts";

/**
 * The EFI system partition, formatted and filled by mtools straight into the disk image at
 * its offset (mtools' IMAGE@@OFFSET): a fixed serial, every date SOURCE_DATE_EPOCH.
 */
export async function makeEsp(image: string, offset: number, size: number, serial: string, efiBinary: string, epoch: number, log?: Logger): Promise<void> {
  const at = `${image}@@${offset}`;
  const env = { MTOOLS_SKIP_CHECK: "1", SOURCE_DATE_EPOCH: String(epoch) };
  await run("mformat", ["-i", at, "-N", serial, "-v", ESP_LABEL, "-T", String(size / SECTOR), "-h", "64", "-s", "32", "::"], { log, env });
  await run("mmd", ["-i", at, "::/EFI", "::/EFI/BOOT"], { log, env });
  await run("mcopy", ["-i", at, efiBinary, "::/EFI/BOOT/BOOTX64.EFI"], { log, env });
}
