import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { renderFile } from "../../src/render/ejs.ts";
import { DEMO_NET, SSH_PORT_BASE } from "../../src/stages/root.ts";
import { REPO } from "../helpers/paths.ts";
import { tempDir } from "../helpers/temp.ts";
import { needTools } from "../helpers/tools.ts";

/**
 * xen_nat_enable as domain 0 runs it, in a network namespace of its own (no root needed, the
 * host's network untouched): an uplink with a default route, the demo bridge, and the real
 * nft. What it leaves in the kernel is what is checked, not its text.
 */
async function inNetns(script: string, withRoute = true): Promise<string> {
  const dir = tempDir("nat");
  const nat = path.join(dir, "xen_nat_enable");
  fs.writeFileSync(nat, renderFile(path.join(REPO, "templates/debian"), "usr/sbin/xen_nat_enable.ejs", { demoNet: DEMO_NET, sshPortBase: SSH_PORT_BASE }), { mode: 0o755 });
  const setup = [
    "set -e",
    "ip link add eth0 type veth peer name eth1",
    `ip link add ${DEMO_NET.bridge} type bridge`,
    "ip link set eth0 up; ip link set eth1 up",
    "ip addr add 10.0.2.15/24 dev eth0",
    ...(withRoute ? ["ip route add default via 10.0.2.2"] : []),
    "echo 0 >/proc/sys/net/ipv4/ip_forward",
    "set +e",
  ].join("\n");
  const r = await execa("unshare", ["--net", "--map-root-user", "sh", "-c", `${setup}\n${script}`, nat], { reject: false, all: true });
  return r.all ?? "";
}

describe("xen_nat_enable (domain 0's NAT and ssh forwards, on the real nft)", () => {
  it("forwards and masquerades the demo network's traffic leaving by another interface, and maps port 2200+N to guest N's ssh", async () => {
    await needTools("unshare", "ip", "nft");
    const out = await inNetns('"$0" && "$0" >/dev/null && echo "forward=$(cat /proc/sys/net/ipv4/ip_forward)" && nft list ruleset');
    expect(out).toContain(`xen_nat_enable: demo guests (${DEMO_NET.prefix}.0/${DEMO_NET.cidr}) reach the outside through eth0;`);
    expect(out).toContain("forward=1");
    // Run twice: the table is replaced as a whole, one rule each.
    expect(out.match(/table ip democd_nat/g)).toHaveLength(1);
    expect(out).toMatch(/type nat hook postrouting priority srcnat; policy accept;\s+ip saddr 169\.254\.1\.0\/24 oifname != "xenbr0" masquerade/);
    expect(out).toMatch(/type nat hook prerouting priority dstnat; policy accept;\s+iifname != "xenbr0" tcp dport 2201-2453 dnat ip to tcp dport map \{ 2201 : 169\.254\.1\.1 \. 22, 2202 : 169\.254\.1\.2 \. 22,/);
    expect(out).toContain("2453 : 169.254.1.253 . 22 }");
  });

  it("off takes the rules back; without a route out it says what to configure and changes nothing", async () => {
    await needTools("unshare", "ip", "nft");
    const off = await inNetns('"$0" >/dev/null && "$0" off && echo "rules: $(nft list ruleset | wc -l)"');
    expect(off).toMatch(/^xen_nat_enable: off; demo guests reach domain 0 only/m);
    expect(off).toContain("rules: 0");
    const noRoute = await inNetns('"$0"; echo "rc=$? forward=$(cat /proc/sys/net/ipv4/ip_forward) rules=$(nft list ruleset | wc -l)"', false);
    expect(noRoute).toContain("xen_nat_enable: domain 0 has no default route; configure its network first");
    expect(noRoute).toContain("rc=1 forward=0 rules=0");
  });
});
