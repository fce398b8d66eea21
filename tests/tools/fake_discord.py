#!/usr/bin/env python3
"""fake_discord.py: a small fake of Discord's REST API (https://discord.com/api/v10) for tests.

Point the bot's Discord API base URL at http://127.0.0.1:<port> (an optional /api or /api/vN
prefix in request paths is accepted and ignored when routing). Standard library only.

Start:
    python3 tests/tools/fake_discord.py --port P [--host 127.0.0.1] [--record FILE] [--verbose]
Prints "ready <port>" on stdout once listening (--port 0 picks a free port). Exits cleanly (status 0)
on SIGTERM or SIGINT. With --verbose, one line per request goes to stderr; stdout stays quiet.

Every request outside /_control/ is recorded in memory and, with --record, appended to FILE as one
JSON line:
    {"seq": n, "time": epoch_float, "method": "PATCH", "path": "/webhooks/1/tok/messages/@original",
     "query": "raw query string or ''", "headers": {"lower-case-name": "value"},
     "body": "body as utf-8 text (errors replaced)", "json": parsed body or null,
     "parts": [...] or null, "status": status answered (null if the connection was dropped),
     "scripted": true if a scripted response was used}
For multipart/form-data bodies, "parts" is a list of
    {"name", "filename" (or null), "content_type" (or null), "size", "text" (utf-8 or null),
     "json" (parsed or null), "sha256" (hex of the raw bytes), "head_hex" (first 16 bytes, hex)}
and "json" is the parsed payload_json part. "seq" keeps counting across /_control/reset.

Default answers (when no script matches):
    PATCH  /webhooks/{app}/{token}/messages/@original  -> 200 message object (id, content, embeds,
                                                          attachments made from files[n] parts, ...)
    GET    /webhooks/{app}/{token}/messages/@original  -> 200 last stored message, or 404 (10008)
    DELETE /webhooks/{app}/{token}/messages/@original  -> 204
    POST   /webhooks/{app}/{token}                     -> 200 new message object
    PATCH/GET/DELETE /webhooks/{app}/{token}/messages/{id} -> 200 / 200 / 204 (404 if unknown)
    POST   /interactions/{id}/{token}/callback         -> 204
    PUT    /applications/{app}/commands                -> 200 request array echoed, each item given an
    PUT    /applications/{app}/guilds/{guild}/commands    "id" (stable per command name); 400 (50035)
                                                          if the body is not a JSON array
    GET    the same two command paths                   -> 200 last array PUT there ([] if none)
    anything else                                       -> 404 {"message": "404: Not Found", "code": 0}

Control API (never recorded):
    POST /_control/script   body: {"method": "PATCH" or null, "path_contains": "substr" or null,
                                   "responses": [{"status": 429, "headers": {"Retry-After": "1"},
                                                  "body": {...} or "text", "delay_ms": 0,
                                                  "close": false}, ...]}
        Queues scripted responses. Each later request whose method matches (case-insensitive; null =
        any) and whose path (without the query) contains path_contains (null = any) consumes the
        next queued response. Scripts are tried in registration order, so responses are used FIFO;
        once a script is used up it is dropped and the defaults apply again.
        In a response: "delay_ms" sleeps before answering; "close": true drops the connection
        without answering (after the delay, so delay + close simulates a hung server); leaving out
        "status" means "answer with the default response" (useful with "delay_ms" or extra
        "headers"). A dict/list "body" is sent as JSON, a string as text/plain (a "Content-Type" in
        "headers" overrides either). A 429 without a body gets Discord's
        {"message": "You are being rate limited.", "retry_after": <Retry-After or 1>, "global": false}.
        Answers 200 {"ok": true, "queued": n}; 400 on a malformed script.
    GET  /_control/requests[?path_contains=..&method=..&since=SEQ]
        JSON array of recorded requests (same objects as the record lines), filtered; since=SEQ keeps
        only requests with seq > SEQ.
    GET  /_control/scripts  -> JSON array of the scripts still pending (with remaining responses).
    POST /_control/reset    -> clears recorded requests, pending scripts and stored messages/commands.
    GET  /_control/health   -> 200 {"ok": true}
"""

import argparse
import hashlib
import json
import re
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

DISCORD_EPOCH_MS = 1420070400000
MAX_BODY = 64 * 1024 * 1024


class State:
    """Everything shared between handler threads; guarded by one lock."""

    def __init__(self, record_file, verbose):
        self.lock = threading.Lock()
        self.requests = []
        self.scripts = []  # dicts: {"method", "path_contains", "responses": [..]}
        self.seq = 0
        self.messages = {}  # (app, token, msg_key) -> message object
        self.commands = {}  # scope tuple -> list of commands
        self.command_ids = {}  # (scope, name, type) -> id
        self.record_file = record_file
        self.verbose = verbose
        self._last_sf = 0

    def snowflake(self):
        # Caller holds the lock.
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        sf = (ms << 22) | (1 << 17)  # worker 1
        if sf <= self._last_sf:
            sf = self._last_sf + 1
        self._last_sf = sf
        return str(sf)

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.scripts.clear()
            self.messages.clear()
            self.commands.clear()
            self.command_ids.clear()

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
                print("fake_discord: cannot write record file: %s" % e, file=sys.stderr)


def parse_header_params(header_name, value):
    msg = Message()
    msg[header_name] = value
    return msg


def parse_multipart(content_type, body):
    """Splits a multipart/form-data body into parts. Returns (parts, payload_json) or (None, None)."""
    ctmsg = parse_header_params("content-type", content_type)
    boundary = ctmsg.get_param("boundary")
    if not boundary:
        return None, None
    delim = b"--" + boundary.encode("latin-1")
    pos = body.find(delim)
    if pos < 0:
        return [], None
    raw_parts = []
    while True:
        pos += len(delim)
        if body[pos:pos + 2] == b"--":
            break  # closing delimiter
        # Skip the rest of the delimiter line (transport padding + CRLF).
        nl = body.find(b"\n", pos)
        if nl < 0:
            break
        start = nl + 1
        nxt = body.find(b"\r\n" + delim, start)
        sep_len = 2
        if nxt < 0:
            nxt = body.find(b"\n" + delim, start)
            sep_len = 1
        if nxt < 0:
            raw_parts.append(body[start:])  # unterminated: take what is there
            break
        raw_parts.append(body[start:nxt])
        pos = nxt + sep_len
    parts = []
    payload = None
    for raw in raw_parts:
        hend = raw.find(b"\r\n\r\n")
        if hend >= 0:
            head, data = raw[:hend], raw[hend + 4:]
        else:
            hend = raw.find(b"\n\n")
            if hend >= 0:
                head, data = raw[:hend], raw[hend + 2:]
            elif raw.startswith(b"\r\n") or raw.startswith(b"\n"):
                head, data = b"", raw.lstrip(b"\r\n")
            else:
                head, data = raw, b""
        headers = {}
        for line in head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        name = filename = None
        if "content-disposition" in headers:
            cd = parse_header_params("content-disposition", headers["content-disposition"])
            name = cd.get_param("name", header="content-disposition")
            filename = cd.get_filename()
        text = None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        pjson = None
        if text is not None:
            try:
                pjson = json.loads(text)
            except ValueError:
                pjson = None
        part = {
            "name": name,
            "filename": filename,
            "content_type": headers.get("content-type"),
            "size": len(data),
            "text": text,
            "json": pjson,
            "sha256": hashlib.sha256(data).hexdigest(),
            "head_hex": data[:16].hex(),
        }
        parts.append(part)
        if name == "payload_json" and payload is None:
            payload = pjson
    return parts, payload


ROUTE_PREFIX = re.compile(r"^/api(?:/v\d+)?(?=/|$)")
R_ORIGINAL = re.compile(r"^/webhooks/([^/]+)/([^/]+)/messages/@original$")
R_FOLLOWUP_MSG = re.compile(r"^/webhooks/([^/]+)/([^/]+)/messages/(\d+)$")
R_WEBHOOK = re.compile(r"^/webhooks/([^/]+)/([^/]+)$")
R_CALLBACK = re.compile(r"^/interactions/([^/]+)/([^/]+)/callback$")
R_GLOBAL_CMDS = re.compile(r"^/applications/([^/]+)/commands$")
R_GUILD_CMDS = re.compile(r"^/applications/([^/]+)/guilds/([^/]+)/commands$")

NOT_FOUND = (404, {"message": "404: Not Found", "code": 0})
UNKNOWN_MESSAGE = (404, {"message": "Unknown Message", "code": 10008})


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def default_answer(state, method, path, payload, parts):
    """Computes the default (status, json_or_None) for a request. Takes the state lock itself."""
    rpath = ROUTE_PREFIX.sub("", path, count=1) or "/"
    files = [p for p in (parts or []) if p["name"] and p["name"].startswith("files[")]
    if not isinstance(payload, dict):
        payload_obj = {}
    else:
        payload_obj = payload

    def attachments_for(existing):
        # Attachments kept by id from the existing message, plus one per uploaded files[n] part.
        kept = []
        listed = payload_obj.get("attachments")
        if isinstance(listed, list) and existing:
            listed_ids = {str(a.get("id")) for a in listed if isinstance(a, dict)}
            kept = [a for a in existing if a["id"] in listed_ids]
        elif existing and not files and "attachments" not in payload_obj:
            kept = list(existing)
        meta = {}
        if isinstance(listed, list):
            for a in listed:
                if isinstance(a, dict) and "id" in a:
                    meta[str(a["id"])] = a
        new = []
        for p in files:
            idx = p["name"][len("files["):].rstrip("]")
            aid = state.snowflake()
            fname = p["filename"] or meta.get(idx, {}).get("filename") or "file"
            att = {
                "id": aid,
                "filename": fname,
                "size": p["size"],
                "url": "https://cdn.discordapp.com/attachments/0/%s/%s" % (aid, fname),
                "proxy_url": "https://media.discordapp.net/attachments/0/%s/%s" % (aid, fname),
                "content_type": p["content_type"],
            }
            if isinstance(meta.get(idx, {}).get("description"), str):
                att["description"] = meta[idx]["description"]
            new.append(att)
        return kept + new

    def new_message(app, existing=None):
        if existing is None:
            msg = {
                "id": state.snowflake(),
                "type": 20,
                "channel_id": "0",
                "content": "",
                "author": {"id": app, "username": "fake-bot", "discriminator": "0000",
                           "global_name": None, "avatar": None, "bot": True},
                "attachments": [],
                "embeds": [],
                "components": [],
                "mentions": [],
                "mention_roles": [],
                "mention_everyone": False,
                "pinned": False,
                "tts": False,
                "timestamp": now_iso(),
                "edited_timestamp": None,
                "flags": 0,
                "webhook_id": app,
                "application_id": app,
            }
        else:
            msg = dict(existing)
            msg["edited_timestamp"] = now_iso()
        for key in ("content", "embeds", "components", "flags", "tts", "poll"):
            if key in payload_obj:
                val = payload_obj[key]
                if val is None:
                    val = {"content": "", "embeds": [], "components": [], "flags": 0}.get(key)
                msg[key] = val
        msg["attachments"] = attachments_for(existing["attachments"] if existing else [])
        return msg

    with state.lock:
        m = R_ORIGINAL.match(rpath)
        if m:
            app, token = m.group(1), m.group(2)
            key = (app, token, "@original")
            if method == "PATCH":
                msg = new_message(app, state.messages.get(key))
                state.messages[key] = msg
                state.messages[(app, token, msg["id"])] = msg
                return 200, msg
            if method == "GET":
                return (200, state.messages[key]) if key in state.messages else UNKNOWN_MESSAGE
            if method == "DELETE":
                gone = state.messages.pop(key, None)
                if gone is not None:
                    state.messages.pop((app, token, gone["id"]), None)
                return 204, None
            return NOT_FOUND
        m = R_FOLLOWUP_MSG.match(rpath)
        if m:
            app, token, mid = m.groups()
            key = (app, token, mid)
            if key not in state.messages:
                return UNKNOWN_MESSAGE
            if method == "PATCH":
                msg = new_message(app, state.messages[key])
                state.messages[key] = msg
                orig = state.messages.get((app, token, "@original"))
                if orig is not None and orig["id"] == mid:
                    state.messages[(app, token, "@original")] = msg
                return 200, msg
            if method == "GET":
                return 200, state.messages[key]
            if method == "DELETE":
                del state.messages[key]
                return 204, None
            return NOT_FOUND
        m = R_WEBHOOK.match(rpath)
        if m and method == "POST":
            app, token = m.groups()
            msg = new_message(app)
            state.messages[(app, token, msg["id"])] = msg
            return 200, msg
        m = R_CALLBACK.match(rpath)
        if m and method == "POST":
            return 204, None
        m = R_GLOBAL_CMDS.match(rpath)
        m2 = R_GUILD_CMDS.match(rpath)
        if (m or m2) and method in ("PUT", "GET"):
            app = (m or m2).group(1)
            guild = m2.group(2) if m2 else None
            scope = (app, guild)
            if method == "GET":
                return 200, state.commands.get(scope, [])
            if not isinstance(payload, list):
                return 400, {"message": "Invalid Form Body", "code": 50035,
                             "errors": {"_errors": [{"code": "BASE_TYPE_ARRAY",
                                                     "message": "Must be an array."}]}}
            out = []
            for item in payload:
                if not isinstance(item, dict):
                    return 400, {"message": "Invalid Form Body", "code": 50035, "errors": {}}
                cmd = dict(item)
                ident = (scope, cmd.get("name"), cmd.get("type", 1))
                if ident not in state.command_ids:
                    state.command_ids[ident] = state.snowflake()
                cmd["id"] = state.command_ids[ident]
                cmd.setdefault("type", 1)
                cmd["application_id"] = app
                if guild is not None:
                    cmd["guild_id"] = guild
                cmd["version"] = state.snowflake()
                out.append(cmd)
            state.commands[scope] = out
            return 200, out
    return NOT_FOUND


def validate_script(obj):
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
        out.append({
            "status": st,
            "headers": {str(k): str(v) for k, v in hdrs.items()},
            "body": r.get("body"),
            "has_body": "body" in r,
            "delay_ms": delay,
            "close": bool(r.get("close", False)),
        })
    return {"method": method, "path_contains": pc, "responses": out}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid 40 ms stalls
    timeout = 120  # idle keep-alive connections are closed after this many seconds

    def version_string(self):
        return "fake-discord/1.0"
    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):
        if self.state.verbose:
            sys.stderr.write("fake_discord: %s - %s\n" % (self.address_string(), fmt % args))

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
                    # trailers until an empty line
                    while True:
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

    def send(self, status, body=b"", headers=None, content_type=None):
        headers = dict(headers or {})
        ct_override = None
        for k in list(headers):
            lk = k.lower()
            if lk in ("content-length", "transfer-encoding"):
                del headers[k]
            elif lk == "content-type":
                ct_override = headers.pop(k)
            elif lk == "connection" and headers[k].lower() == "close":
                self.close_connection = True
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        self.send_response(status)
        if body or ct_override:
            self.send_header("Content-Type", ct_override or content_type or "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, obj, headers=None):
        body = b"" if obj is None else json.dumps(obj).encode("utf-8")
        self.send(status, body, headers, "application/json")

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
            self.send_json(413, {"message": "Request entity too large", "code": 40005})
            return
        except (ValueError, ConnectionError, OSError):
            self.close_connection = True
            return
        path, _, query = self.path.partition("?")
        if path.startswith("/_control/") or path == "/_control":
            self.control(path, query, body)
        else:
            self.api(path, query, body)

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
                script = validate_script(json.loads(body.decode("utf-8")))
            except (ValueError, UnicodeDecodeError) as e:
                return self.send_json(400, {"ok": False, "error": str(e)})
            with st.lock:
                st.scripts.append(script)
            return self.send_json(200, {"ok": True, "queued": len(script["responses"])})
        if path == "/_control/scripts" and method == "GET":
            with st.lock:
                out = [{"method": s["method"], "path_contains": s["path_contains"],
                        "remaining": len(s["responses"]),
                        "responses": [{k: r[k] for k in ("status", "headers", "body", "delay_ms", "close")}
                                      for r in s["responses"]]}
                       for s in st.scripts]
            return self.send_json(200, out)
        if path == "/_control/requests" and method == "GET":
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
                data = json.dumps(out, ensure_ascii=False).encode("utf-8")
            return self.send(200, data, None, "application/json")
        return self.send_json(404, {"message": "unknown control endpoint", "code": 0})

    def api(self, path, query, body):
        st = self.state
        method = self.command
        headers = {}
        for k, v in self.headers.items():
            lk = k.lower()
            headers[lk] = headers[lk] + ", " + v if lk in headers else v
        ctype = headers.get("content-type", "")
        parsed = None
        parts = None
        if ctype.lower().startswith("multipart/form-data"):
            try:
                parts, parsed = parse_multipart(ctype, body)
            except Exception as e:  # a broken body must not kill the handler
                if st.verbose:
                    sys.stderr.write("fake_discord: multipart parse error: %s\n" % e)
                parts, parsed = None, None
        elif body:
            try:
                parsed = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                parsed = None

        with st.lock:
            st.seq += 1
            seq = st.seq
            scripted = st.take_script(method, path)
        entry = {
            "seq": seq,
            "time": time.time(),
            "method": method,
            "path": path,
            "query": query,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "json": parsed,
            "parts": parts,
        }

        status = None
        resp_headers = {}
        resp_body = b""
        resp_ctype = "application/json"
        if scripted is not None and scripted["close"]:
            pass
        elif scripted is not None and scripted["status"] is not None:
            status = scripted["status"]
            resp_headers = scripted["headers"]
            b = scripted["body"]
            if not scripted["has_body"] and status == 429:
                ra = next((v for k, v in resp_headers.items() if k.lower() == "retry-after"), "1")
                try:
                    ra_num = float(ra)
                except ValueError:
                    ra_num = 1.0
                b = {"message": "You are being rate limited.", "retry_after": ra_num, "global": False}
            if isinstance(b, str):
                resp_body = b.encode("utf-8")
                resp_ctype = "text/plain; charset=utf-8"
            elif b is not None:
                resp_body = json.dumps(b).encode("utf-8")
        else:
            status, obj = default_answer(st, method, path, parsed, parts)
            resp_body = b"" if obj is None else json.dumps(obj).encode("utf-8")
            if scripted is not None:
                resp_headers = scripted["headers"]

        entry["status"] = status
        entry["scripted"] = scripted is not None
        with st.lock:
            st.record(entry)

        if scripted is not None and scripted["delay_ms"]:
            time.sleep(scripted["delay_ms"] / 1000.0)
        if status is None:  # "close": drop the connection without an answer
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            if st.verbose:
                sys.stderr.write("fake_discord: %s %s -> (connection dropped)\n" % (method, self.path))
            return
        self.send(status, resp_body, resp_headers, resp_ctype)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # never wait for hung handler threads (scripted delays) on shutdown
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        if self.state.verbose:
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="Fake Discord REST API for tests (see the module docstring).")
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
            print("fake_discord: cannot open %s: %s" % (args.record, e), file=sys.stderr)
            return 2

    try:
        server = Server((args.host, args.port), Handler)
    except OSError as e:
        print("fake_discord: cannot listen on %s:%d: %s" % (args.host, args.port, e), file=sys.stderr)
        return 2
    server.state = State(record_file, args.verbose)

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

    server.shutdown()
    server.server_close()
    if record_file is not None:
        record_file.close()
    if args.verbose:
        sys.stderr.write("fake_discord: stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
