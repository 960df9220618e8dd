import type { Config } from "../config/schema.ts";
import type { Source } from "../context.ts";
import { DebianSource } from "./debian.ts";
import { MinimalSource } from "./minimal.ts";
import { UnpackedSource } from "./unpacked.ts";

/** The build's source: an unpacked medium (`build --from DIR`), else the configured profile. */
export function openSource(config: Config, from?: string): Source {
  if (from !== undefined) return new UnpackedSource(from);
  return config.profile === "minimal" ? new MinimalSource(config) : new DebianSource(config);
}
