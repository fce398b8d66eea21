#!/usr/bin/env python3
"""hostile.py: raw-socket tools for tests/integration/cases_hostile.sh, for what curl cannot send
(bytes split and timed at will, broken framing, NUL bytes, a TLS ClientHello, pipelining) and two
small servers: a listener that only counts who connects (proof that a refused URL made no
connection) and a responder that answers every request with fixed raw bytes (an upstream that
sends what no well-behaved server would). Standard library only.

It is used from inside the integration tests' long-running JSON helper (json_eval.py puts
tests/tools on its path): `json_def 'import hostile'` once, then `json_get '' 'hostile.raw(argv[0])'
SPEC`, so no interpreter starts per case and the servers' threads live as long as the run. Every
call is bounded by its own timeouts. From a shell, for a look by hand:
    python3 tests/tools/hostile.py raw PORT SPEC_JSON
    python3 tests/tools/hostile.py hold PORT N SPEC_JSON

raw(spec[, default_port]) -> JSON text. spec is a JSON object:
    "port": the server's port on 127.0.0.1 (default: default_port)
    "send": a list of segments, sent in order on one connection; each one of
        {"text": "..."}      the string's code points 0..255 as bytes (JSON escapes: \\r\\n, \\u0000)
        {"hex": "16030100"}  bytes in hex
        {"tls_client_hello": true}  a TLS 1.2/1.3 ClientHello record, as a browser would open with
                                    ("line_free": one without any CR or LF byte)
      with optional "repeat": N (the bytes N times), "delay_ms": a pause before the segment, and
      "byte_delay_ms": send the segment one byte at a time with this pause between bytes.
    "shut_wr": true       half-close (FIN) once everything is sent
    "expect": N           stop reading once N responses are complete (then, with "wait_close",
                          keep reading until the server closes, up to "timeout_ms")
    "timeout_ms": how long to keep reading after the last byte was sent (default 2000)
    "probe": {"path": "/health", "every_ms": 250}: meanwhile, on other connections, GET that path
             repeatedly and record the slowest answer (the server's responsiveness under attack)
Answer: {"responses": [{"status", "headers" (lower-case names; repeated ones joined by ", "),
         "body" (latin-1 text, at most 4000 chars)}], "statuses": [...], "closed": bool (the
         server closed: EOF or reset), "reset": bool, "first_ms": time from the last byte sent to
         the first complete response (null if none; 0 if it came before the last byte),
         "close_ms": to the close (null if still open; 0 if before the last byte), "send_error":
         text or null (the server closed before everything was sent), "sent_bytes", "received_bytes", "probe_max_ms", "probe_failures", "probes"}
    A response without Content-Length (nor chunked framing) ends at the close.

hold(spec[, default_port]) -> JSON text: opens spec["connections"] connections to spec["port"], sends each the
    "send" segments (no delays honoured), keeps them open for "hold_ms" while probing like raw()
    ("probe" required), then reads what each got back within "timeout_ms". Answer: {"opened",
    "answered" (connections that got a full response), "closed" (closed by the server),
    "statuses", "probe_max_ms", "probe_failures", "probes"}.

listener() -> port: starts (once) a TCP listener on 127.0.0.1 and ::1 on one free port that
    accepts, reads a little, answers 404 and closes; accepted() -> how many connections it took,
    accepted_bytes() -> what the last one sent (latin-1, first 2000 bytes).
responder(hex) -> port: a new listener on 127.0.0.1 that answers every connection with the given
    bytes (after reading the request head and its Content-Length body) and closes;
    responder_count(port) -> how many connections it answered.

setp(obj, "a.b", value), delp(obj, "a.b") -> obj edited (nested keys; for changing interactions).
utf8_file_ok(path) -> True when the file's bytes are valid UTF-8 (strict: no surrogates, no
    overlong forms). wrong_type_commands(path, variant) -> the test interactions described there.
"""

import errno
import json
import socket
import sys
import threading
import time

CONNECT_TIMEOUT_S = 2.0


# ---- building the bytes ----

def tls_client_hello(line_free=False):
    """A TLS ClientHello record (TLS 1.2 framing offering 1.3, SNI hostile.slimy.test), as sent by a
    client that speaks HTTPS to a plain-HTTP port. With line_free, one without any CR or LF byte
    (no supported_groups (type 10) or signature_algorithms (type 13) extension, random bytes
    without them): a server that waits for a line end must still not wait forever."""
    def u16(n):
        return n.to_bytes(2, "big")

    def ext(kind, data):
        return u16(kind) + u16(len(data)) + data
    host = b"hostile.slimy.test"
    sni = ext(0, u16(len(host) + 3) + b"\x00" + u16(len(host)) + host)
    groups = ext(10, u16(4) + u16(0x001d) + u16(0x0017))
    versions = ext(43, b"\x04" + u16(0x0304) + u16(0x0303))
    sigalgs = ext(13, u16(4) + u16(0x0403) + u16(0x0804))
    key_share = ext(51, u16(36) + u16(0x001d) + u16(32) + bytes(range(0x60, 0x80)))
    alpn = ext(16, u16(12) + b"\x02h2" + b"\x08http/1.1")
    for pad in range(64):  # a padding extension (21) sized so that no length byte is CR or LF
        extensions = sni + versions + key_share + alpn + (b"" if line_free else groups + sigalgs)
        extensions += ext(21, bytes(pad))
        ciphers = u16(0x1301) + u16(0x1302) + u16(0xc02b) + u16(0xc02f)
        body = (u16(0x0303) + bytes(range(0x20, 0x40)) + b"\x20" + bytes(range(0x40, 0x60)) + u16(len(ciphers))
                + ciphers + b"\x01\x00" + u16(len(extensions)) + extensions)
        handshake = b"\x01" + len(body).to_bytes(3, "big") + body
        record = b"\x16\x03\x01" + u16(len(handshake)) + handshake
        if not line_free or (b"\n" not in record and b"\r" not in record):
            return record
    raise AssertionError("no line-free ClientHello")


def segment_bytes(seg):
    if "text" in seg:
        data = seg["text"].encode("latin-1")
    elif "hex" in seg:
        data = bytes.fromhex(seg["hex"])
    elif seg.get("tls_client_hello"):
        data = tls_client_hello(seg["tls_client_hello"] == "line_free")
    else:
        raise ValueError("a segment needs text, hex or tls_client_hello")
    return data * int(seg.get("repeat", 1))


# ---- reading responses ----

def parse_responses(buf, at_eof):
    """Splits buf into complete HTTP responses; returns (responses, consumed_bytes)."""
    out = []
    pos = 0
    while True:
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        head = buf[pos:end].decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            status = None
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                k = k.strip().lower()
                headers[k] = headers[k] + ", " + v.strip() if k in headers else v.strip()
        body_start = end + 4
        if status is not None and (status in (204, 304) or 100 <= status < 200):
            body, nxt = b"", body_start
        elif "content-length" in headers:
            try:
                n = int(headers["content-length"].split(",")[0])
            except ValueError:
                n = 0
            if len(buf) - body_start < n:
                break
            body, nxt = buf[body_start:body_start + n], body_start + n
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            chunks, p, complete = [], body_start, False
            while True:
                nl = buf.find(b"\r\n", p)
                if nl < 0:
                    break
                try:
                    size = int(buf[p:nl].split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    size = 0
                if size == 0:
                    fin = buf.find(b"\r\n\r\n", nl)
                    if fin < 0:
                        break
                    p, complete = fin + 4, True
                    break
                if len(buf) < nl + 2 + size + 2:
                    break
                chunks.append(buf[nl + 2:nl + 2 + size])
                p = nl + 2 + size + 2
            if not complete:
                break
            body, nxt = b"".join(chunks), p
        else:
            if not at_eof:
                break
            body, nxt = buf[body_start:], len(buf)
        out.append({"status": status, "headers": headers, "body": body.decode("latin-1")[:4000]})
        pos = nxt
        if 100 <= (status or 0) < 200:
            continue
    return out, pos


# ---- probing the server's responsiveness meanwhile ----

class Prober(threading.Thread):
    def __init__(self, port, path, every_ms):
        super().__init__(daemon=True)
        self.port, self.path, self.every = port, path, every_ms / 1000.0
        self.stop = threading.Event()
        self.max_ms = 0.0
        self.failures = 0
        self.count = 0

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            ok = False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2.0) as s:
                    s.sendall(("GET %s HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n" % self.path).encode())
                    data = b""
                    while True:
                        c = s.recv(4096)
                        if not c:
                            break
                        data += c
                    ok = data.startswith(b"HTTP/1.1 200")
            except OSError:
                ok = False
            took = (time.monotonic() - t) * 1000.0
            self.count += 1
            self.max_ms = max(self.max_ms, took)
            if not ok:
                self.failures += 1
            self.stop.wait(self.every)

    def result(self):
        self.stop.set()
        self.join(5)
        return {"probe_max_ms": round(self.max_ms), "probe_failures": self.failures, "probes": self.count}


def start_prober(port, spec):
    p = spec.get("probe")
    if not p:
        return None
    prober = Prober(port, p.get("path", "/health"), p.get("every_ms", 250))
    prober.start()
    return prober


# ---- raw(): one connection, bytes at will ----

def raw_exchange(spec):
    port = int(spec["port"])
    timeout = spec.get("timeout_ms", 2000) / 1000.0
    expect = spec.get("expect")
    wait_close = bool(spec.get("wait_close"))
    # The schedule: (seconds after the start, bytes), one entry per byte when byte_delay_ms is set.
    schedule, t = [], 0.0
    for seg in spec.get("send", []):
        data = segment_bytes(seg)
        t += seg.get("delay_ms", 0) / 1000.0
        bd = seg.get("byte_delay_ms")
        if bd:
            for i in range(len(data)):
                if i:
                    t += bd / 1000.0
                schedule.append((t, data[i:i + 1]))
        else:
            schedule.append((t, data))
    prober = start_prober(port, spec)
    res = {"responses": [], "closed": False, "reset": False, "first_ms": None, "close_ms": None,
           "send_error": None, "sent_bytes": 0, "received_bytes": 0}
    buf = b""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_S)
    except OSError as e:
        res["send_error"] = "connect: %s" % e
        if prober:
            res.update(prober.result())
        return res
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.monotonic()
    sent_at = None
    i = 0
    eof = False
    try:
        while True:
            now = time.monotonic()
            # Send whatever is due.
            while i < len(schedule) and res["send_error"] is None and start + schedule[i][0] <= now:
                try:
                    sock.settimeout(timeout)
                    sock.sendall(schedule[i][1])
                    res["sent_bytes"] += len(schedule[i][1])
                except OSError as e:
                    res["send_error"] = str(e)
                i += 1
                now = time.monotonic()
            if (i >= len(schedule) or res["send_error"]) and sent_at is None:
                sent_at = now
                if spec.get("shut_wr") and res["send_error"] is None:
                    try:
                        sock.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
            if sent_at is not None and now >= sent_at + timeout:
                break
            if eof:
                break
            if expect and len(res["responses"]) >= expect and not wait_close and sent_at is not None:
                break
            wait = (start + schedule[i][0] - now) if i < len(schedule) and sent_at is None else \
                (sent_at + timeout - now if sent_at is not None else 0.05)
            sock.settimeout(max(0.001, min(wait, 0.2)))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                res["reset"] = True
                chunk = b""
            except OSError as e:
                res["reset"] = True
                res["recv_error"] = str(e)
                chunk = b""
            # From the last byte sent; an answer (or close) before that counts as 0.
            t_ms = round((time.monotonic() - sent_at) * 1000) if sent_at is not None else 0
            if not chunk:
                eof = True
                res["closed"] = True
                res["close_ms"] = t_ms
            else:
                buf += chunk
                res["received_bytes"] += len(chunk)
            got, _ = parse_responses(buf, eof)
            if len(got) > len(res["responses"]) and res["first_ms"] is None:
                res["first_ms"] = t_ms
            res["responses"] = got
    finally:
        sock.close()
    res["statuses"] = [r["status"] for r in res["responses"]]
    if prober:
        res.update(prober.result())
    return res


def raw(spec_text, default_port=None):
    spec = json.loads(spec_text) if isinstance(spec_text, str) else spec_text
    spec.setdefault("port", default_port)
    return json.dumps(raw_exchange(spec))


# ---- hold(): many connections at once ----

def hold(spec_text, default_port=None):
    spec = json.loads(spec_text) if isinstance(spec_text, str) else spec_text
    spec.setdefault("port", default_port)
    port = int(spec["port"])
    data = b"".join(segment_bytes(s) for s in spec.get("send", []))
    socks = []
    for _ in range(int(spec["connections"])):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_S)
            if data:
                s.sendall(data)
            socks.append(s)
        except OSError:
            break
    prober = start_prober(port, spec)
    time.sleep(spec.get("hold_ms", 1000) / 1000.0)
    res = {"opened": len(socks)}
    if prober:
        res.update(prober.result())
    answered = closed = 0
    statuses = []
    deadline = time.monotonic() + spec.get("timeout_ms", 500) / 1000.0
    for s in socks:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        buf, eof = b"", False
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    eof = True
                    break
                buf += c
                if parse_responses(buf, False)[0]:
                    break
        except (socket.timeout, OSError):
            pass
        got, _ = parse_responses(buf, eof)
        if got:
            answered += 1
            statuses.append(got[0]["status"])
        if eof:
            closed += 1
        s.close()
    res.update({"answered": answered, "closed": closed, "statuses": statuses})
    return json.dumps(res)


# ---- listener(): who connects? ----

_lock = threading.Lock()
_listener = {"port": None, "count": 0, "last": b""}
_responders = {}


def _serve(sock, on_conn):
    def loop():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=on_conn, args=(conn,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def _read_request(conn, limit=1 << 20):
    conn.settimeout(2.0)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < limit:
            c = conn.recv(65536)
            if not c:
                return data
            data += c
        head, _, rest = data.partition(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                try:
                    n = int(v.strip())
                except ValueError:
                    n = 0
        while len(rest) < n and len(data) < limit:
            c = conn.recv(65536)
            if not c:
                break
            rest += c
            data += c
    except OSError:
        pass
    return data


def _listener_conn(conn):
    with _lock:
        _listener["count"] += 1
    data = _read_request(conn, 65536)
    with _lock:
        _listener["last"] = data[:2000]
    try:
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    conn.close()


def listener():
    with _lock:
        if _listener["port"]:
            return _listener["port"]
    for _ in range(20):
        s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s4.bind(("127.0.0.1", 0))
        port = s4.getsockname()[1]
        s6 = None
        try:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s6.bind(("::1", port))
        except OSError as e:
            if s6:
                s6.close()
            s6 = None
            if e.errno == errno.EADDRINUSE:
                s4.close()
                continue  # ::1 has this port taken: try another
            # no IPv6 loopback here: IPv4 only
        s4.listen(64)
        _serve(s4, _listener_conn)
        if s6:
            s6.listen(64)
            _serve(s6, _listener_conn)
        with _lock:
            _listener["port"] = port
        return port
    raise OSError("no port free on both 127.0.0.1 and ::1")


def accepted():
    with _lock:
        return _listener["count"]


def accepted_bytes():
    with _lock:
        return _listener["last"].decode("latin-1")


def responder(hex_bytes):
    payload = bytes.fromhex(hex_bytes)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    with _lock:
        _responders[port] = 0

    def on_conn(conn):
        _read_request(conn)
        with _lock:
            _responders[port] += 1
        try:
            conn.sendall(payload)
        except OSError:
            pass
        conn.close()
    s.listen(64)
    _serve(s, on_conn)
    return port


def responder_count(port):
    with _lock:
        return _responders.get(int(port), 0)


# ---- checks ----

def utf8_file_ok(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        data.decode("utf-8", "strict")
        return True
    except UnicodeDecodeError:
        return False


# ---- interactions with every option of the wrong type ----

# A value of each JSON type, and a type code that is none of the option's.
WRONG_VALUES = {
    3: [12345, {"a": 1}],           # STRING: a number, an object
    4: ["12", 1.5],                 # INTEGER: a string, a fraction
    5: ["true", 1],                 # BOOLEAN: a string, a number
    6: [42, ["1"]],                 # USER: a number (not a snowflake string), an array
    7: [True, {"id": "1"}],         # CHANNEL
    8: [None, 7],                   # ROLE
    10: ["1e3", [1]],               # NUMBER
    11: [2001, "no-such-attachment"],  # ATTACHMENT
}


def wrong_type_commands(path, variant):
    """Reads the registration JSON (`slimy commands`) at path; answers one line per leaf command:
    NAME TAB OPTIONS_JSON TAB DATA_TYPE. variant "values": every option with the right type code
    and a value of a wrong JSON type; "codes": every option with a type code that is not its own
    (the value a plausible one for the code given); "objects": options that are not objects."""
    with open(path, encoding="utf-8") as f:
        commands = json.load(f)
    lines = []

    def leaf_options(params):
        opts = []
        for o in params:
            t = o.get("type", 3)
            if variant == "values":
                opts.append({"name": o["name"], "type": t, "value": WRONG_VALUES.get(t, [None])[0]})
            elif variant == "values2":
                vals = WRONG_VALUES.get(t, [None])
                opts.append({"name": o["name"], "type": t, "value": vals[-1]})
            elif variant == "codes":
                wrong = 3 if t != 3 else 4
                opts.append({"name": o["name"], "type": wrong, "value": "1" if wrong == 3 else 1})
            else:  # "objects"
                opts.append([o["name"], t])
        return opts

    def walk(c, name, prefix):
        params = c.get("options", [])
        subs = [o for o in params if o.get("type") in (1, 2)]
        if c.get("type", 1) != 1:
            lines.append("%s\t%s\t%d" % (name, "", c["type"]))
            return
        if not subs:
            opts = leaf_options(params)
            for wrap in reversed(prefix):
                opts = [{"name": wrap[0], "type": wrap[1], "options": opts}]
            lines.append("%s\t%s\t1" % (name, json.dumps(opts, separators=(",", ":"))))
            return
        for s in subs:
            walk(s, name, prefix + [(s["name"], s["type"])])

    for c in commands:
        walk(c, c["name"], [])
    return "\n".join(lines)


def setp(obj, path, value):
    """Sets obj[k1][k2]... (path "k1.k2", list indexes as numbers) to value, making dicts on the
    way; answers obj (for one-line edits of an interaction in the tests)."""
    keys = path.split(".")
    cur = obj
    for k in keys[:-1]:
        k = int(k) if isinstance(cur, list) else k
        if isinstance(cur, dict) and not isinstance(cur.get(k), (dict, list)):
            cur[k] = {}
        cur = cur[k]
    last = int(keys[-1]) if isinstance(cur, list) else keys[-1]
    cur[last] = value
    return obj


def delp(obj, path):
    """Deletes obj[k1][k2]... when there; answers obj."""
    keys = path.split(".")
    cur = obj
    for k in keys[:-1]:
        k = int(k) if isinstance(cur, list) else k
        try:
            cur = cur[k]
        except (KeyError, IndexError, TypeError):
            return obj
    if isinstance(cur, dict):
        cur.pop(keys[-1], None)
    return obj


def webhook_paths_problem(requests_text, app_id, marker):
    """requests_text: the fake Discord's recorded requests (JSON). Answers "" when every request
    went to the interaction webhook of app_id (PATCH/GET/DELETE .../webhooks/APP/TOKEN/messages/ID,
    POST .../webhooks/APP/TOKEN) with TOKEN one path segment that, percent-decoded, holds no '/',
    '?', '#' or '\\' and is not '.' or '..', and marker appears in no query; otherwise the first
    request that did not, described."""
    from urllib.parse import unquote
    prefix = "/api/v10/webhooks/%s/" % app_id
    for r in json.loads(requests_text):
        where = "%s %s?%s" % (r["method"], r["path"], r["query"])
        if marker in (r.get("query") or ""):
            return "the token spilled into the query: " + where
        if not r["path"].startswith(prefix):
            return "outside %s: %s" % (prefix, where)
        rest = r["path"][len(prefix):].split("/")
        token = unquote(rest[0])
        if any(c in token for c in "/?#\\") or token in (".", "..", ""):
            return "the token segment decodes to %r: %s" % (token, where)
        tail = rest[1:]
        if r["method"] == "POST" and tail:
            return "a POST below the webhook: " + where
        if r["method"] != "POST" and (len(tail) != 2 or tail[0] != "messages"):
            return "not a message of the webhook: " + where
    return ""


def main(argv):
    if len(argv) >= 3 and argv[0] == "raw":
        spec = json.loads(argv[2])
        spec["port"] = int(argv[1])
        print(raw(spec))
        return 0
    if len(argv) >= 4 and argv[0] == "hold":
        spec = json.loads(argv[3])
        spec["port"], spec["connections"] = int(argv[1]), int(argv[2])
        print(hold(spec))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
