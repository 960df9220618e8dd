import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { hashPassword, saltFrom } from "../../src/password.ts";
import { needTools } from "../helpers/tools.ts";

describe("root password", () => {
  beforeAll(() => needTools("openssl"));

  it("is a SHA-512 crypt hash that verifies against the password, never the password itself", async () => {
    const salt = saltFrom("00112233445566778899aabbccddeeff00112233");
    const hash = await hashPassword("S3cret", salt);
    expect(hash).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(hash).not.toContain("S3cret");
    // Independent check: python's crypt module (glibc crypt) agrees.
    const r = await execa("python3", ["-c", "import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]))", "S3cret", hash], { reject: false });
    if (r.exitCode === 0) expect(r.stdout.trim()).toBe(hash);
    expect(await hashPassword("other", salt)).not.toBe(hash);
  });

  it("makes crypt salts from hex", () => {
    expect(saltFrom("ff".repeat(16))).toMatch(/^[./0-9A-Za-z]{16}$/);
  });
});
