#!/usr/bin/env python3
"""fake_openai.py: a small fake of an OpenAI-compatible API (chat completions, image generation) for tests.

Point the bot's OpenAI base URL at http://127.0.0.1:<port> or http://127.0.0.1:<port>/v1: every path
is accepted with or without a leading /v1 prefix. The Authorization header is recorded but never
checked (script a 401 to test a bad key). Standard library only.

Start:
    python3 tests/tools/fake_openai.py --port P [--host 127.0.0.1] [--record FILE] [--verbose]
Prints "ready <port>" on stdout once listening (--port 0 picks a free port). Exits cleanly (status 0)
on SIGTERM or SIGINT, promptly even while requests are delayed, hung or streaming a download.
With --verbose, one line per request goes to stderr; stdout stays quiet. HTTP/1.1 with keep-alive;
every answer carries a correct Content-Length.

Every request outside /_control/ is recorded in memory and, with --record, appended to FILE as one
JSON line:
    {"seq": n, "time": epoch_float, "method": "POST", "path": "/v1/chat/completions" (as sent,
     without the query), "query": "raw query string or ''", "headers": {"lower-case-name": "value"},
     "body": "body as utf-8 text (errors replaced)", "json": parsed body or null,
     "status": status answered (null if the connection was dropped or hung),
     "scripted": true if a scripted response was used}
"seq" keeps counting across /_control/reset. A request is recorded before any scripted delay, so a
delayed or hung request is visible in /_control/requests while it waits.

Default answers (when no script matches):
    POST /v1/chat/completions
        400 OpenAI error if the body is not a JSON object, "model" is not a string or "messages" is
        not a non-empty array. Otherwise 200:
        {"id": "chatcmpl-fake-N", "object": "chat.completion", "created": now, "model": <request model>,
         "choices": [{"index": 0, "message": {"role": "assistant", "content": C, "refusal": null,
                      "annotations": []}, "logprobs": null, "finish_reason": "stop"}],
         "usage": {"prompt_tokens", "completion_tokens", "total_tokens", ...},
         "system_fingerprint": "fp_fake", "service_tier": "default"}
        N counts chat-completion requests (every one, scripted or not, valid or not) since the last
        reset, starting at 1. C is "fake reply #N to: " + the text of the last "user" message (a
        string content, or the "text" parts of a content array joined by " "), cut to its first 200
        characters. Vision requests (any message whose content array has a part of type
        "image_url") instead get C = a fenced JSON block ("```json\\n" ... "\\n```") holding
        VISION_RESULT:
        {"stats": {"hp": 1234567, "atk": 89012, "def": 34567, "rush": 1234, "fame": 5678,
                   "tech": null, "art": 910, "civ": 1112, "fth": 1314},
         "equipment": {"weapon": "Laser Sword", "armor": null, "accessory": "Lucky Charm"},
         "confidence": "high", "notes": "fake vision"}
        "stream" and "response_format" are ignored (the answer is never streamed).
    POST /v1/images/generations
        400 OpenAI error if the body is not a JSON object or "prompt" is not a non-empty string.
        Otherwise 200 {"created": now, "data": [{"b64_json": <base64 of PNG>, "revised_prompt": <prompt>}]}
        with one item per requested "n" (1..10, default 1). PNG is a valid 2x2 RGBA image (82 bytes).
        If the request says "response_format": "url", items are {"url": "http://<Host>/files/snail.png",
        "revised_prompt": ...} instead.
    GET  /v1/models                 -> 200 {"object": "list", "data": [{"id": "fake-model", ...}]}
    GET  /files/snail.png           -> 200 the same PNG, Content-Type: image/png
    GET  /files/big.bin[?size=N]    -> 200 N bytes (default 30 MiB = 31457280) of
                                       application/octet-stream, streamed in 64 KiB writes
                                       (byte i is i % 251); 400 if size is not a number >= 0
    GET  /files/notimage.txt        -> 200 text/plain "this is not an image\\n"
    (HEAD works on /files/* too: headers only.)
    anything else -> 404 {"error": {"message": "Invalid URL (METHOD /path)",
                                    "type": "invalid_request_error", "param": null, "code": null}}

Control API (never recorded):
    POST /_control/script   body: {"method": "POST" or null, "path_contains": "substr" or null,
                                   "responses": [{"status": 429, "headers": {"Retry-After": "1"},
                                                  "body": {...} or "text", "raw": "exact body",
                                                  "delay_ms": 0, "close": false, "hang": false}, ...]}
        Queues scripted responses. Each later request whose method matches (case-insensitive; null =
        any) and whose path (as sent, without the query) contains path_contains (null = any) consumes
        the next queued response. Scripts are tried in registration order, so responses are used FIFO;
        once a script is used up it is dropped and the defaults apply again.
        In a response:
          "delay_ms"  sleeps before answering (cut short when the server stops).
          "close"     true: drop the connection without answering (after the delay).
          "hang"      true: after the delay, keep the connection open and never answer, until the
                      client gives up (closes its end) or the server stops. Other connections are
                      served normally meanwhile.
          "status"    the status to answer. Left out: the default answer (with the extra "headers",
                      after the delay), unless "body"/"raw"/"preset" is given, which means status 200.
          "headers"   extra response headers ("Content-Type" here overrides the default type;
                      "Connection": "close" closes after answering).
          "body"      a dict/list is sent as JSON, a string as text/plain, null as an empty body.
          "raw"       a string sent byte-for-byte (UTF-8) as the body, default Content-Type
                      application/json: use it for malformed JSON ("{\\"id\\": ", "<html>..", "").
          "preset"    instead of "body": one of the names in ERROR_PRESETS below (shape only: the
                      status still comes from "status", default 200 if left out).
          "content", "finish_reason"
                      on a chat path with no status/body/raw: the default chat.completion, but with
                      this message content (string or null) and/or finish_reason (e.g. "length").
        A status >= 400 without "body"/"raw"/"preset" gets an OpenAI-shaped error body: for 429
        ERROR_PRESETS["rate_limit"], for 401 ERROR_PRESETS["invalid_api_key"], otherwise
        {"error": {"message": "fake error <status>", "type": "server_error" (>= 500) or
        "invalid_request_error", "param": null, "code": null}}. A status < 400 without one has an
        empty body (Content-Length: 0). A scripted answer replaces the default one entirely (no
        x-request-id header).
        Answers 200 {"ok": true, "queued": n}; 400 on a malformed script.
    GET  /_control/requests[?path_contains=..&method=..&since=SEQ]
        JSON array of recorded requests (same objects as the record lines), filtered; since=SEQ keeps
        only requests with seq > SEQ.
    GET  /_control/scripts  -> JSON array of the scripts still pending (with remaining responses).
    POST /_control/reset    -> clears recorded requests and pending scripts; N restarts at 1.
    GET  /_control/health   -> 200 {"ok": true}

Error bodies of real servers, for tests to put in "body" (or name in "preset"):
    ERROR_PRESETS = {
      "rate_limit":      {"error": {"message": "Rate limit reached", "type": "requests",
                                    "param": null, "code": "rate_limit_exceeded"}},       # OpenAI 429, retry
      "quota":           {"error": {"message": "You exceeded your current quota, please check your plan
                                    and billing details.", "type": "insufficient_quota",
                                    "param": null, "code": "insufficient_quota"}},        # OpenAI 429, do not retry
      "invalid_api_key": {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                    "param": null, "code": "invalid_api_key"}},           # OpenAI 401
      "llamacpp":        {"error": {"code": 500, "message": "boom", "type": "server_error"}},  # llama.cpp
      "vllm":            {"object": "error", "message": "bad", "type": "BadRequestError",
                          "param": null, "code": 400},                                     # vLLM (flat)
      "ollama":          {"error": {"message": "model \\"x\\" not found, try pulling it first",
                                    "type": "not_found_error", "param": null, "code": null}},  # Ollama 404
    }
Example: a 429 with Retry-After, then the default answer:
    curl -X POST -d '{"method":"POST","path_contains":"chat/completions","responses":
        [{"status":429,"headers":{"Retry-After":"1"},"preset":"rate_limit"}]}' $URL/_control/script
"""

import argparse
import base64
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

MAX_BODY = 64 * 1024 * 1024
BIG_DEFAULT = 30 * 1024 * 1024
STREAM_CHUNK = 64 * 1024

VISION_RESULT = {
    "stats": {"hp": 1234567, "atk": 89012, "def": 34567, "rush": 1234, "fame": 5678,
              "tech": None, "art": 910, "civ": 1112, "fth": 1314},
    "equipment": {"weapon": "Laser Sword", "armor": None, "accessory": "Lucky Charm"},
    "confidence": "high",
    "notes": "fake vision",
}

ERROR_PRESETS = {
    "rate_limit": {"error": {"message": "Rate limit reached", "type": "requests",
                             "param": None, "code": "rate_limit_exceeded"}},
    "quota": {"error": {"message": "You exceeded your current quota, please check your plan and "
                                   "billing details.",
                        "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}},
    "invalid_api_key": {"error": {"message": "Incorrect API key provided.",
                                  "type": "invalid_request_error", "param": None,
                                  "code": "invalid_api_key"}},
    "llamacpp": {"error": {"code": 500, "message": "boom", "type": "server_error"}},
    "vllm": {"object": "error", "message": "bad", "type": "BadRequestError", "param": None, "code": 400},
    "ollama": {"error": {"message": "model \"x\" not found, try pulling it first",
                         "type": "not_found_error", "param": None, "code": None}},
}


def make_png():
    """A valid 2x2 RGBA PNG (every chunk CRC correct), built by hand."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 6, 0, 0, 0)  # 2x2, 8-bit, RGBA, deflate, no filter, no interlace
    rows = (b"\x00" + bytes([0x8B, 0x5A, 0x2B, 0xFF, 0x3C, 0xB3, 0x71, 0xFF])
            + b"\x00" + bytes([0xF0, 0xE6, 0x8C, 0xFF, 0x00, 0x00, 0x00, 0x00]))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


PNG = make_png()
PNG_B64 = base64.b64encode(PNG).decode("ascii")
NOT_IMAGE = b"this is not an image\n"
BIG_PATTERN = bytes(i % 251 for i in range(STREAM_CHUNK + 251))  # byte i of big.bin is i % 251


def oai_error(message, etype="invalid_request_error", param=None, code=None):
    return {"error": {"message": message, "type": etype, "param": param, "code": code}}


class State:
    """Everything shared between handler threads; guarded by one lock."""

    def __init__(self, record_file, verbose):
        self.lock = threading.Lock()
        self.requests = []
        self.scripts = []  # dicts: {"method", "path_contains", "responses": [..]}
        self.seq = 0
        self.chat_count = 0
        self.record_file = record_file
        self.verbose = verbose
        self.stopping = threading.Event()

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.scripts.clear()
            self.chat_count = 0

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
                print("fake_openai: cannot write record file: %s" % e, file=sys.stderr)


def route_path(path):
    """The path used for routing: a leading /v1 is dropped."""
    if path == "/v1":
        return "/"
    if path.startswith("/v1/"):
        return path[3:]
    return path


def message_text(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, str):
                texts.append(part)
        return " ".join(texts)
    return ""


def is_vision(messages):
    for m in messages:
        if not isinstance(m, dict) or not isinstance(m.get("content"), list):
            continue
        for part in m["content"]:
            if isinstance(part, dict) and (part.get("type") == "image_url" or "image_url" in part):
                return True
    return False


def chat_answer(payload, n, content_override=None, finish_override=None):
    """Returns (status, obj) for a chat completion request; n is this request's number."""
    if not isinstance(payload, dict):
        return 400, oai_error("We could not parse the JSON body of your request. (HINT: This likely means "
                              "you aren't using your HTTP library correctly.)")
    model = payload.get("model")
    if not isinstance(model, str) or not model:
        return 400, oai_error("you must provide a model parameter", param="model")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        return 400, oai_error("'messages' must be a non-empty array", param="messages")
    if content_override is not None:
        content = content_override[0]
    elif is_vision(messages):
        content = "```json\n" + json.dumps(VISION_RESULT, indent=2) + "\n```"
    else:
        last = ""
        for m in messages:
            if isinstance(m, dict) and m.get("role") == "user":
                last = message_text(m.get("content"))
        content = "fake reply #%d to: %s" % (n, last[:200])
    prompt_chars = sum(len(message_text(m.get("content"))) for m in messages if isinstance(m, dict))
    prompt_tokens = max(1, prompt_chars // 4)
    completion_tokens = max(1, len(content or "") // 4)
    return 200, {
        "id": "chatcmpl-fake-%d" % n,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": finish_override or "stop",
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def images_answer(payload, host):
    if not isinstance(payload, dict):
        return 400, oai_error("We could not parse the JSON body of your request.")
    prompt = payload.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        return 400, oai_error("Missing required parameter: 'prompt'.", param="prompt",
                              code="missing_required_parameter")
    n = payload.get("n", 1)
    if n is None:
        n = 1
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 10:
        return 400, oai_error("Invalid 'n': must be an integer between 1 and 10.", param="n",
                              code="integer_out_of_range")
    if payload.get("response_format") == "url":
        item = {"url": "http://%s/files/snail.png" % (host or "127.0.0.1"), "revised_prompt": prompt}
    else:
        item = {"b64_json": PNG_B64, "revised_prompt": prompt}
    return 200, {"created": int(time.time()), "data": [dict(item) for _ in range(n)]}


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
        raw = r.get("raw")
        if raw is not None and not isinstance(raw, str):
            raise ValueError("raw must be a string")
        preset = r.get("preset")
        if preset is not None and preset not in ERROR_PRESETS:
            raise ValueError("preset must be one of: " + ", ".join(sorted(ERROR_PRESETS)))
        if "content" in r and r["content"] is not None and not isinstance(r["content"], str):
            raise ValueError("content must be a string or null")
        fr = r.get("finish_reason")
        if fr is not None and not isinstance(fr, str):
            raise ValueError("finish_reason must be a string")
        out.append({
            "status": st,
            "headers": {str(k): str(v) for k, v in hdrs.items()},
            "body": r.get("body"),
            "has_body": "body" in r,
            "raw": raw,
            "preset": preset,
            "content": r.get("content"),
            "has_content": "content" in r,
            "finish_reason": fr,
            "delay_ms": delay,
            "close": bool(r.get("close", False)),
            "hang": bool(r.get("hang", False)),
        })
    return {"method": method, "path_contains": pc, "responses": out}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid 40 ms stalls
    timeout = 120  # idle keep-alive connections are closed after this many seconds

    def version_string(self):
        return "fake-openai/1.0"

    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):
        if self.state.verbose:
            sys.stderr.write("fake_openai: %s - %s\n" % (self.address_string(), fmt % args))

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
        if status not in (204, 304) and not 100 <= status < 200:
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

    def stream_big(self, size, headers):
        if not self.send_head(200, size, headers, "application/octet-stream"):
            self.wfile.flush()
            return
        left = size
        while left > 0:
            if self.state.stopping.is_set():
                self.drop()
                return
            n = min(STREAM_CHUNK, left)
            off = (size - left) % 251
            self.wfile.write(BIG_PATTERN[off:off + n])
            left -= n
        self.wfile.flush()

    # -- dispatch -----------------------------------------------------------------------

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
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
            self.send_json(413, oai_error("Request entity too large"))
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
                script = validate_script(json.loads(body.decode("utf-8")))
            except (ValueError, UnicodeDecodeError) as e:
                return self.send_json(400, {"ok": False, "error": str(e)})
            with st.lock:
                st.scripts.append(script)
            return self.send_json(200, {"ok": True, "queued": len(script["responses"])})
        if path == "/_control/scripts" and method == "GET":
            keys = ("status", "headers", "body", "raw", "preset", "content", "finish_reason",
                    "delay_ms", "close", "hang")
            with st.lock:
                out = [{"method": s["method"], "path_contains": s["path_contains"],
                        "remaining": len(s["responses"]),
                        "responses": [{k: r[k] for k in keys} for r in s["responses"]]}
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
        return self.send_json(404, {"ok": False, "error": "unknown control endpoint"})

    def default_answer(self, method, rpath, query, parsed, chat_n, scripted):
        """Returns (status, body_bytes, content_type) or (200, None, size) for the streamed big file."""
        def js(status, obj):
            return status, json.dumps(obj).encode("utf-8"), "application/json"

        if rpath == "/chat/completions" and method == "POST":
            override = None
            finish = None
            if scripted is not None:
                if scripted["has_content"]:
                    override = (scripted["content"],)
                finish = scripted["finish_reason"]
            return js(*chat_answer(parsed, chat_n, override, finish))
        if rpath == "/images/generations" and method == "POST":
            return js(*images_answer(parsed, self.headers.get("Host")))
        if rpath == "/models" and method == "GET":
            return js(200, {"object": "list", "data": [
                {"id": "fake-model", "object": "model", "created": 1700000000, "owned_by": "fake"}]})
        if method in ("GET", "HEAD"):
            if rpath == "/files/snail.png":
                return 200, PNG, "image/png"
            if rpath == "/files/notimage.txt":
                return 200, NOT_IMAGE, "text/plain; charset=utf-8"
            if rpath == "/files/big.bin":
                size = parse_qs(query).get("size", [None])[0]
                try:
                    size = BIG_DEFAULT if size is None else int(size)
                    if size < 0:
                        raise ValueError()
                except ValueError:
                    return js(400, oai_error("size must be an integer >= 0", param="size"))
                return 200, None, size
        return js(404, oai_error("Invalid URL (%s %s)" % (method, self.path.partition("?")[0])))

    def api(self, path, query, body):
        st = self.state
        method = self.command
        rpath = route_path(path)
        headers = {}
        for k, v in self.headers.items():
            lk = k.lower()
            headers[lk] = headers[lk] + ", " + v if lk in headers else v
        parsed = None
        if body:
            try:
                parsed = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                parsed = None

        with st.lock:
            st.seq += 1
            seq = st.seq
            chat_n = 0
            if rpath == "/chat/completions" and method == "POST":
                st.chat_count += 1
                chat_n = st.chat_count
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
        }

        status = None
        resp_headers = {}
        resp_body = b""
        resp_ctype = "application/json"
        big_size = None
        if scripted is not None and (scripted["close"] or scripted["hang"]):
            pass
        elif scripted is not None and (scripted["status"] is not None or scripted["has_body"]
                                       or scripted["raw"] is not None or scripted["preset"] is not None):
            status = scripted["status"] if scripted["status"] is not None else 200
            resp_headers = scripted["headers"]
            if scripted["raw"] is not None:
                resp_body = scripted["raw"].encode("utf-8")
            else:
                if scripted["preset"] is not None:
                    b = ERROR_PRESETS[scripted["preset"]]
                elif scripted["has_body"]:
                    b = scripted["body"]
                elif status == 429:
                    b = ERROR_PRESETS["rate_limit"]
                elif status == 401:
                    b = ERROR_PRESETS["invalid_api_key"]
                elif status >= 400:
                    b = oai_error("fake error %d" % status,
                                  "server_error" if status >= 500 else "invalid_request_error")
                else:
                    b = None
                if isinstance(b, str):
                    resp_body = b.encode("utf-8")
                    resp_ctype = "text/plain; charset=utf-8"
                elif b is not None:
                    resp_body = json.dumps(b).encode("utf-8")
        else:
            status, resp_body, resp_ctype = self.default_answer(method, rpath, query, parsed, chat_n,
                                                                scripted)
            if resp_body is None:
                big_size, resp_body, resp_ctype = resp_ctype, b"", "application/octet-stream"
            resp_headers = {"x-request-id": "req_fake_%d" % seq}
            if rpath in ("/chat/completions", "/images/generations"):
                resp_headers["openai-processing-ms"] = "1"
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
        if scripted is not None and scripted["hang"] and not scripted["close"]:
            if st.verbose:
                sys.stderr.write("fake_openai: %s %s -> (hanging)\n" % (method, self.path))
            self.hang()
            return
        if status is None:  # "close": drop the connection without an answer
            if st.verbose:
                sys.stderr.write("fake_openai: %s %s -> (connection dropped)\n" % (method, self.path))
            self.drop()
            return
        if big_size is not None:
            self.stream_big(big_size, resp_headers)
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


def main():
    ap = argparse.ArgumentParser(description="Fake OpenAI-compatible API for tests (see the module docstring).")
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
            print("fake_openai: cannot open %s: %s" % (args.record, e), file=sys.stderr)
            return 2

    try:
        server = Server((args.host, args.port), Handler)
    except OSError as e:
        print("fake_openai: cannot listen on %s:%d: %s" % (args.host, args.port, e), file=sys.stderr)
        return 2
    state = State(record_file, args.verbose)
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
        sys.stderr.write("fake_openai: stopped\n")
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass
    # Handler threads may still be blocked on sockets; do not let interpreter teardown wait on them.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
