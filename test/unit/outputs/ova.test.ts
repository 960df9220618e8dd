import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load.ts";
import { preflight } from "../../../src/preflight.ts";
import { ovaManifest, renderOvf, xml } from "../../../src/outputs/ova.ts";
import type { Source } from "../../../src/context.ts";

const facts = { name: "democd-2.0", diskFile: "appliance-disk1.vmdk", diskFileBytes: 177311744, capacityBytes: 842006528, populatedBytes: 402653184 };

describe("the OVA's descriptor and manifest", () => {
  it("renders an OVF 1.0 envelope: the disk with its sizes, a network, the machine's CPUs, memory, SATA disk and NIC", () => {
    const config = loadConfig({ cli: { version: "2.0", builder: "tests", format: "ova", vmCpus: "4", vmMemory: "2048" } });
    expect(renderOvf(config, facts)).toMatchInlineSnapshot(`
      "<?xml version="1.0" encoding="UTF-8"?>
      <!-- democd 2.0: an OVF 1.0 descriptor (DMTF DSP0243), rendered from templates/ovf.ejs -->
      <Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
        <References>
          <File ovf:href="appliance-disk1.vmdk" ovf:id="file1" ovf:size="177311744"/>
        </References>
        <DiskSection>
          <Info>The virtual disk: the installed democd system (GPT; BIOS boot, EFI system and ext4 root partitions)</Info>
          <Disk ovf:capacity="842006528" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized" ovf:populatedSize="402653184"/>
        </DiskSection>
        <NetworkSection>
          <Info>The logical network the machine's NIC connects to</Info>
          <Network ovf:name="nat">
            <Description>The network of the machine's first NIC (DHCP)</Description>
          </Network>
        </NetworkSection>
        <VirtualSystem ovf:id="democd-2.0">
          <Info>A democd 2.0 system: Xen and Linux, or Linux alone</Info>
          <Name>democd-2.0</Name>
          <ProductSection>
            <Info>What this appliance is</Info>
            <Product>democd</Product>
            <Vendor>tests</Vendor>
            <Version>2.0</Version>
          </ProductSection>
          <OperatingSystemSection ovf:id="96" vmw:osType="debian10_64Guest">
            <Info>The guest operating system</Info>
            <Description>Debian GNU/Linux (64-bit)</Description>
          </OperatingSystemSection>
          <VirtualHardwareSection>
            <Info>The virtual machine: 4 vCPUs, 2048 MB, one SATA disk, one E1000 NIC, BIOS firmware</Info>
            <System>
              <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
              <vssd:InstanceID>0</vssd:InstanceID>
              <vssd:VirtualSystemIdentifier>democd-2.0</vssd:VirtualSystemIdentifier>
              <vssd:VirtualSystemType>vmx-14</vssd:VirtualSystemType>
            </System>
            <Item>
              <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
              <rasd:Description>Number of virtual CPUs</rasd:Description>
              <rasd:ElementName>4 virtual CPU(s)</rasd:ElementName>
              <rasd:InstanceID>1</rasd:InstanceID>
              <rasd:ResourceType>3</rasd:ResourceType>
              <rasd:VirtualQuantity>4</rasd:VirtualQuantity>
            </Item>
            <Item>
              <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
              <rasd:Description>Memory size</rasd:Description>
              <rasd:ElementName>2048 MB of memory</rasd:ElementName>
              <rasd:InstanceID>2</rasd:InstanceID>
              <rasd:ResourceType>4</rasd:ResourceType>
              <rasd:VirtualQuantity>2048</rasd:VirtualQuantity>
            </Item>
            <Item>
              <rasd:Address>0</rasd:Address>
              <rasd:Description>SATA controller</rasd:Description>
              <rasd:ElementName>sataController0</rasd:ElementName>
              <rasd:InstanceID>3</rasd:InstanceID>
              <rasd:ResourceSubType>vmware.sata.ahci</rasd:ResourceSubType>
              <rasd:ResourceType>20</rasd:ResourceType>
            </Item>
            <Item>
              <rasd:AddressOnParent>0</rasd:AddressOnParent>
              <rasd:ElementName>disk0</rasd:ElementName>
              <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
              <rasd:InstanceID>4</rasd:InstanceID>
              <rasd:Parent>3</rasd:Parent>
              <rasd:ResourceType>17</rasd:ResourceType>
            </Item>
            <Item>
              <rasd:AddressOnParent>0</rasd:AddressOnParent>
              <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
              <rasd:Connection>nat</rasd:Connection>
              <rasd:Description>E1000 ethernet adapter</rasd:Description>
              <rasd:ElementName>ethernet0</rasd:ElementName>
              <rasd:InstanceID>5</rasd:InstanceID>
              <rasd:ResourceSubType>E1000</rasd:ResourceSubType>
              <rasd:ResourceType>10</rasd:ResourceType>
            </Item>
          </VirtualHardwareSection>
        </VirtualSystem>
      </Envelope>
      "
    `);
  });

  it("asks VMware for EFI when the config says so (the image boots on both)", () => {
    const efi = renderOvf(loadConfig({ cli: { format: "ova", vmFirmware: "efi" } }), facts);
    expect(efi).toContain('<vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>');
    expect(renderOvf(loadConfig({ cli: { format: "ova" } }), facts)).not.toContain("vmw:key=\"firmware\"");
  });

  it("escapes what it puts into XML", () => {
    expect(xml(`a&b<c>"d"'e'`)).toBe("a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;");
    const config = loadConfig({ cli: { format: "ova", builder: "Ann & <Bob>" } });
    expect(renderOvf(config, facts)).toContain("<Vendor>Ann &amp; &lt;Bob&gt;</Vendor>");
  });

  it("lists each member's SHA256 as ovftool and VirtualBox check it", () => {
    expect(ovaManifest([{ name: "a.ovf", sha256: "ab".repeat(32) }, { name: "a-disk1.vmdk", sha256: "cd".repeat(32) }])).toBe(
      `SHA256(a.ovf)= ${"ab".repeat(32)}\nSHA256(a-disk1.vmdk)= ${"cd".repeat(32)}\n`,
    );
  });

  it("refuses the appliance's machine settings without an appliance to describe", () => {
    const source = { refuse: () => [] } as unknown as Source;
    expect(() => preflight(loadConfig({ cli: { format: "iso,qcow2", vmCpus: "4", vmFirmware: "efi" } }), source)).toThrow(
      /vm\.cpus: describes the machine of an appliance; add ova to --format, or leave it out[\s\S]*vm\.firmware: describes/,
    );
    expect(() => preflight(loadConfig({ cli: { format: "ova", vmCpus: "4" } }), source)).not.toThrow();
    expect(() => loadConfig({ cli: { vmFirmware: "coreboot", vmCpus: "0" } })).toThrow(/vm\.cpus: [\s\S]*vm\.firmware: /);
  });
});
