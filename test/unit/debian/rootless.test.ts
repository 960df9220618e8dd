import { describe, expect, it } from "vitest";
import { freeRange, rootlessProblems, userRange, type RootlessFacts } from "../../../src/debian/rootless.ts";

const ready: RootlessFacts = {
  user: "alice",
  uid: 1000,
  subuid: "alice:100000:65536\n",
  subgid: "alice:100000:65536\n",
  maxUserNamespaces: 63000,
  unprivilegedUsernsClone: undefined,
  apparmorRestrict: undefined,
  newuidmap: true,
  newgidmap: true,
};
const lines = (f: Partial<RootlessFacts>) => rootlessProblems({ ...ready, ...f }).map((p) => `${p.message} (${p.hint})`);

describe("what a rootless debian build needs from the host", () => {
  it("nothing more on a host set up as adduser leaves it", () => {
    expect(rootlessProblems(ready)).toEqual([]);
    expect(lines({ unprivilegedUsernsClone: 1, apparmorRestrict: 0 })).toEqual([]);
  });

  it("subordinate ids: the exact usermod line, with a range nobody else has", () => {
    expect(lines({ subuid: undefined, subgid: "" })).toEqual([
      "the debian profile bootstraps as an ordinary user in a user namespace (mmdebstrap --mode=unshare), but /etc/subuid has no range for alice and /etc/subgid has no range for alice" +
        " (as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice; or build as root)",
    ]);
    // Only what is missing; past the ranges others hold.
    expect(lines({ subuid: "bob:100000:65536\ncarol:165536:65536\nalice:231072:65536\n", subgid: "bob:100000:65536\n" })).toEqual([
      expect.stringMatching(/but \/etc\/subgid has no range for alice \(as root: usermod --add-subgids 296608-362143 alice; or build as root\)$/),
    ]);
  });

  it("a range too small to map a Debian root goes, as mmdebstrap reads only the first", () => {
    expect(lines({ subuid: "alice:100000:1000\n" })).toEqual([
      expect.stringMatching(/but \/etc\/subuid gives alice 1000 ids, fewer than 65536 \(as root: usermod --del-subuids 100000-100999 --add-subuids 165536-231071 alice; or build as root\)$/),
    ]);
  });

  it("user namespaces switched off, and the helpers missing, each with its switch", () => {
    expect(lines({ newuidmap: false })).toEqual([expect.stringMatching(/needs newuidmap and newgidmap \(as root: apt-get install uidmap; or build as root\)$/)]);
    expect(lines({ maxUserNamespaces: 0 })).toEqual([expect.stringMatching(/user namespaces are disabled \(user\.max_user_namespaces is 0\) \(as root: sysctl -w user\.max_user_namespaces=15000/)]);
    expect(lines({ unprivilegedUsernsClone: 0 })).toEqual([expect.stringMatching(/\(as root: sysctl -w kernel\.unprivileged_userns_clone=1 /)]);
    expect(lines({ apparmorRestrict: 1 })).toEqual([expect.stringMatching(/AppArmor .*\(as root: sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0; or build as root\)$/)]);
  });

  it("a uid without a name cannot be looked up", () => {
    expect(lines({ user: undefined, uid: 4242 })).toEqual([expect.stringMatching(/uid 4242 has no user name, by which \/etc\/subuid is read/)]);
  });

  it("reads the files as mmdebstrap does: by name, first entry", () => {
    expect(userRange("1000:5:65536\nalice:200000:65536\nalice:300000:65536\n", "alice")).toEqual({ name: "alice", start: 200000, count: 65536 });
    expect(userRange("# x\n\nbob:1:2\n", "alice")).toBeUndefined();
    expect(freeRange(undefined, undefined)).toBe("100000-165535");
    expect(freeRange("x:0:100\ny:100500:10\n", "")).toBe("100510-166045");
  });
});
