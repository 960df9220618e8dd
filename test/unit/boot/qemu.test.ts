import { describe, expect, it } from "vitest";
import { OVMF, qemuArgs } from "../../../src/boot/qemu.ts";

describe("qemu arguments", () => {
  it("uses TCG with qemu64 (Xen PV dom0 crashes with -cpu max), the serial console on stdio and no reboot", () => {
    const a = qemuArgs({ iso: "/x.iso", firmware: "bios", memoryMb: 1024, accel: "tcg" });
    expect(a.join(" ")).toContain("-accel tcg -cpu qemu64 -m 1024");
    expect(a.join(" ")).toContain("-serial stdio -monitor none -no-reboot");
    expect(a).toContain("file=/x.iso,media=cdrom,readonly=on,format=raw");
    expect(a).not.toContain("-bios");
  });

  it("boots UEFI with OVMF and can attach the image as a USB stick", () => {
    const a = qemuArgs({ iso: "/x.iso", firmware: "uefi", memoryMb: 2048, accel: "kvm", usb: true });
    expect(a[a.indexOf("-bios") + 1]).toBe(OVMF);
    expect(a[a.indexOf("-cpu") + 1]).toBe("host");
    expect(a.join(" ")).toMatch(/-device qemu-xhci -drive if=none,id=stick,format=raw,readonly=on,file=\/x\.iso -device usb-storage,drive=stick/);
  });
});
