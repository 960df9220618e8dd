import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkSbat } from "../../../src/efi/signed.ts";
import { binarySbat, parseSbat, sbatRefusals, shimSbatLevel } from "../../../src/efi/sbat.ts";
import { peSections } from "../../../src/efi/pe.ts";
import { DemocdError } from "../../../src/errors.ts";
import { fakePe, sbatLevelSection } from "../../helpers/pe.ts";
import { tempDir } from "../../helpers/temp.ts";

const HEADER = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n";
const grubSbat = (gen: number) => `${HEADER}grub,${gen},Free Software Foundation,grub,2.06,https://www.gnu.org/software/grub/\ngrub.debian,${gen},Debian,grub2,2.06-13,https://tracker.debian.org/pkg/grub2\n`;
// As bookworm's shim 16.1 carries them.
const shim = fakePe({ ".text": "code", ".sbat": `${HEADER}shim,4,UEFI shim,shim,1,https://github.com/rhboot/shim\n`, ".sbatlevel": sbatLevelSection("sbat,1,2025021800\nshim,4\ngrub,5\n", "sbat,1,2025051000\nshim,4\ngrub,5\ngrub.proxmox,2\n") });

describe("SBAT", () => {
  it("reads sections by name, long names through the string table", () => {
    const s = peSections(shim);
    expect([...s.keys()]).toEqual([".text", ".sbat", ".sbatlevel"]);
    expect(s.get(".text")!.toString()).toBe("code");
  });

  it("refuses what is not a PE image", () => {
    expect(() => peSections(Buffer.from("#!/bin/sh\n"))).toThrow(/not a PE image: no MZ header/);
    const cut = fakePe({ ".sbat": "x".repeat(100) }).subarray(0, 150);
    expect(() => peSections(cut)).toThrow(/past the end/);
  });

  it("reads shim's previous and latest revocation policies", () => {
    expect(shimSbatLevel(shim)).toEqual({
      previous: [{ component: "sbat", generation: 1 }, { component: "shim", generation: 4 }, { component: "grub", generation: 5 }],
      latest: [{ component: "sbat", generation: 1 }, { component: "shim", generation: 4 }, { component: "grub", generation: 5 }, { component: "grub.proxmox", generation: 2 }],
    });
  });

  it("a generation below the policy's is refused, an equal or newer one and other components are not", () => {
    const { latest } = shimSbatLevel(shim);
    expect(sbatRefusals(parseSbat(grubSbat(4)), latest)).toEqual(["grub,4 (shim requires grub,5 or later)"]);
    expect(sbatRefusals(parseSbat(grubSbat(5)), latest)).toEqual([]);
    expect(sbatRefusals(parseSbat(grubSbat(6)), latest)).toEqual([]);
    expect(sbatRefusals(parseSbat(`${HEADER}fwupd,1,x,y,z,u\n`), latest)).toEqual([]);
  });

  it("a binary without .sbat is refused (shim would not start it)", () => {
    expect(() => binarySbat(fakePe({ ".text": "x" }))).toThrow(/no \.sbat section/);
  });

  it("a signed GRUB shim refuses fails the build with one line naming the package and version", () => {
    const dir = tempDir("sbat");
    const file = (name: string, data: Buffer) => {
      fs.writeFileSync(path.join(dir, name), data);
      return path.join(dir, name);
    };
    const efi = {
      shim: file("shimx64.efi", shim),
      grubCd: file("gcdx64.efi", fakePe({ ".sbat": grubSbat(4) })),
      grubDisk: file("grubx64.efi", fakePe({ ".sbat": grubSbat(4) })),
      mokManager: file("mmx64.efi", fakePe({ ".sbat": `${HEADER}shim,4,UEFI shim,shim,1,u\n` })),
    };
    const pkg = (name: string, version: string) => ({ name, version, arch: "amd64", depends: "" });
    const shimPkg = pkg("shim-signed", "1.51~1+deb12u1+16.1-2~deb12u1");
    const helpers = pkg("shim-helpers-amd64-signed", "1+16.1+2~deb12u1");
    const err = (() => {
      try {
        checkSbat(efi, shimPkg, pkg("grub-efi-amd64-signed", "1+2.06+13+deb12u1"), helpers);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DemocdError);
    expect((err as Error).message).toBe("grub-efi-amd64-signed 1+2.06+13+deb12u1: shim 1.51~1+deb12u1+16.1-2~deb12u1 refuses its gcdx64.efi (SBAT grub,4 (shim requires grub,5 or later))");
    expect((err as Error).message).not.toMatch(/\n/);
    fs.writeFileSync(efi.grubCd, fakePe({ ".sbat": grubSbat(5) }));
    fs.writeFileSync(efi.grubDisk, fakePe({ ".sbat": grubSbat(5) }));
    expect(() => checkSbat(efi, shimPkg, pkg("grub-efi-amd64-signed", "1+2.06+13+deb12u2"), helpers)).not.toThrow();
  });
});
