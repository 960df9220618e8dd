import { describe, expect, it } from "vitest";
import { escapeFilter } from "../../../src/boot/escape.ts";

const keys = (...chunks: string[]) => {
  const f = escapeFilter();
  return chunks.map((c) => {
    const r = f(Buffer.from(c, "binary"));
    return { forward: r.forward.toString("binary"), quit: r.quit };
  });
};

describe("democd boot's keyboard", () => {
  it("quits on Ctrl-A X, also when the two keys arrive apart", () => {
    expect(keys("ls\r\x01x")).toEqual([{ forward: "ls\r", quit: true }]);
    expect(keys("\x01", "X")).toEqual([{ forward: "", quit: false }, { forward: "", quit: true }]);
  });

  it("passes Ctrl-] on: it is how a user leaves xl console in domain 0", () => {
    expect(keys("\x1d")).toEqual([{ forward: "\x1d", quit: false }]);
  });

  it("sends one Ctrl-A for two, and Ctrl-A with any other key as typed", () => {
    expect(keys("\x01\x01", "\x01a")).toEqual([{ forward: "\x01", quit: false }, { forward: "\x01a", quit: false }]);
  });
});
