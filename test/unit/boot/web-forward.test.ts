import { describe, expect, it } from "vitest";
import { checkWebPort, forwardedWebUrl, webForward } from "../../../src/boot/web-forward.ts";

describe("boot --web", () => {
  it("forwards the host's loopback only, to domain 0's port 80", () => {
    expect(webForward(8080)).toBe("hostfwd=tcp:127.0.0.1:8080-:80");
  });

  it("takes a TCP port that is not one of --ssh's", () => {
    expect(checkWebPort("8080")).toBe(8080);
    expect(checkWebPort("2200", 2222)).toBe(2200);
    expect(checkWebPort("2227", 2222)).toBe(2227);
    for (const bad of ["0", "65536", "80.5", "web", ""]) expect(() => checkWebPort(bad), bad).toThrow(/--web: must be a TCP port/);
    expect(() => checkWebPort("2224", 2222)).toThrow("--web 2224: --ssh 2222 forwards 2222-2226 already; choose another port");
  });

  it("turns the address domain 0 announces into the host's, keeping the token", () => {
    const token = "pn8gAn4FXEL10EL4_oRpS2OmUTCcJbSg-NsgGK1M2is";
    expect(forwardedWebUrl(`democd: web console: http://10.0.2.15/?token=${token}\r`, 8080)).toBe(`http://127.0.0.1:8080/?token=${token}`);
    expect(forwardedWebUrl(`democd: web console: http://192.168.1.7:80/?token=${token}`, 9000)).toBe(`http://127.0.0.1:9000/?token=${token}`);
    expect(forwardedWebUrl("democd: web console off (democd.web=off)", 8080)).toBeUndefined();
    expect(forwardedWebUrl("democd: web console: http://10.0.2.15/?token=short", 8080)).toBeUndefined();
    expect(forwardedWebUrl(`a guest typed http://10.0.2.15/?token=${token}`, 8080)).toBeUndefined();
  });
});
