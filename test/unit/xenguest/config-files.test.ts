import { describe, expect, it } from "vitest";
import { formatShellVars, getVar, parseShellVars, setVar, unsetVar } from "../../../src/xenguest/shellvars.ts";
import { disableXl, formatXlValue, getXl, parseXlConfig, setXl, xlList, xlString } from "../../../src/xenguest/xlcfg.ts";
import { parseCfgSize, parseSizeOption } from "../../../src/xenguest/sizes.ts";

const NASTY = ["plain", "two words", 'say "hi"', "a & b", "user@host", "$HOME and $(id) and `id`", "back\\slash", "it's", "", "s/x/y/g", "50%"];

describe("shell variable files (params.cfg, disk.cfg)", () => {
  it("reads the quoting forms a shell does", () => {
    const f = parseShellVars(`# comment\nA="1"\nB='two words'\nC=plain\nD="q\\"uote \\$x \\\\ \\n"\nE=a\\ b # trailing comment\nexport F=""\n\n`);
    expect(f.problems).toEqual([]);
    expect([..."ABCDEF"].map((k) => getVar(f, k))).toEqual(["1", "two words", "plain", 'q"uote $x \\ \\n', "a b", ""]);
  });

  it("round-trips values with quotes, &, @, $, spaces and backslashes, keeping other lines", () => {
    const f = parseShellVars("# keep me\nGUEST_AUTOBOOT=\"1\"\n\n# and me\n");
    NASTY.forEach((v, i) => setVar(f, `V${i}`, v));
    const text = formatShellVars(f);
    const back = parseShellVars(text);
    expect(back.problems).toEqual([]);
    NASTY.forEach((v, i) => expect(getVar(back, `V${i}`)).toBe(v));
    expect(text).toMatch(/^# keep me\nGUEST_AUTOBOOT="1"\n\n# and me\n/);
  });

  it("sets in place, drops duplicates, unsets", () => {
    const f = parseShellVars('A="1"\nB="2"\nA="3"\n');
    expect(getVar(f, "A")).toBe("3");
    setVar(f, "A", "x");
    expect(formatShellVars(f)).toBe('A="x"\nB="2"\n');
    unsetVar(f, "B");
    expect(formatShellVars(f)).toBe('A="x"\n');
  });

  it("refuses expansions and commands, naming the line", () => {
    const f = parseShellVars('A="$(reboot)"\nB=`id`\nC=$HOME\nD="ok"\nrm -rf /\nE="open\n');
    expect(f.problems.map((p) => p.line)).toEqual([1, 2, 3, 5, 6]);
    expect(getVar(f, "D")).toBe("ok");
  });
});

describe("xl config files (guest.cfg, guest.d/*)", () => {
  const TEXT = `# top comment
name = "web" # trailing
memory = 256; vcpus=2
disk = [ 'phy:/dev/x,xvda,w',
         "file:/y,xvdb,r", ]
extra = "console=hvc0 \\"q\\""
# root = "/dev/xvda2"
`;
  it("parses strings, numbers, lists over lines, ; separators and comments", () => {
    const c = parseXlConfig(TEXT);
    expect(c.problems).toEqual([]);
    expect(c.settings.map((s) => s.key)).toEqual(["name", "memory", "vcpus", "disk", "extra"]);
    expect(getXl(c, "disk")).toEqual(xlList(["phy:/dev/x,xvda,w", "file:/y,xvdb,r"]));
    expect(getXl(c, "extra")).toEqual(xlString('console=hvc0 "q"'));
  });

  it("round-trips nasty strings and keeps comments and layout", () => {
    let c = parseXlConfig(TEXT);
    for (const [i, v] of NASTY.entries()) c = setXl(c, `k${i}`, xlString(v));
    c = setXl(c, "memory", { kind: "number", raw: "512" });
    const back = parseXlConfig(c.text);
    expect(back.problems).toEqual([]);
    NASTY.forEach((v, i) => expect(getXl(back, `k${i}`)).toEqual(xlString(v)));
    expect(c.text).toContain("# top comment\n");
    expect(c.text).toContain('name = "web" # trailing');
    expect(c.text).toContain("memory = 512; vcpus=2");
  });

  it("sets a commented-out key where it is, and disables keys as comments", () => {
    let c = parseXlConfig(TEXT);
    c = setXl(c, "root", xlString("/dev/xvda1"));
    expect(c.text).toContain('root = "/dev/xvda1"\n');
    expect(c.text).not.toContain("# root");
    c = disableXl(c, "disk");
    expect(getXl(c, "disk")).toBeUndefined();
    expect(c.text).toContain('# disk = [ "phy:/dev/x,xvda,w", "file:/y,xvdb,r" ]\n');
    expect(parseXlConfig(c.text).problems).toEqual([]);
  });

  it("the last setting wins, += appends", () => {
    const c = parseXlConfig('memory = 1\nmemory = 2\ndisk = ["a"]\ndisk += ["b"]\n');
    expect(getXl(c, "memory")).toEqual({ kind: "number", raw: "2" });
    expect(getXl(c, "disk")).toEqual(xlList(["a", "b"]));
    const set = setXl(c, "memory", { kind: "number", raw: "3" });
    expect(set.text).toBe('memory = 3\ndisk = ["a"]\ndisk += ["b"]\n');
  });

  it("reports bad syntax by line", () => {
    const c = parseXlConfig('a = "ok"\nb = \nc = "open\nd = nope\n');
    expect(c.problems.map((p) => p.line)).toEqual([2, 3, 4]);
    expect(formatXlValue(xlString('a"b\\c'))).toBe('"a\\"b\\\\c"');
  });
});

describe("sizes", () => {
  it("need a unit on the command line; M is MiB, G is 1024 MiB", () => {
    expect(parseSizeOption("512M")).toEqual({ mib: 512 });
    expect(parseSizeOption("2G")).toEqual({ mib: 2048 });
    expect(parseSizeOption("1GiB")).toEqual({ mib: 1024 });
    expect(parseSizeOption("0", true)).toEqual({ mib: 0 });
    for (const bad of ["512", "1.5G", "1T", "-1M", "M", "0M"]) expect(parseSizeOption(bad)).toHaveProperty("error");
  });
  it("read disk.cfg as the original wrote it (bare number = GB = 1000M)", () => {
    expect(parseCfgSize("1000M")).toBe(1000);
    expect(parseCfgSize("4")).toBe(4000);
    expect(parseCfgSize("2G")).toBe(2000);
    expect(parseCfgSize("x")).toBeUndefined();
  });
});
