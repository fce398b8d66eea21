#!/usr/bin/env python3
"""fake_discord.py: a small fake of Discord's REST API (https://discord.com/api/v10) for tests.

Point the bot's Discord API base URL at http://127.0.0.1:<port> (an optional /api or /api/vN
prefix in request paths is accepted and ignored when routing). Standard library only.

Start:
    python3 tests/tools/fake_discord.py --port P [--host 127.0.0.1] [--record FILE] [--verbose]
Prints "ready <port>" on stdout once listening (--port 0 picks a free port). Exits cleanly (status 0)
on SIGTERM or SIGINT. With --verbose, one line per request goes to stderr; stdout stays quiet.
The server, recording, control API and response helpers shared with fake_openai.py live in
fake_common.py; this file holds the Discord routes and default answers.

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
    GET  /_control/count[?path_contains=..&method=..&since=SEQ]
        how many recorded requests match, as a plain-text number (for shell polling loops).
    GET  /_control/scripts  -> JSON array of the scripts still pending (with remaining responses).
    POST /_control/reset    -> clears recorded requests, pending scripts and stored messages/commands.
    GET  /_control/health   -> 200 {"ok": true}
"""

import hashlib
import json
import re
import sys
import time
from datetime import datetime, timezone
from email.message import Message

import fake_common

DISCORD_EPOCH_MS = 1420070400000


class State(fake_common.State):
    """Everything shared between handler threads; guarded by one lock."""

    def __init__(self, record_file, verbose, name="fake_discord"):
        super().__init__(record_file, verbose, name)
        self.messages = {}  # (app, token, msg_key) -> message object
        self.commands = {}  # scope tuple -> list of commands
        self.command_ids = {}  # (scope, name, type) -> id
        self._last_sf = 0

    def snowflake(self):
        # Caller holds the lock.
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        sf = (ms << 22) | (1 << 17)  # worker 1
        if sf <= self._last_sf:
            sf = self._last_sf + 1
        self._last_sf = sf
        return str(sf)

    def reset_locked(self):
        self.messages.clear()
        self.commands.clear()
        self.command_ids.clear()


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


class Handler(fake_common.FakeHandler):
    NAME = "fake_discord"
    SERVER_VERSION = "fake-discord/1.0"
    SCRIPT_KEYS = ("status", "headers", "body", "delay_ms", "close")
    TOO_LARGE_BODY = {"message": "Request entity too large", "code": 40005}
    CONTROL_NOT_FOUND_BODY = {"message": "unknown control endpoint", "code": 0}

    def parse_body(self, headers, body):
        ctype = headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            parsed, _ = super().parse_body(headers, body)
            return parsed, {"parts": None}
        try:
            parts, parsed = parse_multipart(ctype, body)
        except Exception as e:  # a broken body must not kill the handler
            if self.state.verbose:
                sys.stderr.write("fake_discord: multipart parse error: %s\n" % e)
            parts, parsed = None, None
        return parsed, {"parts": parts}

    def scripted_answer(self, req):
        sc = req.scripted
        status = sc["status"]
        if status is None:  # no "status": the default answer (with the extra headers)
            return None
        b = sc["body"]
        if not sc["has_body"] and status == 429:
            ra = next((v for k, v in sc["headers"].items() if k.lower() == "retry-after"), "1")
            try:
                ra_num = float(ra)
            except ValueError:
                ra_num = 1.0
            b = {"message": "You are being rate limited.", "retry_after": ra_num, "global": False}
        return (status,) + fake_common.encode_body(b)

    def default_answer(self, req):
        status, obj = default_answer(self.state, req.method, req.path, req.json, req.extra["parts"])
        return status, {}, b"" if obj is None else json.dumps(obj).encode("utf-8"), "application/json"


if __name__ == "__main__":
    sys.exit(fake_common.run(Handler, State, "Fake Discord REST API for tests (see the module docstring)."))
