/**
 * The web console's API as its page calls it, from the host through boot --web's forward:
 * the token traded for the cookie once, then JSON with the page's header on every change.
 */
export async function webClient(url: string) {
  const first = await fetch(url, { redirect: "manual" });
  const cookie = first.headers.getSetCookie()[0]?.split(";")[0];
  if (first.status !== 303 || !cookie) throw new Error(`the web console refused its own token: HTTP ${first.status}`);
  const base = new URL(url).origin;
  const call = async (method: string, p: string, body?: unknown) => {
    const r = await fetch(base + p, {
      method,
      headers: { Cookie: cookie, ...(method === "POST" ? { "Content-Type": "application/json", "X-Democd-Request": "1" } : {}) },
      body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
    });
    return { status: r.status, body: await r.json() };
  };
  return { cookie, get: (p: string) => call("GET", p), post: (p: string, body?: unknown) => call("POST", p, body) };
}
