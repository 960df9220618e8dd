import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { hashPassword, saltFrom } from "../../src/password.ts";
import { needTools } from "../helpers/tools.ts";

describe("root password", () => {
  beforeAll(() => needTools("openssl", "perl"));

  it("is a SHA-512 crypt hash that verifies against the password, never the password itself", async () => {
    const salt = saltFrom("00112233445566778899aabbccddeeff00112233");
    const hash = await hashPassword("S3cret", salt);
    expect(hash).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(hash).not.toContain("S3cret");
    // Independent check: glibc's crypt(3), through perl (perl-base is on every Debian), agrees.
    const r = await execa("perl", ["-e", "print crypt($ARGV[0], $ARGV[1])", "S3cret", hash]);
    expect(r.stdout).toBe(hash);
    expect(await hashPassword("other", salt)).not.toBe(hash);
  });

  it("makes crypt salts from hex", () => {
    expect(saltFrom("ff".repeat(16))).toMatch(/^[./0-9A-Za-z]{16}$/);
  });
});
