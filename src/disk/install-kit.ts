import path from "node:path";
import { ESP_LABEL, ROOT_LABEL, SECTOR, installerLayout, partition } from "./layout.ts";

/** Where democd-install finds its kit, under the medium (/usr in the live system). */
export const INSTALL_KIT = path.join("lib", "democd", "install");
/** Replaced by the new root file system's UUID when democd-install writes grub.cfg and fstab. */
export const ROOT_UUID_PLACEHOLDER = "@ROOT_UUID@";

/** Shell variables for democd-install, from the one layout definition the disk images use. */
export function installerLayoutEnv(minBytes: number): string {
  const layout = installerLayout();
  const p = (n: "bios" | "esp" | "root") => partition(layout, n);
  const vars: Record<string, string | number> = {
    BIOS_PART: p("bios").number, ESP_PART: p("esp").number, ESP_SECTORS: p("esp").size / SECTOR, ROOT_PART: p("root").number,
    ROOT_LABEL, ESP_LABEL, MIN_BYTES: minBytes, UUID_PLACEHOLDER: ROOT_UUID_PLACEHOLDER,
  };
  return ["# democd-install's disk layout: written by the build from src/disk/layout.ts.", ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), ""].join("\n");
}
