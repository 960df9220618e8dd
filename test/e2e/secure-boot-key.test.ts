import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { build, createContext } from "../../src/build.ts";
import { OVMF_MS_VARS, QemuSession } from "../../src/boot/qemu.ts";
import { loadConfig } from "../../src/config/load.ts";
import { extractFromIso, listIso } from "../helpers/iso.ts";
import { TEST_BUILD_DIR, TEST_DEBIAN_PASSWORD } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";
import { needTools } from "../helpers/tools.ts";

/**
 * Xen under Secure Boot with the user's own key (--secure-boot-key/--secure-boot-cert), as a
 * user does it, on OVMF enforcing Secure Boot with Microsoft's keys, the ISO written to a USB
 * stick (Xen starts from the medium's EFI partition, which a CD keeps out of GRUB's reach):
 * refused while the key is unknown; enrolled with mokutil --import from the bare entry and
 * MokManager at the next boot, driven over the serial console; then Xen starts.
 */
const DIR = path.join(TEST_BUILD_DIR, "secure-key");
const MOK_PASSWORD = "democd-mok";
const DOWN = "\x1b[B";
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function buildWithKey(key: string, cert: string): Promise<string> {
  fs.mkdirSync(DIR, { recursive: true });
  const cache = path.join(DIR, "cache");
  if (!fs.existsSync(cache)) fs.symlinkSync(path.resolve("build/cache"), cache);
  const out = path.join(DIR, "democd-key.iso");
  const config = loadConfig({ cli: { version: "9.9-test", buildDir: DIR, timeout: "3", builder: "democd-tests", out, secureBootKey: key, secureBootCert: cert } });
  const ctx = createContext(config, { quiet: true });
  try {
    await build(ctx);
  } finally {
    ctx.log.close();
  }
  return out;
}

async function boot(iso: string, vars: string, name: string): Promise<QemuSession> {
  return QemuSession.start({ iso, usb: true, firmware: "uefi-secure", efiVars: vars, memoryMb: 2048, accel: "tcg" }, { transcriptFile: path.join(TEST_BUILD_DIR, "consoles", `secure-key-${name}.log`) });
}

describe("Xen under Secure Boot with the user's own key", () => {
  it("is refused until the key is enrolled (mokutil --import, MokManager), then starts and runs domain 0's kernel", async () => {
    await needTools("qemu-system-x86_64", "openssl", "sbverify");
    const keys = tempDir("sb-key");
    const [key, cert] = [path.join(keys, "user.key"), path.join(keys, "user.crt")];
    await execa("openssl", ["req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=democd test user/", "-days", "30"]);
    const iso = await buildWithKey(key, cert);

    // On the medium: the certificate and Xen signed with the key; the key itself nowhere.
    const files = await listIso(iso);
    expect(files).toContain("/democd/secure-boot.der");
    const got = await extractFromIso(iso, ["/democd/secure-boot.der", "/democd/build.json"]);
    const der = fs.readFileSync(path.join(got, "democd/secure-boot.der"));
    expect(der.equals(Buffer.from(fs.readFileSync(cert, "latin1").replace(/-----[A-Z ]+-----|\s/g, ""), "base64"))).toBe(true);
    const manifest = fs.readFileSync(path.join(got, "democd/build.json"), "utf8");
    expect(manifest).not.toContain(keys);
    const keyBody = fs.readFileSync(key, "latin1").split("\n")[5];
    const isoBytes = fs.readFileSync(iso);
    expect(isoBytes.includes(Buffer.from(keyBody, "latin1"))).toBe(false);
    expect(isoBytes.includes(fs.readFileSync(key))).toBe(false);

    const vars = path.join(keys, "OVMF_VARS.fd");
    fs.copyFileSync(OVMF_MS_VARS, vars);
    const consoles = path.join(TEST_BUILD_DIR, "consoles");
    fs.mkdirSync(consoles, { recursive: true });

    // 0. As a CD the firmware reads only the El Torito image, out of GRUB's reach: the entry says to use a USB stick.
    const cdVars = path.join(keys, "OVMF_VARS-cd.fd");
    fs.copyFileSync(OVMF_MS_VARS, cdVars);
    const cd = await QemuSession.start({ iso, firmware: "uefi-secure", efiVars: cdVars, memoryMb: 2048, accel: "tcg" }, { transcriptFile: path.join(consoles, "secure-key-0-cd.log") });
    try {
      await cd.waitFor(/Secure Boot: Xen signed with your key/, 300);
      await pause(1000);
      cd.send("x");
      await cd.waitFor("Xen signed with your key cannot start from a CD: write this ISO to a USB stick,", 120);
      expect(cd.output).not.toContain("EFI loader");
    } finally {
      await cd.stop();
    }

    // 1. Key unknown: shim refuses the signed Xen, and the menu comes back; the bare entry enrols it.
    let s = await boot(iso, vars, "1-import");
    try {
      await s.waitFor(/Secure Boot: Xen signed with your key/, 300);
      await pause(1000);
      s.send("x");
      await s.waitFor(/Loading Xen [^\n]*signed with the key/, 120);
      await s.waitFor(/Access Denied|Security Violation|Verification failed|cannot load image|bad shim signature/i, 120);
      expect(s.output).not.toContain("EFI loader");
      s.send("\r");
      await s.waitFor(/Use the \^ and v keys/, 120);
      await pause(1000);
      s.send("l");
      await s.login("root", TEST_DEBIAN_PASSWORD, 600);
      expect(await s.shell("mokutil --sb-state")).toBe("SecureBoot enabled");
      await s.type("mokutil --import /run/democd/medium/democd/secure-boot.der\n");
      for (const prompt of [/input password:/, /input password again:/]) {
        await s.waitFor(prompt, 60);
        await pause(500);
        await s.type(`${MOK_PASSWORD}\n`);
      }
      expect(await s.shell("mokutil --list-new | grep -c 'Subject: CN=democd test user'")).toBe("1");
    } finally {
      await s.stop();
    }

    // 2. shim sees the request and starts MokManager: Enroll MOK, Continue, Yes, the password, Reboot.
    s = await boot(iso, vars, "2-mokmanager");
    try {
      await s.waitFor(/Press any key to perform MOK management/, 300);
      s.send(" ");
      for (const [screen, keys] of [[/Enroll MOK/, DOWN + "\r"], [/View key 0/, DOWN + "\r"], [/Enroll the key\(s\)\?/, DOWN + "\r"]] as const) {
        await s.waitFor(screen, 120);
        await pause(2000);
        for (const k of keys) {
          s.send(k);
          await pause(800);
        }
      }
      await s.waitFor(/Password:/, 120);
      await pause(1500);
      for (const c of MOK_PASSWORD) {
        s.send(c);
        await pause(300);
      }
      s.send("\r");
      await s.waitFor(/Reboot/, 120);
      await pause(2000);
      s.send("\r");
      await s.waitFor(/terminating|Reset|reboot/i, 120).catch(() => undefined);
    } finally {
      await s.stop();
    }

    // 3. Enrolled: shim verifies the signed Xen, which starts from its own sections: config, domain 0's kernel and initrd.
    s = await boot(iso, vars, "3-xen");
    try {
      await s.waitFor(/Secure Boot: Xen signed with your key/, 600);
      await pause(1000);
      s.send("x");
      await s.waitFor("Using builtin config file", 300);
      await s.waitFor(/\(XEN\) Command line: dom0_mem=max:512M console=com1,vga com1=115200,8n1 bootscrub=false/, 300);
      // Domain 0's kernel running: its login, or on OVMF's Secure Boot build (q35, SMM), Linux's own refusal of the
      // firmware's memory map (ACPI NVS at 8-23 MiB, where a PV kernel sits); the same with Secure Boot off (README).
      const dom0 = await s.waitFor(/login: |Xen hypervisor allocated kernel memory conflicts with E820 map/, 900);
      expect(s.output).toContain("(XEN) *** Serial input to DOM0");
      expect(s.output).not.toMatch(/could not be verified|Security Violation|Access Denied/);
      process.stderr.write(`  secure-boot key: domain 0 reached ${JSON.stringify(dom0[0])}\n`);
    } finally {
      await s.stop();
    }
  }, 3_600_000);
});
