import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { RESERVED_PARAMS } from "../../../src/xenguest/check.ts";
import { allVars, parseShellVars } from "../../../src/xenguest/shellvars.ts";
import { REPO } from "../../helpers/paths.ts";
import { tempDir } from "../../helpers/temp.ts";
import { needTools } from "../../helpers/tools.ts";

const AWK = path.join(REPO, "templates/debian/usr/lib/democd/xenguest-vars.awk");

/** Lines as users and attackers write them: each is read alone by both parsers. */
const LINES = [
  'GUEST_AUTOBOOT="1"', "GUEST_AUTOBOOT=0", "export NAME=web", "A='single $x quoted'", 'B="a & b @ \\"c\\" \\$5 $ end"',
  "C=a\\ b", 'D=""', "E=x # comment", "  F='it'\\''s'", 'G="tab\tinside"',
  'H="$(reboot)"', "I=`id`", 'J="${HOME}"', "K=$HOME", "L=x;reboot", "M=a|b", "N=(x)", "O='unterminated", 'P="unterminated',
  "rm -rf /", "Q=x y", "R=a\\", "PATH=/tmp", "LD_PRELOAD=/tmp/x.so", "guestdir=/etc", "XENGUEST_DIR=/", "IFS=x", "1X=bad",
];

async function awk(file: string, mode: string, want = "") {
  return execa("awk", ["-v", `mode=${mode}`, "-v", `want=${want}`, "-f", AWK, file], { reject: false });
}

describe("domain 0's params.cfg/disk.cfg reader (xenguest-vars.awk) and the build host's (shellvars.ts)", () => {
  it("agree on every line: refused by both, or read by both to the same value", async () => {
    await needTools("awk");
    const dir = tempDir("vars");
    for (const [i, line] of LINES.entries()) {
      const file = path.join(dir, `${i}.cfg`);
      fs.writeFileSync(file, `${line}\n`);
      const ts = parseShellVars(`${line}\n`);
      const vars = allVars(ts);
      const tsOk = ts.problems.length === 0 && ![...vars.keys()].some((k) => RESERVED_PARAMS.test(k));
      const check = await awk(file, "check");
      expect(check.exitCode === 0, `${line}: awk ${check.stderr}, ts ${JSON.stringify(ts.problems)}`).toBe(tsOk);
      if (!tsOk) {
        expect(check.stderr, line).toMatch(new RegExp(`^${file}: line 1: `));
        expect((await awk(file, "export")).stdout, line).toBe("");
        continue;
      }
      for (const [key, { value }] of vars) expect((await awk(file, "get", key)).stdout, line).toBe(value);
    }
  });

  it("export gives lines a shell evaluates to exactly the values, and nothing else runs", async () => {
    await needTools("awk", "sh");
    const dir = tempDir("vars");
    const file = path.join(dir, "params.cfg");
    fs.writeFileSync(file, 'A="a & b @ \\"c\\" $ end"\nB=\'it\'\\\'\'s\'\nC=x\\ y\n');
    const out = (await awk(file, "export")).stdout;
    const r = await execa("sh", ["-c", `eval "$0"; printf '%s|' "$A" "$B" "$C"`, out]);
    expect(r.stdout).toBe('a & b @ "c" $ end|it\'s|x y|');
  });
});
