"""fake_common.py: the machinery shared by the HTTP fakes in tests/tools (fake_discord.py, fake_openai.py).

Standard library only. Each fake's module docstring stays the reference for what that fake does; this
module holds the parts they have in common:

  * the server: a threaded HTTP/1.1 server with keep-alive (Server), started by run(), which parses
    --port/--host/--record/--verbose, prints "ready <port>" on stdout once listening, and exits with
    status 0 on SIGTERM or SIGINT (delayed or hung requests are woken and dropped first; exit status
    2 if the record file cannot be opened or the port cannot be bound);
  * request recording (State.record): every request outside /_control/ is kept in memory and, with
    --record FILE, appended to FILE as one JSON line; "seq" keeps counting across resets;
  * the control API under /_control/ (FakeHandler.control): POST script (scripts matched FIFO, in
    registration order, by method (case-insensitive, null = any) and path_contains (a substring of
    the path as sent, without the query; null = any)), GET scripts, GET requests (filters
    path_contains, method, since=SEQ), GET count (the same filters; answers how many requests
    match as a plain-text number, so that a shell can poll it without parsing JSON), POST reset,
    GET health;
  * validate_script(), which checks the fields every scripted response may carry ("status",
    "headers", "body", "delay_ms", "close");
  * the request flow and response helpers of FakeHandler: body reading (Content-Length or chunked,
    at most MAX_BODY, 413 above), sending JSON/text bodies with a correct Content-Length (a
    "Content-Type" in the extra headers overrides the default type, "Connection: close" closes
    after answering), scripted "delay_ms" (cut short when the server stops), "close" (drop the
    connection without answering) and "hang" (keep the connection open without answering until
    the client gives up or the server stops).

How a fake plugs in:
    class MyState(State): optional; override reset_locked() to clear the fake's own stored data
        (called with the lock held by reset()), add attributes in __init__.
    class MyHandler(FakeHandler): set NAME (log prefix, e.g. "fake_x"), SERVER_VERSION, SCRIPT_KEYS
        (the response fields listed by GET /_control/scripts), TOO_LARGE_BODY (the 413 JSON body)
        and CONTROL_NOT_FOUND_BODY (the 404 JSON body for an unknown /_control/ endpoint); and
        override:
          validate_script(obj)      usually validate_script(obj, extra) with a callback that checks
                                    and adds the fake's own response fields (e.g. "hang", "raw");
          parse_body(headers, body) -> (parsed_json, extra_record_fields) (default: JSON or None);
          on_request(req)           called with the state lock held before the script is taken
                                    (e.g. to count requests); its result is kept as req.ctx;
          scripted_answer(req)      -> None (use the default answer, plus the script's headers) or
                                    (status, body_bytes, content_type) built from req.scripted;
          default_answer(req)       -> (status, headers, body, content_type), where body is bytes or
                                    a callable(status, headers) that sends the answer itself
                                    (e.g. a streamed download).
    Then: if __name__ == "__main__": sys.exit(run(MyHandler, MyState, "description")).
    Importing a fake (or this module) never starts a server.
"""

import argparse
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

MAX_BODY = 64 * 1024 * 1024


class State:
    """Everything shared between handler threads; guarded by one lock."""

    def __init__(self, record_file, verbose, name="fake"):
        self.lock = threading.Lock()
        self.requests = []
        self.scripts = []  # dicts: {"method", "path_contains", "responses": [..]}
        self.seq = 0
        self.record_file = record_file
        self.verbose = verbose
        self.name = name
        self.stopping = threading.Event()

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.scripts.clear()
            self.reset_locked()

    def reset_locked(self):
        """Hook: clears the fake's own stored data. Caller holds the lock."""

    def take_script(self, method, path):
        """Caller holds the lock. Returns the next matching scripted response or None."""
        for i, sc in enumerate(self.scripts):
            if sc["method"] is not None and sc["method"] != method:
                continue
            if sc["path_contains"] is not None and sc["path_contains"] not in path:
                continue
            resp = sc["responses"].pop(0)
            if not sc["responses"]:
                del self.scripts[i]
            return resp
        return None

    def record(self, entry):
        """Caller holds the lock."""
        self.requests.append(entry)
        if self.record_file is not None:
            try:
                self.record_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.record_file.flush()
            except (OSError, ValueError) as e:
                print("%s: cannot write record file: %s" % (self.name, e), file=sys.stderr)


def validate_script(obj, extra=None):
    """Checks a POST /_control/script body; raises ValueError with a message on a malformed one.

    extra(r, out), if given, checks the fake's own fields of response r and adds them to out.
    """
    if not isinstance(obj, dict):
        raise ValueError("script must be a JSON object")
    method = obj.get("method")
    if method is not None:
        if not isinstance(method, str) or not method:
            raise ValueError("method must be a string or null")
        method = method.upper()
    pc = obj.get("path_contains")
    if pc is not None and not isinstance(pc, str):
        raise ValueError("path_contains must be a string or null")
    responses = obj.get("responses")
    if not isinstance(responses, list) or not responses:
        raise ValueError("responses must be a non-empty array")
    out = []
    for r in responses:
        if not isinstance(r, dict):
            raise ValueError("each response must be an object")
        st = r.get("status")
        if st is not None and (not isinstance(st, int) or isinstance(st, bool) or not 100 <= st <= 599):
            raise ValueError("status must be an integer 100..599")
        hdrs = r.get("headers") or {}
        if not isinstance(hdrs, dict):
            raise ValueError("headers must be an object")
        delay = r.get("delay_ms", 0) or 0
        if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
            raise ValueError("delay_ms must be a non-negative number")
        resp = {
            "status": st,
            "headers": {str(k): str(v) for k, v in hdrs.items()},
            "body": r.get("body"),
            "has_body": "body" in r,
            "delay_ms": delay,
            "close": bool(r.get("close", False)),
        }
        if extra is not None:
            extra(r, resp)
        out.append(resp)
    return {"method": method, "path_contains": pc, "responses": out}


def encode_body(b):
    """A scripted "body": dict/list -> JSON, str -> text/plain, None -> empty. Returns (bytes, type)."""
    if isinstance(b, str):
        return b.encode("utf-8"), "text/plain; charset=utf-8"
    if b is None:
        return b"", "application/json"
    return json.dumps(b).encode("utf-8"), "application/json"


class Request:
    """One recorded API request as seen by the hooks of FakeHandler."""

    def __init__(self, method, path, query, headers, body, parsed, extra, seq, scripted):
        self.method = method
        self.path = path  # as sent, without the query
        self.query = query
        self.headers = headers  # lower-case names
        self.body = body  # raw bytes
        self.json = parsed
        self.extra = extra  # fake-specific record fields (e.g. {"parts": [...]})
        self.seq = seq
        self.scripted = scripted  # the scripted response used, or None
        self.ctx = None  # whatever on_request() returned


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid 40 ms stalls
    timeout = 120  # idle keep-alive connections are closed after this many seconds

    NAME = "fake"
    SERVER_VERSION = "fake/1.0"
    SCRIPT_KEYS = ("status", "headers", "body", "delay_ms", "close")
    TOO_LARGE_BODY = {"ok": False, "error": "Request entity too large"}
    CONTROL_NOT_FOUND_BODY = {"ok": False, "error": "unknown control endpoint"}

    def version_string(self):
        return self.SERVER_VERSION

    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):
        if self.state.verbose:
            sys.stderr.write("%s: %s - %s\n" % (self.NAME, self.address_string(), fmt % args))

    # -- hooks for the fakes ------------------------------------------------------------

    def validate_script(self, obj):
        return validate_script(obj)

    def parse_body(self, headers, body):
        """Returns (parsed JSON or None, dict of extra record fields)."""
        parsed = None
        if body:
            try:
                parsed = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                parsed = None
        return parsed, {}

    def on_request(self, req):
        """Called with the state lock held, before a script is taken. Result kept as req.ctx."""
        return None

    def scripted_answer(self, req):
        """(status, body_bytes, content_type) for req.scripted, or None for the default answer."""
        return None

    def default_answer(self, req):
        """(status, headers, body bytes or callable(status, headers), content_type)."""
        raise NotImplementedError

    # -- low-level helpers --------------------------------------------------------------

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers until an empty line
                        t = self.rfile.readline(65537)
                        if not t or t in (b"\r\n", b"\n"):
                            break
                    break
                total += size
                if total > MAX_BODY:
                    raise OverflowError()
                data = self.rfile.read(size)
                if len(data) != size:
                    raise ConnectionError("eof in chunk")
                chunks.append(data)
                self.rfile.readline(3)  # CRLF after the chunk
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n < 0:
            raise ValueError("negative Content-Length")
        if n > MAX_BODY:
            raise OverflowError()
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionError("eof in body")
        return data

    def send_head(self, status, length, headers=None, content_type=None):
        """Sends the status line and headers; returns False if the body must not be sent."""
        headers = dict(headers or {})
        ct_override = None
        for k in list(headers):
            lk = k.lower()
            if lk in ("content-length", "transfer-encoding"):
                del headers[k]
            elif lk == "content-type":
                ct_override = headers.pop(k)
            elif lk == "connection":
                if headers[k].lower() == "close":
                    self.close_connection = True
                del headers[k]
        no_body = status in (204, 304) or 100 <= status < 200
        if no_body:
            length = 0
        self.send_response(status)
        if length or ct_override:
            self.send_header("Content-Type", ct_override or content_type or "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        if not no_body:
            self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        return not no_body and self.command != "HEAD"

    def send(self, status, body=b"", headers=None, content_type=None):
        if self.send_head(status, len(body), headers, content_type) and body:
            self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, obj, headers=None):
        body = b"" if obj is None else json.dumps(obj).encode("utf-8")
        self.send(status, body, headers, "application/json")

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def hang(self):
        """Holds the connection without answering until the peer closes it or the server stops."""
        sock = self.connection
        stopping = self.state.stopping
        while not stopping.is_set():
            try:
                readable, _, _ = select.select([sock], [], [], 0.2)
                if readable and sock.recv(1, socket.MSG_PEEK) == b"":
                    break  # the client gave up
                if readable:
                    stopping.wait(0.2)  # pipelined data: ignore it, keep hanging
            except (OSError, ValueError):
                break
        self.drop()

    # -- dispatch -----------------------------------------------------------------------

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        try:
            body = self.read_body()
        except OverflowError:
            self.close_connection = True
            self.send_json(413, self.TOO_LARGE_BODY)
            return
        except (ValueError, ConnectionError, OSError):
            self.close_connection = True
            return
        path, _, query = self.path.partition("?")
        try:
            if path.startswith("/_control/") or path == "/_control":
                self.control(path, query, body)
            else:
                self.api(path, query, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def control(self, path, query, body):
        st = self.state
        method = self.command
        if path == "/_control/health" and method == "GET":
            return self.send_json(200, {"ok": True})
        if path == "/_control/reset" and method == "POST":
            st.reset()
            return self.send_json(200, {"ok": True})
        if path == "/_control/script" and method == "POST":
            try:
                script = self.validate_script(json.loads(body.decode("utf-8")))
            except (ValueError, UnicodeDecodeError) as e:
                return self.send_json(400, {"ok": False, "error": str(e)})
            with st.lock:
                st.scripts.append(script)
            return self.send_json(200, {"ok": True, "queued": len(script["responses"])})
        if path == "/_control/scripts" and method == "GET":
            with st.lock:
                out = [{"method": s["method"], "path_contains": s["path_contains"],
                        "remaining": len(s["responses"]),
                        "responses": [{k: r[k] for k in self.SCRIPT_KEYS} for r in s["responses"]]}
                       for s in st.scripts]
            return self.send_json(200, out)
        if path in ("/_control/requests", "/_control/count") and method == "GET":
            q = parse_qs(query, keep_blank_values=True)
            pc = q.get("path_contains", [None])[0]
            meth = q.get("method", [None])[0]
            since = q.get("since", [None])[0]
            try:
                since = int(since) if since not in (None, "") else None
            except ValueError:
                return self.send_json(400, {"ok": False, "error": "since must be an integer"})
            with st.lock:
                out = [r for r in st.requests
                       if (not pc or pc in r["path"])
                       and (not meth or r["method"] == meth.upper())
                       and (since is None or r["seq"] > since)]
                if path == "/_control/count":
                    data, ctype = b"%d\n" % len(out), "text/plain; charset=utf-8"
                else:
                    data, ctype = json.dumps(out, ensure_ascii=False).encode("utf-8"), "application/json"
            return self.send(200, data, None, ctype)
        return self.send_json(404, self.CONTROL_NOT_FOUND_BODY)

    def api(self, path, query, body):
        st = self.state
        method = self.command
        headers = {}
        for k, v in self.headers.items():
            lk = k.lower()
            headers[lk] = headers[lk] + ", " + v if lk in headers else v
        parsed, extra = self.parse_body(headers, body)
        req = Request(method, path, query, headers, body, parsed, extra, 0, None)

        with st.lock:
            st.seq += 1
            req.seq = st.seq
            req.ctx = self.on_request(req)
            req.scripted = scripted = st.take_script(method, path)
        entry = {
            "seq": req.seq,
            "time": time.time(),
            "method": method,
            "path": path,
            "query": query,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "json": parsed,
        }
        entry.update(extra)

        status = None
        resp_headers = {}
        resp_body = b""
        resp_ctype = "application/json"
        if scripted is not None and (scripted["close"] or scripted.get("hang")):
            pass  # no answer at all
        else:
            answer = self.scripted_answer(req) if scripted is not None else None
            if answer is not None:
                status, resp_body, resp_ctype = answer
                resp_headers = scripted["headers"]
            else:
                status, resp_headers, resp_body, resp_ctype = self.default_answer(req)
                resp_headers = dict(resp_headers or {})
                if scripted is not None:
                    resp_headers.update(scripted["headers"])

        entry["status"] = status
        entry["scripted"] = scripted is not None
        with st.lock:
            st.record(entry)

        if scripted is not None and scripted["delay_ms"]:
            if st.stopping.wait(scripted["delay_ms"] / 1000.0):
                self.drop()
                return
        if scripted is not None and scripted.get("hang") and not scripted["close"]:
            if st.verbose:
                sys.stderr.write("%s: %s %s -> (hanging)\n" % (self.NAME, method, self.path))
            self.hang()
            return
        if status is None:  # "close": drop the connection without an answer
            if st.verbose:
                sys.stderr.write("%s: %s %s -> (connection dropped)\n" % (self.NAME, method, self.path))
            self.drop()
            return
        if callable(resp_body):
            resp_body(status, resp_headers)
        else:
            self.send(status, resp_body, resp_headers, resp_ctype)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # never wait for hung handler threads (scripted delays) on shutdown
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        if self.state.verbose:
            super().handle_error(request, client_address)


def run(handler_cls, state_cls, description):
    """Parses the command line, serves until SIGTERM/SIGINT. Returns 2 on a start-up error; exits 0."""
    name = handler_cls.NAME
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--port", type=int, required=True, help="TCP port (0 = pick a free one)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--record", metavar="FILE", help="append one JSON line per recorded request to FILE")
    ap.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = ap.parse_args()

    record_file = None
    if args.record:
        try:
            record_file = open(args.record, "a", encoding="utf-8")
        except OSError as e:
            print("%s: cannot open %s: %s" % (name, args.record, e), file=sys.stderr)
            return 2

    try:
        server = Server((args.host, args.port), handler_cls)
    except OSError as e:
        print("%s: cannot listen on %s:%d: %s" % (name, args.host, args.port, e), file=sys.stderr)
        return 2
    state = state_cls(record_file, args.verbose, name)
    server.state = state

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        sys.stdout.write("ready %d\n" % server.server_address[1])
        sys.stdout.flush()
    except OSError:
        pass

    while not stop.is_set():
        stop.wait(0.5)

    state.stopping.set()  # wakes delayed and hung handlers, stops streamed downloads
    server.shutdown()
    server.server_close()
    with state.lock:  # no handler is in the middle of writing a record line
        if record_file is not None:
            record_file.close()
            state.record_file = None
    if args.verbose:
        sys.stderr.write("%s: stopped\n" % name)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass
    # Handler threads may still be blocked on sockets; do not let interpreter teardown wait on them.
    os._exit(0)
