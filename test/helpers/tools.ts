import { whichTool } from "../../src/exec.ts";

/**
 * Tests that need a host tool: in CI a missing tool fails the test (a skip would pass
 * silently); on a developer's machine it says what to install.
 */
export async function needTools(...tools: string[]): Promise<void> {
  const missing: string[] = [];
  for (const t of tools) if (!(await whichTool(t))) missing.push(t);
  if (missing.length) throw new Error(`missing host tools: ${missing.join(", ")} (run ./make.ts doctor)`);
}
