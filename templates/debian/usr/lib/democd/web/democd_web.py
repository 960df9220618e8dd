"""democd-web's application: the page (/usr/share/democd/web) and a small JSON API over the
tools a user types at domain 0's console: xl, the demo config, xenguest-manager,
xen_nat_enable. /usr/sbin/democd-web (the launcher) binds the port, makes the token and
announces the address, and imports this module only when the first browser connects: its
imports cost domain 0 seconds of CPU under emulation, while the logins are still starting.

Security, in short: every request needs the token (?token= once, then an HttpOnly,
SameSite=Strict cookie); a wrong one is answered after a second, one at a time; a request
that changes anything also needs the X-Democd-Request header, which another site's page
cannot send without asking (CSRF). Names and numbers from the browser are checked against
xl's and xenguest-manager's rules and passed as arguments, never through a shell.
"""
import base64
import fcntl
import hmac
import http.server
import json
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import urllib.parse

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
DOMAIN0 = "Domain-0"
MEMORY_MIN, MEMORY_MAX = 32, 1024 * 1024  # MiB: less boots no Linux guest; more is no demo machine
BODY_MAX = 64 * 1024
INPUT_MAX = 4096
SCROLLBACK = 256 * 1024
WRONG_TOKEN_DELAY = 1.0
MAX_CONNECTIONS = 64
COOKIE = "democd_token"
CSRF_HEADER = "X-Democd-Request"
DEMO_CFG = "/etc/xen/demo.cfg"
# Its own PATH, whatever the caller's: /usr/local/sbin's xl wrapper first (name=, ip=), as a
# user at the console gets it. DEMOCD_WEB_PATH: the tests' stubs.
PATH = os.environ.get("DEMOCD_WEB_PATH", "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin")
GUEST_IMAGES = os.environ.get("XENGUEST_IMAGES", "/usr/share/guests")
GUEST_LOG = os.environ.get("XENGUEST_LOG", "/var/log/xenguest.log")
BRIDGE_STATE = os.environ.get("DEMOCD_BRIDGE_STATE", "/run/democd/bridge")
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/xterm.mjs": ("xterm.mjs", "text/javascript; charset=utf-8"),
    "/xterm.css": ("xterm.css", "text/css; charset=utf-8"),
}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # xterm.js sets its colours and cell sizes in <style> elements of its own.
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
}

ENV = {"PATH": PATH, "LC_ALL": "C", "HOME": "/root", "TERM": "xterm-256color"}
for _k in ("XENGUEST_DIR", "XENGUEST_CONF", "XENGUEST_IMAGES", "XENGUEST_LOG", "XENGUEST_PATH"):
    if _k in os.environ:
        ENV[_k] = os.environ[_k]
# Everything but `xl create` skips the wrapper: a shell less for each of the page's readings.
DIRECT_ENV = dict(ENV, PATH=":".join(d for d in PATH.split(":") if d != "/usr/local/sbin"))


class Refused(Exception):
    """A request that cannot be done: its HTTP status and the one line the user reads."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def run(argv, timeout=120):
    """A tool's exit code and its output (stdout then stderr), as the user would see it typed."""
    env = ENV if argv[:2] == ["xl", "create"] else DIRECT_ENV
    try:
        p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        return 127, f"{argv[0]}: not found"
    except subprocess.TimeoutExpired:
        return 124, f"{' '.join(argv)}: no answer after {timeout} s"
    out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    return p.returncode, out


def answer(argv, timeout=120):
    """A change: its command and what it printed; the next domain list is read afresh."""
    code, out = run(argv, timeout)
    domains.forget()
    return {"ok": code == 0, "code": code, "command": " ".join(argv), "output": out}


def check_name(value, what="name"):
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise Refused(400, f"{what} {json.dumps(value)[:80]}: use 1-64 letters, digits, _ . - (starting with a letter or digit)")
    return value


def check_memory(value):
    if isinstance(value, bool) or not isinstance(value, int) or not MEMORY_MIN <= value <= MEMORY_MAX:
        raise Refused(400, f"memory {json.dumps(value)[:40]}: a whole number of MiB from {MEMORY_MIN} to {MEMORY_MAX}")
    return value


# ---- what the page shows -------------------------------------------------------------

def parse_xl_list(text):
    """`xl list`: Name ID Mem VCPUs State Time(s); a name may hold spaces, the rest cannot."""
    rows = []
    for line in text.splitlines()[1:]:
        parts = line.rsplit(None, 5)
        if len(parts) != 6 or not parts[1].isdigit():
            continue
        name, domid, mem, vcpus, state, cpu = parts
        rows.append({"name": name, "id": int(domid), "memory": int(mem) if mem.isdigit() else None,
                     "vcpus": int(vcpus) if vcpus.isdigit() else None, "state": describe_state(state), "cpuSeconds": cpu})
    return rows


# xl's state flags; "blocked" is a domain waiting for work, which a page calls idle.
STATES = {"r": "running", "b": "idle", "p": "paused", "s": "shutting down", "c": "crashed", "d": "dying"}


def describe_state(flags):
    """r-----: running; ------ (domain 0 between two runs) too."""
    return ", ".join(STATES[c] for c in flags if c in STATES) or "running"


def parse_xl_uptime(text):
    """`xl uptime`: Name ID Uptime, the uptime as `1 day, 2:03:04` or `0:12:34`."""
    out = {}
    for line in text.splitlines()[1:]:
        m = re.match(r"(.+?)\s+(\d+)\s+(\d.*\S)\s*$", line)
        if m:
            out[int(m.group(2))] = m.group(3)
    return out


def parse_vif_addresses(text):
    """The demo guests' addresses, from `xenstore-ls -f` of domain 0's vif backends."""
    out = {}
    for line in text.splitlines():
        m = re.match(r'/local/domain/0/backend/vif/(\d+)/\d+/ip = "([0-9. ]+)"', line)
        if m:
            out.setdefault(int(m.group(1)), m.group(2).split()[0])
    return out


def parse_addresses(text):
    """`ip -4 -o addr show`: [(device, address/len)]."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == "inet":
            out.append((parts[1], parts[3]))
    return out


class Cached:
    """A reading shared by every page for a few seconds: each costs domain 0 a few processes."""

    def __init__(self, seconds, read):
        self.seconds, self.read = seconds, read
        self.lock = threading.Lock()
        self.at, self.value = -1e9, None

    def __call__(self):
        with self.lock:
            if time.monotonic() - self.at > self.seconds:
                self.value = self.read()
                self.at = time.monotonic()
            return self.value

    def forget(self):
        with self.lock:
            self.at = -1e9


def read_global_addresses():
    _, text = run(["ip", "-4", "-o", "addr", "show"])
    return [(dev, cidr) for dev, cidr in parse_addresses(text) if dev != "lo" and not cidr.startswith("169.254.")]


global_addresses = Cached(5, read_global_addresses)


def read_domains():
    code, text = run(["xl", "list"])
    if code != 0:
        raise Refused(503, f"xl list: {text.strip() or 'failed'}")
    rows = parse_xl_list(text)
    _, up = run(["xl", "uptime"])
    _, vifs = run(["xenstore-ls", "-f", "/local/domain/0/backend/vif"])
    uptimes = parse_xl_uptime(up)
    addresses = parse_vif_addresses(vifs)
    own = global_addresses()
    for row in rows:
        row["uptime"] = uptimes.get(row["id"], "")
        if row["id"] == 0:
            row["address"] = own[0][1].split("/")[0] if own else ""
        else:
            row["address"] = addresses.get(row["id"], "")
    return rows


domains = Cached(2, read_domains)


def parse_xl_info(text):
    info = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            info[key.strip()] = value.strip()
    return info


def meminfo_mib(key):
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def bridge_state():
    """xen_bridge_enable's record: uplink=DEV (and nat=1 when NAT was on before)."""
    try:
        with open(BRIDGE_STATE) as f:
            state = dict(line.strip().split("=", 1) for line in f if "=" in line)
        return {"bridged": True, "uplink": state.get("uplink", "")}
    except OSError:
        return {"bridged": False, "uplink": ""}


def host():
    _, text = run(["xl", "info"])
    info = parse_xl_info(text)
    xen = f"{info.get('xen_major', '?')}.{info.get('xen_minor', '?')}{info.get('xen_extra', '')}"
    nat_code, _ = run(["nft", "list", "table", "ip", "democd_nat"])
    return {
        "hostname": os.uname().nodename,
        "xen": xen,
        "linux": os.uname().release,
        "xenTotalMemory": int(info["total_memory"]) if info.get("total_memory", "").isdigit() else None,
        "xenFreeMemory": int(info["free_memory"]) if info.get("free_memory", "").isdigit() else None,
        "dom0Available": meminfo_mib("MemAvailable"),
        "addresses": [f"{dev} {cidr}" for dev, cidr in global_addresses()],
        "nat": nat_code == 0,
        **bridge_state(),
    }


def demo_defaults():
    memory = None
    try:
        with open(DEMO_CFG) as f:
            for line in f:
                m = re.match(r"\s*memory\s*=\s*(\d+)\s*$", line)
                if m:
                    memory = int(m.group(1))
    except OSError:
        pass
    return {"memory": memory, "config": DEMO_CFG}


def start_demo(body):
    name = check_name(body.get("name"))
    if name == DOMAIN0:
        raise Refused(400, "Domain-0 is this machine's own name: choose another")
    memory = check_memory(body.get("memory"))
    argv = ["xl", "create"] + (["-n"] if body.get("dryRun") else []) + [DEMO_CFG, f"name={name}", f"memory={memory}"]
    return answer(argv)


def domain_action(name, action):
    check_name(name)
    if name == DOMAIN0:
        raise Refused(400, "Domain-0 is the machine this page runs on: shut it down at its console")
    if action == "shutdown":
        return answer(["xl", "shutdown", name])
    if action == "destroy":
        return answer(["xl", "destroy", name])
    raise Refused(404, f"no action {action!r} for a domain (shutdown, destroy)")


def guests():
    images = []
    try:
        for entry in sorted(os.listdir(GUEST_IMAGES)):
            base = entry[: -len(".xenguest")]
            if entry.endswith(".xenguest") and NAME_RE.match(base):
                images.append(base)
    except OSError:
        pass
    code, text = run(["xenguest-manager", "status"])
    created = []
    for line in text.splitlines() if code == 0 else []:
        name, sep, state = line.partition(": ")
        if sep and NAME_RE.match(name):
            created.append({"name": name, "state": state.strip()})
    return {"images": images, "guests": created, "log": tail(GUEST_LOG, 16 * 1024)}


def tail(path, size):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def guest_action(name, action):
    check_name(name)
    if action == "create":
        image = os.path.join(GUEST_IMAGES, name + ".xenguest")
        if not os.path.isfile(image):
            raise Refused(404, f"no image {name}.xenguest in {GUEST_IMAGES}")
        return answer(["xenguest-manager", "create", image, name], timeout=900)
    if action in ("start", "stop", "remove"):
        return answer(["xenguest-manager", action, name], timeout=900)
    raise Refused(404, f"no action {action!r} for a guest (create, start, stop, remove)")


def set_nat(body):
    on = body.get("on")
    if not isinstance(on, bool):
        raise Refused(400, "on: true or false")
    return answer(["xen_nat_enable"] if on else ["xen_nat_enable", "off"])


# ---- consoles --------------------------------------------------------------------------

class Console:
    """One terminal per domain, shared by every page that shows it: `xl console NAME` (or
    domain 0's login) in a pseudo-terminal, its recent output kept so a page that comes back
    sees where it is. Closing the page leaves it, and the domain, running."""

    def __init__(self, name, argv):
        self.name = name
        self.cond = threading.Condition()
        self.data = bytearray()
        self.first = 0  # offset of data[0] in everything the terminal has printed
        self.alive = True
        env = dict(DIRECT_ENV)
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.resize(100, 30)
        threading.Thread(target=self._pump, daemon=True).start()

    @property
    def end(self):
        return self.first + len(self.data)

    def _pump(self):
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            with self.cond:
                self.data += chunk
                if len(self.data) > SCROLLBACK:
                    drop = len(self.data) - SCROLLBACK
                    del self.data[:drop]
                    self.first += drop
                self.cond.notify_all()
        os.close(self.fd)
        os.waitpid(self.pid, 0)
        with self.cond:
            self.alive = False
            self.cond.notify_all()
        CONSOLES.forget(self)

    def read(self, offset, timeout):
        """(bytes after offset, their end, alive), waiting up to timeout for something new."""
        with self.cond:
            if offset >= self.end and self.alive:
                self.cond.wait(timeout)
            offset = min(max(offset, self.first), self.end)
            return bytes(self.data[offset - self.first:]), self.end, self.alive

    def write(self, data):
        if not self.alive:
            raise Refused(410, f"the console of {self.name} has ended")
        os.write(self.fd, data)

    def resize(self, cols, rows):
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Consoles:
    def __init__(self):
        self.lock = threading.Lock()
        self.open = {}

    def get(self, name):
        with self.lock:
            console = self.open.get(name)
        if console is None:
            raise Refused(404, f"no console of {name} is open")
        return console

    def start(self, name):
        check_name(name)
        with self.lock:
            console = self.open.get(name)
            if console is None or not console.alive:
                argv = ["login"] if name == DOMAIN0 else ["xl", "console", name]
                console = self.open[name] = Console(name, argv)
            return console

    def forget(self, console):
        with self.lock:
            if self.open.get(console.name) is console:
                del self.open[console.name]

    def names(self):
        with self.lock:
            return sorted(self.open)


CONSOLES = Consoles()


# ---- HTTP ------------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "democd-web"
    sys_version = ""
    # A connection that sends no request within this many seconds is closed (its thread freed).
    timeout = 20
    token = ""
    static = ""
    wrong_token = threading.Lock()

    def log_request(self, code="-", size="-"):
        # Changes and refusals only: the page's polling would fill domain 0's RAM with reads.
        status = int(code) if str(code).isdigit() else 0
        if self.command == "POST" or status >= 400:
            self.log_message("%s %s", self.command, status)

    def log_message(self, fmt, *args):
        # Never the query string: it may hold the token.
        path = urllib.parse.urlsplit(self.path).path if hasattr(self, "path") else "-"
        sys.stderr.write("%s %s %s\n" % (self.log_date_time_string(), path, fmt % args))

    def send_common(self, status, content_type, length=None, extra=None):
        self.send_response(status)
        for key, value in SECURITY_HEADERS.items():
            self.send_header(key, value)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()

    def send_body(self, status, body, content_type, extra=None):
        self.send_common(status, content_type, len(body), extra)
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, value):
        self.send_body(status, json.dumps(value).encode(), "application/json")

    def refuse(self, status, message):
        if self.path.startswith("/api/"):
            self.send_json(status, {"ok": False, "error": message})
        else:
            self.send_body(status, (message + "\n").encode(), "text/plain; charset=utf-8")

    def presented(self):
        """The token this request offers: the cookie, or ?token= in the address."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        cookies = {}
        for part in self.headers.get("Cookie", "").split(";"):
            key, sep, value = part.strip().partition("=")
            if sep:
                cookies[key] = value
        return cookies.get(COOKIE), (query.get("token") or [None])[0]

    def authorized(self):
        cookie, in_url = self.presented()
        for given in (cookie, in_url):
            if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
                return True, given is in_url
        if cookie is not None or in_url is not None:
            # One wrong guess a second, however many connections ask.
            with Handler.wrong_token:
                time.sleep(WRONG_TOKEN_DELAY)
        self.refuse(401, "unauthorized: open the address with ?token= that domain 0's console shows")
        return False, False

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        ok, from_url = self.authorized()
        if not ok:
            return
        path = urllib.parse.urlsplit(self.path).path
        if from_url:
            # Keep the token in a cookie the page's scripts cannot read, and off the address bar.
            cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
            self.send_body(303, b"", "text/plain", {"Location": path, "Set-Cookie": cookie})
            return
        try:
            if path in STATIC_FILES:
                self.send_static(*STATIC_FILES[path])
            elif path == "/api/domains":
                self.send_json(200, {"ok": True, "domains": domains()})
            elif path == "/api/host":
                self.send_json(200, {"ok": True, "host": host()})
            elif path == "/api/demo":
                self.send_json(200, {"ok": True, "demo": demo_defaults()})
            elif path == "/api/guests":
                self.send_json(200, {"ok": True, **guests()})
            elif path == "/api/consoles":
                self.send_json(200, {"ok": True, "consoles": CONSOLES.names()})
            elif (m := re.fullmatch(r"/api/consoles/([^/]+)/stream", path)):
                self.stream(urllib.parse.unquote(m.group(1)))
            else:
                self.refuse(404, "not found")
        except Refused as e:
            self.refuse(e.status, e.message)

    def send_static(self, name, content_type):
        try:
            with open(os.path.join(self.static, name), "rb") as f:
                body = f.read()
        except OSError:
            self.refuse(404, f"{name} is missing from {self.static}")
            return
        self.send_body(200, body, content_type)

    def stream(self, name):
        """A console's output as server-sent events (base64), from ?from= or Last-Event-ID."""
        console = CONSOLES.get(check_name(name))
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        start = self.headers.get("Last-Event-ID") or (query.get("from") or ["0"])[0]
        offset = int(start) if start.isdigit() else 0
        self.send_common(200, "text/event-stream")
        try:
            while True:
                data, end, alive = console.read(offset, 15)
                if data:
                    self.wfile.write(f"id: {end}\ndata: {base64.b64encode(data).decode()}\n\n".encode())
                elif alive:
                    self.wfile.write(b": still here\n\n")
                if not alive:
                    self.wfile.write(b"event: end\ndata: ended\n\n")
                    self.wfile.flush()
                    return
                self.wfile.flush()
                offset = end
        except (BrokenPipeError, ConnectionResetError):
            return

    def do_POST(self):
        ok, _ = self.authorized()
        if not ok:
            return
        if self.headers.get(CSRF_HEADER) != "1":
            self.refuse(403, f"a request that changes something needs the {CSRF_HEADER} header, which this page sends")
            return
        origin = self.headers.get("Origin")
        if origin and urllib.parse.urlsplit(origin).netloc != self.headers.get("Host"):
            self.refuse(403, f"a request from {origin} is not this page's")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= BODY_MAX:
                raise Refused(413, f"a request body holds at most {BODY_MAX} bytes")
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw)
            except ValueError:
                raise Refused(400, "the request body is not JSON")
            if not isinstance(body, dict):
                raise Refused(400, "the request body is not a JSON object")
            self.post(urllib.parse.urlsplit(self.path).path, body)
        except Refused as e:
            self.refuse(e.status, e.message)

    def post(self, path, body):
        if path == "/api/demo":
            self.send_json(200, start_demo(body))
        elif path == "/api/nat":
            self.send_json(200, set_nat(body))
        elif (m := re.fullmatch(r"/api/domains/([^/]+)/(\w+)", path)):
            self.send_json(200, domain_action(urllib.parse.unquote(m.group(1)), m.group(2)))
        elif (m := re.fullmatch(r"/api/guests/([^/]+)/(\w+)", path)):
            self.send_json(200, guest_action(urllib.parse.unquote(m.group(1)), m.group(2)))
        elif (m := re.fullmatch(r"/api/consoles/([^/]+)", path)):
            console = CONSOLES.start(urllib.parse.unquote(m.group(1)))
            self.send_json(200, {"ok": True, "name": console.name, "end": console.end})
        elif (m := re.fullmatch(r"/api/consoles/([^/]+)/input", path)):
            data = body.get("data")
            if not isinstance(data, str) or len(data) > INPUT_MAX:
                raise Refused(400, f"data: text of at most {INPUT_MAX} characters")
            CONSOLES.get(check_name(urllib.parse.unquote(m.group(1)))).write(data.encode("utf-8", "replace"))
            self.send_json(200, {"ok": True})
        elif (m := re.fullmatch(r"/api/consoles/([^/]+)/resize", path)):
            cols, rows = body.get("cols"), body.get("rows")
            if not all(isinstance(v, int) and not isinstance(v, bool) and 2 <= v <= 500 for v in (cols, rows)):
                raise Refused(400, "cols and rows: whole numbers from 2 to 500")
            CONSOLES.get(check_name(urllib.parse.unquote(m.group(1)))).resize(cols, rows)
            self.send_json(200, {"ok": True})
        else:
            raise Refused(404, "not found")


class Server(http.server.ThreadingHTTPServer):
    """One thread a connection, at most MAX_CONNECTIONS: more are closed unanswered, so a
    flood (wrong tokens wait a second each) cannot use up domain 0's memory."""

    daemon_threads = True
    allow_reuse_address = True
    slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def serve(fd, token, static):
    """Serve on the launcher's listening socket (its first connection already waiting) for ever."""
    Handler.token, Handler.static = token, static
    # Not bound here: that would resolve the host's name (socket.getfqdn), slow without DNS.
    server = Server(("", 0), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=fd)
    server.server_address = server.socket.getsockname()
    server.server_name, server.server_port = server.server_address[:2]
    server.serve_forever()
