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
every answer carries a correct Content-Length, except a streamed chat completion (below), which is
sent with Transfer-Encoding: chunked.
The server, recording, control API and response helpers shared with fake_discord.py live in
fake_common.py; this file holds the OpenAI routes, default answers and scripted-response extras.

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
        "response_format" is ignored.
        With "stream": true (and no "ignore_stream" in the script response it uses) the same answer
        is streamed as OpenAI does: 200 Content-Type: text/event-stream, chunked, holding the events
            data: {"id": "chatcmpl-fake-N", "object": "chat.completion.chunk", "created", "model",
                   "choices": [{"index": 0, "delta": {"role": "assistant", "content": P1},
                                "logprobs": null, "finish_reason": null}]}
            data: ... one event per later piece Pi, "delta": {"content": Pi} ...
            data: {... "choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}]}
            data: [DONE]
        each followed by a blank line. P1..Pk are C cut into STREAM_PIECES (4) pieces of (nearly)
        equal length in characters (fewer when C is shorter; one empty piece for an empty or null C).
        By default every event goes out in one write; "stream_delay_ms" waits between the pieces.
    POST /v1/images/generations
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
                      this message content (string or null) and/or finish_reason (e.g. "length"),
                      streamed or not.
          "stream_pieces", "stream_delay_ms", "break_after", "ignore_stream"
                      for a request with "stream": true answered by default (no status/body/raw/
                      preset): the content in "stream_pieces" pieces (1..1000, default 4), sent
                      "stream_delay_ms" apart (default 0: all at once); "break_after": K drops the
                      connection after the first K pieces (no finish_reason, no [DONE], no end of
                      the chunked body: a broken stream); "ignore_stream": true answers the ordinary
                      chat.completion JSON instead, as servers that do not stream do.
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
    GET  /_control/count[?path_contains=..&method=..&since=SEQ]
        how many recorded requests match, as a plain-text number (for shell polling loops).
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

import base64
import json
import struct
import sys
import time
import zlib
from urllib.parse import parse_qs

import fake_common

BIG_DEFAULT = 30 * 1024 * 1024
STREAM_CHUNK = 64 * 1024
STREAM_PIECES = 4

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


class State(fake_common.State):
    """Everything shared between handler threads; guarded by one lock."""

    def __init__(self, record_file, verbose, name="fake_openai"):
        super().__init__(record_file, verbose, name)
        self.chat_count = 0

    def reset_locked(self):
        self.chat_count = 0


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


def validate_extra(r, out):
    """The OpenAI fake's own scripted-response fields (see POST /_control/script in the docstring)."""
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
    pieces = r.get("stream_pieces", STREAM_PIECES)
    if not isinstance(pieces, int) or isinstance(pieces, bool) or not 1 <= pieces <= 1000:
        raise ValueError("stream_pieces must be an integer 1..1000")
    sdelay = r.get("stream_delay_ms", 0) or 0
    if not isinstance(sdelay, (int, float)) or isinstance(sdelay, bool) or sdelay < 0:
        raise ValueError("stream_delay_ms must be a non-negative number")
    brk = r.get("break_after")
    if brk is not None and (not isinstance(brk, int) or isinstance(brk, bool) or brk < 0):
        raise ValueError("break_after must be an integer >= 0")
    out.update({
        "raw": raw,
        "preset": preset,
        "content": r.get("content"),
        "has_content": "content" in r,
        "finish_reason": fr,
        "hang": bool(r.get("hang", False)),
        "stream_pieces": pieces,
        "stream_delay_ms": sdelay,
        "break_after": brk,
        "ignore_stream": bool(r.get("ignore_stream", False)),
    })


def validate_script(obj):
    return fake_common.validate_script(obj, validate_extra)


class Handler(fake_common.FakeHandler):
    NAME = "fake_openai"
    SERVER_VERSION = "fake-openai/1.0"
    SCRIPT_KEYS = ("status", "headers", "body", "raw", "preset", "content", "finish_reason",
                   "delay_ms", "close", "hang", "stream_pieces", "stream_delay_ms", "break_after",
                   "ignore_stream")
    TOO_LARGE_BODY = oai_error("Request entity too large")
    CONTROL_NOT_FOUND_BODY = {"ok": False, "error": "unknown control endpoint"}

    def do_HEAD(self):
        self.dispatch()

    def validate_script(self, obj):
        return validate_script(obj)

    def on_request(self, req):
        """Counts chat-completion requests; returns this one's number N (0 for other paths)."""
        if route_path(req.path) == "/chat/completions" and req.method == "POST":
            self.state.chat_count += 1
            return self.state.chat_count
        return 0

    def scripted_answer(self, req):
        sc = req.scripted
        if not (sc["status"] is not None or sc["has_body"] or sc["raw"] is not None
                or sc["preset"] is not None):
            return None  # the default answer (with the extra headers)
        status = sc["status"] if sc["status"] is not None else 200
        if sc["raw"] is not None:
            return status, sc["raw"].encode("utf-8"), "application/json"
        if sc["preset"] is not None:
            b = ERROR_PRESETS[sc["preset"]]
        elif sc["has_body"]:
            b = sc["body"]
        elif status == 429:
            b = ERROR_PRESETS["rate_limit"]
        elif status == 401:
            b = ERROR_PRESETS["invalid_api_key"]
        elif status >= 400:
            b = oai_error("fake error %d" % status, "server_error" if status >= 500 else "invalid_request_error")
        else:
            b = None
        return (status,) + fake_common.encode_body(b)

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

    def stream_chat(self, obj, sc, headers):
        """Sends the chat.completion obj as a chunked text/event-stream, paced and broken as sc says."""
        content = obj["choices"][0]["message"]["content"] or ""
        n = max(1, min(sc["stream_pieces"] if sc else STREAM_PIECES, len(content)))
        cuts = [len(content) * i // n for i in range(n + 1)]
        base = {"id": obj["id"], "object": "chat.completion.chunk", "created": obj["created"], "model": obj["model"]}

        def event(delta, finish):
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return b"data: " + json.dumps(dict(base, choices=[choice])).encode("utf-8") + b"\n\n"

        pieces = [event(dict({"role": "assistant"} if i == 0 else {}, content=content[cuts[i]:cuts[i + 1]]), None)
                  for i in range(n)]
        tail = event({}, obj["choices"][0]["finish_reason"]) + b"data: [DONE]\n\n"
        delay = (sc["stream_delay_ms"] if sc else 0) / 1000.0
        brk = sc["break_after"] if sc else None
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        for k, v in headers.items():
            if k.lower() not in ("content-type", "content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def write(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        if not delay and brk is None:
            write(b"".join(pieces) + tail)  # one write: the whole stream at once
        else:
            for i, piece in enumerate(pieces):
                if brk is not None and i >= brk:
                    break
                if i and self.state.stopping.wait(delay):
                    break
                write(piece)
            if brk is not None and brk < len(pieces) or self.state.stopping.is_set():
                self.drop()  # broken off: no finish_reason, no [DONE], no last chunk
                return
            write(tail)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def default_answer(self, req):
        method, rpath = req.method, route_path(req.path)
        headers = {"x-request-id": "req_fake_%d" % req.seq}
        if rpath in ("/chat/completions", "/images/generations"):
            headers["openai-processing-ms"] = "1"

        def js(status, obj):
            return status, headers, json.dumps(obj).encode("utf-8"), "application/json"

        if rpath == "/chat/completions" and method == "POST":
            override = None
            finish = None
            if req.scripted is not None:
                if req.scripted["has_content"]:
                    override = (req.scripted["content"],)
                finish = req.scripted["finish_reason"]
            status, obj = chat_answer(req.json, req.ctx, override, finish)
            sc = req.scripted
            if status == 200 and req.json.get("stream") is True and not (sc and sc["ignore_stream"]):
                return 200, headers, lambda _status, hdrs: self.stream_chat(obj, sc, hdrs), "text/event-stream"
            return js(status, obj)
        if rpath == "/images/generations" and method == "POST":
            return js(*images_answer(req.json, self.headers.get("Host")))
        if rpath == "/models" and method == "GET":
            return js(200, {"object": "list", "data": [
                {"id": "fake-model", "object": "model", "created": 1700000000, "owned_by": "fake"}]})
        if method in ("GET", "HEAD"):
            if rpath == "/files/snail.png":
                return 200, headers, PNG, "image/png"
            if rpath == "/files/notimage.txt":
                return 200, headers, NOT_IMAGE, "text/plain; charset=utf-8"
            if rpath == "/files/big.bin":
                size = parse_qs(req.query).get("size", [None])[0]
                try:
                    size = BIG_DEFAULT if size is None else int(size)
                    if size < 0:
                        raise ValueError()
                except ValueError:
                    return js(400, oai_error("size must be an integer >= 0", param="size"))
                return 200, headers, lambda status, hdrs: self.stream_big(size, hdrs), "application/octet-stream"
        return js(404, oai_error("Invalid URL (%s %s)" % (method, req.path)))


if __name__ == "__main__":
    sys.exit(fake_common.run(Handler, State, "Fake OpenAI-compatible API for tests (see the module docstring)."))
