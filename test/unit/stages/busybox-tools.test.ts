import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUSYBOX_TOOLS, linkBusyboxTools } from "../../../src/stages/busybox-tools.ts";
import { tempDir } from "../../helpers/temp.ts";

function usrTree(files: string[]): string {
  const usr = tempDir("busybox-tools");
  for (const f of ["bin/busybox", ...files]) {
    fs.mkdirSync(path.dirname(path.join(usr, f)), { recursive: true });
    fs.writeFileSync(path.join(usr, f), "");
  }
  fs.utimesSync(path.join(usr, "bin"), 1700000000, 1700000000);
  return usr;
}

describe("linkBusyboxTools", () => {
  it("links each missing tool to busybox, keeping bin/'s date", () => {
    const usr = usrTree([]);
    expect(linkBusyboxTools(usr)).toEqual([...BUSYBOX_TOOLS]);
    for (const t of BUSYBOX_TOOLS) {
      expect(fs.readlinkSync(path.join(usr, "bin", t))).toBe("busybox");
      expect(fs.lstatSync(path.join(usr, "bin", t)).mtimeMs).toBe(1700000000000);
    }
    expect(fs.statSync(path.join(usr, "bin")).mtimeMs).toBe(1700000000000);
  });

  it("leaves a tool a package installed (bin/ or sbin/, a file or a link) alone", () => {
    const usr = usrTree(["bin/less", "sbin/ping"]);
    fs.symlinkSync("/etc/alternatives/vi", path.join(usr, "bin", "vi"));
    expect(linkBusyboxTools(usr)).toEqual([]);
    expect(fs.lstatSync(path.join(usr, "bin", "less")).isFile()).toBe(true);
    expect(fs.readlinkSync(path.join(usr, "bin", "vi"))).toBe("/etc/alternatives/vi");
  });

  it("adds nothing to a tree without busybox", () => {
    const usr = tempDir("busybox-tools");
    fs.mkdirSync(path.join(usr, "bin"));
    expect(linkBusyboxTools(usr)).toEqual([]);
    expect(fs.readdirSync(path.join(usr, "bin"))).toEqual([]);
  });
});
