import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeCpio, type CpioEntry } from "../../../src/archive/cpio.ts";
import { readInitrd } from "../../../src/archive/initrd.ts";
import { SafeTree } from "../../../src/archive/safe-tree.ts";
import { untarInto } from "../../../src/archive/untar.ts";
import { hostileTar, sandbox } from "../../helpers/hostile.ts";
import { needTools } from "../../helpers/tools.ts";

describe("unpacking a hostile tar never writes outside the target", () => {
  beforeAll(() => needTools("python3"));

  it("refuses .. and absolute names, writes through no symlink, links nothing outside", async () => {
    const s = sandbox();
    const before = s.snapshot();
    const tarball = path.join(s.work, "evil.tar.gz");
    await hostileTar(tarball, [
      ["file", "ok.txt", "fine"],
      ["file", "../escaped", "pwned"],
      ["file", "a/../../escaped2", "pwned"],
      ["file", `${s.outside}/abs`, "pwned"],
      ["symlink", "link", s.outside],
      ["file", "link/through-symlink", "pwned"],
      ["symlink", "rel", "../outside"],
      ["file", "rel/victim", "pwned"],
      ["hardlink", "hard-abs", `${s.outside}/victim`],
      ["hardlink", "hard-up", "../outside/victim"],
      ["hardlink", "hard-via-link", "link/victim"],
      ["symlink", "ok.txt", `${s.outside}/victim`], // replaces ok.txt with a link...
      ["file", "ok.txt", "written again"], // ...which a later member must not write through
    ]);
    const tree = new SafeTree(s.inside, { privileged: false });
    await untarInto(tarball, tree);
    expect(s.snapshot()).toEqual(before);
    expect(tree.refused.join("\n")).toMatch(/"\.\.\/escaped": '\.\.' in the path/);
    expect(tree.refused.join("\n")).toMatch(/"a\/\.\.\/\.\.\/escaped2": '\.\.' in the path/);
    expect(tree.refused.join("\n")).toMatch(/abs": absolute path/);
    expect(tree.refused.join("\n")).toMatch(/"link\/through-symlink": its parent link is a symlink/);
    expect(tree.refused.join("\n")).toMatch(/"rel\/victim": its parent rel is a symlink/);
    expect(tree.refused.join("\n")).toMatch(/"hard-abs": hard link to .* outside the tree/);
    expect(tree.refused.join("\n")).toMatch(/"hard-up": hard link to .* outside the tree/);
    expect(tree.refused.join("\n")).toMatch(/"hard-via-link": its parent link is a symlink/);
    expect(fs.readFileSync(path.join(s.inside, "ok.txt"), "utf8")).toBe("written again");
    expect(fs.readlinkSync(path.join(s.inside, "link"))).toBe(s.outside); // kept as a link, never followed
  });

  it("records device nodes and owners it cannot apply instead of failing", async () => {
    const s = sandbox();
    const tarball = path.join(s.work, "dev.tar.gz");
    await hostileTar(tarball, [["dir", "dev"], ["chardev", "dev/null"]]);
    const tree = new SafeTree(s.inside, { privileged: false });
    await untarInto(tarball, tree);
    expect(tree.record.devices).toEqual([expect.objectContaining({ name: "dev/null", type: "char", rdevMajor: 1, rdevMinor: 3 })]);
    expect(fs.existsSync(path.join(s.inside, "dev/null"))).toBe(false);
  });
});

describe("unpacking a hostile initrd", () => {
  const e = (name: string, type: CpioEntry["type"], data = ""): CpioEntry => ({ name, type, perm: 0o644, uid: 0, gid: 0, mtime: 1, data: Buffer.from(data) });

  it("refuses escaping members of every segment", async () => {
    const s = sandbox();
    const before = s.snapshot();
    const image = Buffer.concat([
      writeCpio([e("kernel/x86/microcode/GenuineIntel.bin", "file", "ucode"), e("../ucode-escape", "file", "pwned")]),
      Buffer.alloc(300),
      (await import("node:zlib")).gzipSync(writeCpio([e("init", "file", "#!/bin/sh"), e("evil", "symlink", s.outside), e("evil/victim", "file", "pwned"), e("/abs", "file", "pwned")])),
    ]);
    const segments = await readInitrd(image);
    expect(segments.map((x) => x.compression)).toEqual(["none", "gzip"]);
    const tree = new SafeTree(s.inside, { privileged: false });
    for (const seg of segments) for (const m of seg.entries) tree.add({ ...m, link: m.type === "symlink" ? m.data.toString() : undefined });
    tree.finish();
    expect(s.snapshot()).toEqual(before);
    expect(tree.refused).toHaveLength(3);
    expect(fs.readFileSync(path.join(s.inside, "init"), "utf8")).toBe("#!/bin/sh");
    expect(fs.readFileSync(path.join(s.inside, "kernel/x86/microcode/GenuineIntel.bin"), "utf8")).toBe("ucode");
  });
});
