import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 30_000,
          globalSetup: ["test/setup/temp-root.ts"],
          setupFiles: ["test/setup/assertions.ts"],
        },
      },
      {
        test: {
          name: "system",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          globalSetup: ["test/setup/temp-root.ts", "test/setup/build-iso.ts"],
          setupFiles: ["test/setup/assertions.ts"],
          // QEMU boots under TCG take a minute each: one at a time, with room for a loaded machine.
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 900_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
