import { describe, expect, it } from "vitest";
import { OVMF, OVMF_SECURE, qemuArgs } from "../../../src/boot/qemu.ts";
import { addAddress, announcedNetwork, checkSshPort, forwardCommands } from "../../../src/boot/ssh-forwards.ts";

describe("qemu arguments", () => {
  it("uses TCG with qemu64 plus SVM and nested paging (Xen's HVM and PVH guests), the serial console on stdio and no reboot", () => {
    const a = qemuArgs({ iso: "/x.iso", firmware: "bios", memoryMb: 1024, accel: "tcg" });
    expect(a.join(" ")).toContain("-accel tcg -cpu qemu64,+svm,+npt -m 1024");
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

  it("enforces Secure Boot as OVMF does: q35 with SMM, the secboot code read-only, the machine's own variables", () => {
    const a = qemuArgs({ iso: "/x.iso", firmware: "uefi-secure", memoryMb: 1024, accel: "tcg", efiVars: "/t/a,b/VARS.fd" });
    expect(a.join(" ")).toContain("-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on");
    expect(a).toContain(`if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_SECURE}`);
    expect(a).toContain("if=pflash,format=raw,unit=1,file=/t/a,,b/VARS.fd");
    expect(a).not.toContain("-bios");
    expect(() => qemuArgs({ iso: "/x.iso", firmware: "uefi-secure", memoryMb: 1024, accel: "tcg" })).toThrow(/own copy of the UEFI variables/);
  });

  it("boots a kernel directly with extra disks and no medium", () => {
    const a = qemuArgs({
      firmware: "bios", memoryMb: 512, accel: "tcg",
      kernel: "/b/vmlinuz", initrd: "/b/initrd.img", append: "root=UUID=1234 console=ttyS0,115200",
      drives: [{ file: "/d/disk,1.raw", format: "raw" }, { file: "/d/data.qcow2", format: "qcow2", interface: "ide", readonly: true }],
    });
    expect(a.join(" ")).not.toContain("media=cdrom");
    expect(a).toContain("file=/d/disk,,1.raw,format=raw,if=virtio");
    expect(a).toContain("file=/d/data.qcow2,format=qcow2,if=ide,readonly=on");
    expect(a[a.indexOf("-kernel") + 1]).toBe("/b/vmlinuz");
    expect(a[a.indexOf("-initrd") + 1]).toBe("/b/initrd.img");
    expect(a[a.indexOf("-append") + 1]).toBe("root=UUID=1234 console=ttyS0,115200");
  });

  it("starts from the CD when disks are attached beside it, and from the disk when there is no CD", () => {
    const withDisk = qemuArgs({ iso: "/x.iso", firmware: "bios", memoryMb: 1024, accel: "tcg", drives: [{ file: "/d.qcow2", format: "qcow2" }] });
    expect(withDisk.join(" ")).toContain("-boot order=d");
    expect(qemuArgs({ iso: "/x.iso", firmware: "bios", memoryMb: 1024, accel: "tcg" })).not.toContain("-boot");
    expect(qemuArgs({ firmware: "bios", memoryMb: 1024, accel: "tcg", drives: [{ file: "/d.qcow2", format: "qcow2" }] })).not.toContain("-boot");
  });

  it("--ssh forwards loopback PORT to the machine's ssh and PORT+1..4 to domain 0's 2201..2204; no ssh, no forwards", () => {
    const a = qemuArgs({ iso: "/x.iso", firmware: "bios", memoryMb: 1024, accel: "tcg", sshPort: 2222 });
    expect(a[a.indexOf("-nic") + 1]).toBe(
      "user,id=net0,model=e1000,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp:127.0.0.1:2223-:2201,hostfwd=tcp:127.0.0.1:2224-:2202,hostfwd=tcp:127.0.0.1:2225-:2203,hostfwd=tcp:127.0.0.1:2226-:2204",
    );
    const b = qemuArgs({ iso: "/x.iso", firmware: "bios", memoryMb: 1024, accel: "tcg" });
    expect(b[b.indexOf("-nic") + 1]).toBe("user,id=net0,model=e1000");
    expect(b[b.indexOf("-monitor") + 1]).toBe("none");
    const m = qemuArgs({ iso: "/x.iso", firmware: "bios", memoryMb: 1024, accel: "tcg", sshPort: 2222, monitor: "/t/a,b/monitor.sock" });
    expect(m[m.indexOf("-monitor") + 1]).toBe("unix:/t/a,,b/monitor.sock,server=on,wait=off");
  });

  it("--ssh takes a port whose guest ports fit too", () => {
    expect(checkSshPort("2222")).toBe(2222);
    for (const bad of ["0", "65532", "22x", "-1", ""]) expect(() => checkSshPort(bad), bad).toThrow(/--ssh: must be a TCP port from 1 to 65531/);
  });

  it("--ssh's guest ports follow xen_bridge_enable's console announcements: to guest N's own address, and back", () => {
    expect(announcedNetwork("[  81.2] democd: demo guests are bridged to eth0's network (domain 0 is 10.0.2.15/24 on xenbr0): each takes its address by DHCP")).toEqual({ bridged: true, dom0: "10.0.2.15" });
    expect(announcedNetwork("democd: demo guests are behind domain 0 again on xenbr0 (169.254.1.0/24), NAT on; eth0 has 10.0.2.15/24")).toEqual({ bridged: false });
    // Not the announcement: what a user typed, or another message.
    expect(announcedNetwork("root@democd:~# xen_bridge_enable")).toBeUndefined();
    expect(announcedNetwork("demo guests are bridged to eth0's network (domain 0 is unaddressed on xenbr0)")).toBeUndefined();
    expect(forwardCommands(2222, { bridged: true, dom0: "10.0.2.15" }).slice(0, 4)).toEqual([
      "hostfwd_remove net0 tcp:127.0.0.1:2223", "hostfwd_add net0 tcp:127.0.0.1:2223-10.0.2.16:22",
      "hostfwd_remove net0 tcp:127.0.0.1:2224", "hostfwd_add net0 tcp:127.0.0.1:2224-10.0.2.17:22",
    ]);
    expect(forwardCommands(2222, { bridged: false })).toHaveLength(8);
    expect(forwardCommands(2222, { bridged: false }).at(-1)).toBe("hostfwd_add net0 tcp:127.0.0.1:2226-:2204");
    expect(addAddress("192.168.7.254", 3)).toBe("192.168.8.1");
    expect(addAddress("10.0.2.15", 1)).toBe("10.0.2.16");
  });
});
