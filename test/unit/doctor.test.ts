import { describe, expect, it } from "vitest";
import { formatDoctor, type DoctorRow } from "../../src/doctor.ts";

describe("doctor's report", () => {
  it("gives a missing package its apt-get line, and a host setting its own fix", () => {
    const rows: DoctorRow[] = [
      { name: "xorriso", ok: false, where: "missing", pkg: "xorriso", why: "" },
      { name: "rootless debian", ok: false, where: "/etc/subuid has no range for alice", pkg: "-", why: "", fix: "as root: usermod --add-subuids 100000-165535 alice" },
    ];
    const text = formatDoctor(rows);
    expect(text).toContain("MISSING rootless debian  -                  /etc/subuid has no range for alice (as root: usermod --add-subuids 100000-165535 alice)");
    expect(text.split("\n").at(-1)).toBe("to install what is missing: apt-get install xorriso");
  });
});
