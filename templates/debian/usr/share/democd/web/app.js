// democd's web console: one page over domain 0's JSON API (/usr/sbin/democd-web). No build
// step: xterm.js is the npm package's own ES module, copied onto the medium beside this file.
import { Terminal } from "/xterm.mjs";

const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

/** A call to the API; changes carry the header another site's page cannot send (CSRF). */
async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (method !== "GET") {
    init.headers = { "Content-Type": "application/json", "X-Democd-Request": "1" };
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    return { ok: false, error: `domain 0 does not answer (${e.message})` };
  }
  if (response.status === 401) return { ok: false, error: "the page's token is not (or no longer) valid: open the address domain 0's console shows" };
  try {
    return await response.json();
  } catch {
    return { ok: false, error: `${path}: HTTP ${response.status}` };
  }
}

function say(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

/** What a tool answered, in a <pre>: its command, then its output or its exact error. */
function show(pre, result) {
  pre.hidden = false;
  pre.className = result.ok ? "output" : "output error";
  pre.textContent = result.error ?? `# ${result.command}${result.ok ? "" : ` (exit ${result.code})`}\n${result.output || "(no output)"}`;
}

function el(tag, { dataset = {}, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  node.append(...children);
  return node;
}

function button(label, onClick, props = {}) {
  return el("button", { type: "button", textContent: label, onclick: onClick, ...props });
}

let domainNames = [];

async function refreshDomains() {
  const r = await api("GET", "/api/domains");
  if (!r.ok) return say(r.error, true);
  domainNames = r.domains.map((d) => d.name);
  $("domain-rows").replaceChildren(...r.domains.map((d) => {
    const actions = [button("Console", () => openConsole(d.name), { className: "console-open" })];
    if (d.id !== 0) {
      actions.push(button("Shut down", () => domainAction(d.name, "shutdown"), { className: "shutdown" }));
      actions.push(button("Destroy", () => confirm(`Destroy ${d.name}? It stops at once, as if its power were cut.`) && domainAction(d.name, "destroy"), { className: "destroy" }));
    }
    const cells = [d.name, d.id, d.state, d.memory === null ? "" : `${d.memory} MiB`, d.vcpus ?? "", d.uptime, d.address];
    return el("tr", { dataset: { domain: d.name } }, ...cells.map((c) => el("td", { textContent: String(c) })), el("td", {}, ...actions));
  }));
  if (!$("demo-name").value) $("demo-name").value = nextDemoName();
}

async function domainAction(name, action) {
  say(`${action} ${name}…`);
  const r = await api("POST", `/api/domains/${encodeURIComponent(name)}/${action}`);
  say(r.ok ? `${r.command}: done` : r.error ?? `${r.command}: ${r.output.trim()}`, !r.ok);
  refreshDomains();
}

async function refreshHost() {
  const r = await api("GET", "/api/host");
  if (!r.ok) return say(r.error, true);
  const h = r.host;
  $("host-title").textContent = `${h.hostname}: Xen ${h.xen}, Linux ${h.linux}`;
  const facts = [
    ["Xen", h.xen],
    ["Linux", h.linux],
    ["Free memory (Xen)", h.xenFreeMemory === null ? "?" : `${h.xenFreeMemory} of ${h.xenTotalMemory} MiB`],
    ["Available in domain 0", h.dom0Available === null ? "?" : `${h.dom0Available} MiB`],
    ["Addresses", h.addresses.join(", ") || "none yet"],
    ["Network", h.bridged ? `guests bridged to ${h.uplink}'s network (xen_bridge_enable)` : "guests behind domain 0"],
    ["NAT", h.nat ? "on" : "off"],
  ];
  $("host-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: v })]));
  const nat = $("nat-toggle");
  nat.disabled = false;
  nat.textContent = h.nat ? "Turn NAT off" : "Turn NAT on";
  nat.onclick = async () => {
    nat.disabled = true;
    const res = await api("POST", "/api/nat", { on: !h.nat });
    say(res.ok ? res.output.trim() : res.error ?? res.output.trim(), !res.ok);
    refreshHost();
  };
}

async function refreshGuests() {
  const r = await api("GET", "/api/guests");
  if (!r.ok) return say(r.error, true);
  const created = new Map(r.guests.map((g) => [g.name, g.state]));
  const names = [...new Set([...r.images, ...created.keys()])].sort();
  $("guest-rows").replaceChildren(...names.map((name) => {
    const state = created.get(name);
    const actions = [];
    if (!state && r.images.includes(name)) actions.push(button("Create", () => guestAction(name, "create")));
    if (state !== "running") actions.push(button("Start", () => guestAction(name, "start")));
    if (state === "running") actions.push(button("Stop", () => guestAction(name, "stop")));
    if (state) actions.push(button("Remove", () => confirm(`Remove guest ${name} and its disk?`) && guestAction(name, "remove")));
    return el("tr", { dataset: { guest: name } }, el("td", { textContent: name }), el("td", { textContent: state ?? "not created" }), el("td", {}, ...actions));
  }));
  if (!names.length) $("guest-rows").replaceChildren(el("tr", {}, el("td", { colSpan: 3, className: "hint", textContent: "No xenguest images in /usr/share/guests." })));
  $("guest-log").textContent = r.log || "(empty)";
}

async function guestAction(name, action) {
  say(`xenguest-manager ${action} ${name}…`);
  const r = await api("POST", `/api/guests/${encodeURIComponent(name)}/${action}`);
  say(r.ok ? `${r.command}: ${r.output.trim() || "done"}` : r.error ?? `${r.command}: ${r.output.trim()}`, !r.ok);
  refreshGuests();
  refreshDomains();
}

function nextDemoName() {
  for (let n = 1; ; n++) {
    const name = n === 1 ? "demo" : `demo${n}`;
    if (!domainNames.includes(name)) return name;
  }
}

/** The demo form: a dry run first; Start is for exactly what the dry run showed. */
function demoForm() {
  let checked = null;
  const values = () => ({ name: $("demo-name").value, memory: Number($("demo-memory").value) });
  const unchanged = () => checked && JSON.stringify(values()) === JSON.stringify(checked);
  for (const id of ["demo-name", "demo-memory"]) $(id).oninput = () => ($("demo-start").disabled = !unchanged());
  $("demo-form").onsubmit = async (event) => {
    event.preventDefault();
    const v = values();
    const r = await api("POST", "/api/demo", { ...v, dryRun: true });
    show($("demo-output"), r);
    checked = r.ok ? v : null;
    $("demo-start").disabled = !unchanged();
  };
  $("demo-start").onclick = async () => {
    if (!unchanged()) return;
    $("demo-start").disabled = true;
    say(`starting ${checked.name}…`);
    const r = await api("POST", "/api/demo", checked);
    show($("demo-output"), r);
    say(r.ok ? `${checked.name} started` : r.error ?? `${checked.name} did not start`, !r.ok);
    checked = null;
    $("demo-name").value = "";
    refreshDomains();
  };
  api("GET", "/api/demo").then((r) => {
    if (r.ok && r.demo.memory && !$("demo-memory").value) $("demo-memory").value = r.demo.memory;
  });
}

const panes = new Map();

/** A domain's console in a terminal: the server keeps it, so closing this pane ends nothing. */
async function openConsole(name) {
  if (panes.has(name)) {
    panes.get(name).pane.scrollIntoView({ block: "nearest" });
    return panes.get(name).term.focus();
  }
  const r = await api("POST", `/api/consoles/${encodeURIComponent(name)}`);
  if (!r.ok) return say(r.error, true);
  const body = el("div");
  const state = el("span");
  const pane = el("div", { className: "console", dataset: { console: name } },
    el("h3", {}, el("span", { textContent: name === "Domain-0" ? "Domain-0 (login)" : name }), state, button("Close", () => closeConsole(name), { className: "console-close" })), body);
  $("console-panes").append(pane);
  const term = new Terminal({ cols: 100, rows: 30, scrollback: 2000, fontSize: 13 });
  term.open(body);
  const url = `/api/consoles/${encodeURIComponent(name)}`;
  let queue = Promise.resolve();
  term.onData((data) => {
    queue = queue.then(() => api("POST", `${url}/input`, { data })).then((res) => res.ok || say(res.error, true));
  });
  api("POST", `${url}/resize`, { cols: term.cols, rows: term.rows });
  const events = new EventSource(`${url}/stream?from=0`);
  events.onmessage = (e) => term.write(Uint8Array.from(atob(e.data), (c) => c.charCodeAt(0)));
  events.addEventListener("end", () => {
    events.close();
    state.textContent = "ended";
    state.className = "ended";
  });
  panes.set(name, { pane, term, events });
  // xterm.js draws only what is on screen: show the new terminal.
  pane.scrollIntoView({ block: "nearest" });
  term.focus();
}

function closeConsole(name) {
  const p = panes.get(name);
  if (!p) return;
  panes.delete(name);
  p.events.close();
  p.pane.remove();
  p.term.dispose();
}

function refreshAll() {
  refreshHost();
  refreshDomains();
  refreshGuests();
}

demoForm();
refreshAll();
setInterval(refreshDomains, REFRESH_MS);
setInterval(refreshHost, REFRESH_MS * 3);
setInterval(refreshGuests, REFRESH_MS * 3);
