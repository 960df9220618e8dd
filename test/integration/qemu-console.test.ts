import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConsoleSilent, QemuSession } from "../../src/boot/qemu.ts";
import { tempDir } from "../helpers/temp.ts";

describe("a machine whose console stays silent", () => {
  it("fails a wait at once with ConsoleSilent, long before its timeout", async () => {
    // SeaBIOS with an empty disk prints nothing on the serial port: a wedged machine, for real.
    const dir = tempDir("silent");
    const disk = path.join(dir, "empty.raw");
    fs.writeFileSync(disk, Buffer.alloc(1 << 20));
    const s = await QemuSession.start({ drives: [{ file: disk, format: "raw" }], firmware: "bios", memoryMb: 64, accel: "tcg", cpus: 1 });
    const t0 = Date.now();
    try {
      const err = await s.waitFor(/login: /, 120, 3).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConsoleSilent);
      expect((err as Error).message).toMatch(/printed nothing for 3s/);
      expect(Date.now() - t0).toBeLessThan(60_000);
      expect(s.running).toBe(true);
    } finally {
      await s.stop();
    }
  });
});
