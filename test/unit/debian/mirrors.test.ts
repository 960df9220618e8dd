import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { aptConfigStamp, hostMirrors } from "../../../src/debian/mirrors.ts";

describe("the host's mirrors, kept while apt's configuration is unchanged", () => {
  it("asks apt once per configuration, again when a sources file changes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "democd-mirrors-"));
    const etc = path.join(dir, "etc");
    fs.mkdirSync(path.join(etc, "sources.list.d"), { recursive: true });
    fs.writeFileSync(path.join(etc, "sources.list.d", "debian.sources"), "URIs: http://ftp.de.debian.org/debian\n");
    const answers = ["http://ftp.de.debian.org/debian bookworm", "http://ftp.fr.debian.org/debian bookworm"];
    let asked = 0;
    const query = async () => answers[asked++];
    const cache = path.join(dir, "cache");

    expect(await hostMirrors(cache, query, aptConfigStamp(etc))).toEqual({ main: "http://ftp.de.debian.org/debian" });
    expect(await hostMirrors(cache, query, aptConfigStamp(etc))).toEqual({ main: "http://ftp.de.debian.org/debian" });
    expect(asked).toBe(1);

    fs.writeFileSync(path.join(etc, "sources.list.d", "debian.sources"), "URIs: http://ftp.fr.debian.org/debian\nSuites: bookworm\n");
    expect(await hostMirrors(cache, query, aptConfigStamp(etc))).toEqual({ main: "http://ftp.fr.debian.org/debian" });
    expect(asked).toBe(2);
    fs.rmSync(dir, { recursive: true });
  });

  it("without a cache directory, asks every time; a failing apt means the defaults", async () => {
    let asked = 0;
    const query = async () => (asked++, "http://deb.debian.org/debian bookworm");
    await hostMirrors(undefined, query);
    await hostMirrors(undefined, query);
    expect(asked).toBe(2);
    expect(await hostMirrors(undefined, async () => Promise.reject(new Error("no apt")))).toEqual({});
  });
});
