#!/usr/bin/env python3
"""raw_http.py — a raw-socket HTTP client for what curl will not send: odd bytes, pipelining,
slow headers and bodies, and a bounded flood of connections. Loopback only (127.0.0.1).

Each subcommand prints one JSON line on stdout and exits 0 (exit 2: bad usage or no connection).

  send PORT (--data TEXT | --hex HEX) [--timeout S] [--drip-ms MS]
      Connects, sends the bytes (TEXT: Python escapes such as \\r\\n and \\x00 are decoded; with
      --drip-ms one byte every MS milliseconds), then reads until the server closes or S seconds
      (5) pass. Prints {"statuses": [...], "closed": bool, "seconds": float, "first_answer_s": float|null,
      "sent": bytes actually written}. "closed": the server closed (FIN or RST) within S.
  pipeline PORT --count N [--ping-file FILE]
      Writes N requests in one go on one connection: GET /health, GET /nope (404), and, with
      --ping-file (a body FILE and its FILE.hdr of signature headers, as lib.sh's sign_to
      writes them), POST /interactions PING, in rotation. Reads the answers; prints
      {"statuses": [...], "expected": [...], "in_order": bool, "closed": bool, "seconds": float}.
  flood PORT --conns N --seconds S [--body-bytes B] [--mode body|headers|stall|slowloris]
      Keeps N connections busy for S seconds, reconnecting each one the server answers or ends:
      "body" sends unsigned POST /interactions headers with Content-Length B (1 MiB) and then
      all of the body but its last byte, as fast as the server takes it, and waits; "headers"
      sends the same headers with well-formed but false signature headers and a fresh
      timestamp, then nothing; "stall" sends those and all of the body but its last byte;
      "slowloris" sends a header line byte by byte, one byte a second. Stops by itself. Prints {"connects", "answered", "statuses", "errors",
      "bytes_sent", "seconds"}.
"""
import argparse
import json
import select
import selectors
import socket
import sys
import time

HOST = "127.0.0.1"


def parse_responses(data):
    """Status codes of the complete HTTP responses at the start of data (Content-Length bodies)."""
    statuses = []
    pos = 0
    while True:
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        head = data[pos:end].decode("latin-1").split("\r\n")
        parts = head[0].split(" ")
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            break
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if len(data) < end + 4 + length:
            break
        statuses.append(int(parts[1]))
        pos = end + 4 + length
    return statuses


def read_until_close(sock, deadline, want=None):
    """Reads until EOF/reset, until deadline, or (want) until that many responses are complete.
    Returns (data, closed, first_byte_time)."""
    data = b""
    closed = False
    first = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
        if not chunk:
            closed = True
            break
        if first is None:
            first = time.monotonic()
        data += chunk
        if want is not None and len(parse_responses(data)) >= want:
            break
    return data, closed, first


def connect(port):
    try:
        return socket.create_connection((HOST, port), timeout=5)
    except OSError as e:
        print(json.dumps({"error": str(e)}))
        sys.exit(2)


def cmd_send(args):
    payload = bytes.fromhex(args.hex) if args.hex is not None else \
        args.data.encode("latin-1").decode("unicode_escape").encode("latin-1")
    sock = connect(args.port)
    start = time.monotonic()
    deadline = start + args.timeout
    sent = 0
    closed = False
    try:
        if args.drip_ms:
            for i in range(len(payload)):
                sock.sendall(payload[i:i + 1])
                sent += 1
                readable, _, _ = select.select([sock], [], [], args.drip_ms / 1000.0)
                if readable or time.monotonic() > deadline:
                    break
        else:
            sock.sendall(payload)
            sent = len(payload)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    data, closed_now, first = read_until_close(sock, deadline)
    closed = closed or closed_now
    sock.close()
    print(json.dumps({"statuses": parse_responses(data), "closed": closed,
                      "seconds": round(time.monotonic() - start, 3),
                      "first_answer_s": None if first is None else round(first - start, 3), "sent": sent}))


def cmd_pipeline(args):
    reqs, expected = [], []
    ping = None
    if args.ping_file:
        with open(args.ping_file, "rb") as f:
            body = f.read()
        with open(args.ping_file + ".hdr", "rb") as f:
            hdrs = b"".join(line.rstrip(b"\r\n") + b"\r\n" for line in f if line.strip())
        ping = (b"POST /interactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + hdrs +
                b"Content-Length: %d\r\n\r\n" % len(body) + body)
    rotation = [(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 200), (b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404)]
    if ping:
        rotation.append((ping, 200))
    for i in range(args.count):
        req, status = rotation[i % len(rotation)]
        reqs.append(req)
        expected.append(status)
    sock = connect(args.port)
    start = time.monotonic()
    sock.sendall(b"".join(reqs))
    data, closed, _ = read_until_close(sock, start + args.timeout, want=args.count)
    sock.close()
    statuses = parse_responses(data)
    print(json.dumps({"statuses": statuses, "expected": expected, "in_order": statuses == expected,
                      "closed": closed, "seconds": round(time.monotonic() - start, 3)}))


class FloodConn:
    def __init__(self, port, args):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.connect_ex((HOST, port))
        self.args = args
        self.out = self.first_bytes()
        # "body" and "stall" send all of the body but its last byte, the others none.
        self.body_left = args.body_bytes - 1 if args.mode in ("body", "stall") else 0
        self.inbuf = b""

    def first_bytes(self):
        a = self.args
        if a.mode == "slowloris":
            return b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
        head = b"POST /interactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        if a.mode in ("headers", "stall"):
            head += b"X-Signature-Ed25519: " + b"ab" * 64 + b"\r\nX-Signature-Timestamp: %d\r\n" % int(time.time())
        return head + b"Content-Length: %d\r\n\r\n" % a.body_bytes


def cmd_flood(args):
    sel = selectors.DefaultSelector()
    stats = {"connects": 0, "answered": 0, "statuses": {}, "errors": 0, "bytes_sent": 0}
    start = time.monotonic()
    end = start + args.seconds
    chunk = b"a" * 65536
    drip_at = start

    def open_one():
        try:
            c = FloodConn(args.port, args)
        except OSError:
            stats["errors"] += 1
            return
        stats["connects"] += 1
        sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)

    def close_one(c):
        for s in parse_responses(c.inbuf):
            stats["answered"] += 1
            stats["statuses"][str(s)] = stats["statuses"].get(str(s), 0) + 1
        sel.unregister(c.sock)
        c.sock.close()
        if time.monotonic() < end:
            open_one()

    def write_some(c, data):
        try:
            n = c.sock.send(data)
        except BlockingIOError:
            return 0
        except OSError:
            close_one(c)
            return -1
        stats["bytes_sent"] += n
        return n

    for _ in range(args.conns):
        open_one()
    while time.monotonic() < end:
        slow = args.mode == "slowloris"
        for key, ev in sel.select(timeout=0.2):
            c = key.data
            if ev & selectors.EVENT_READ:
                try:
                    got = c.sock.recv(65536)
                except OSError:
                    got = b""
                    stats["errors"] += 1
                if not got:
                    close_one(c)
                    continue
                c.inbuf += got
                if parse_responses(c.inbuf):  # answered: the next connection takes its place
                    close_one(c)
                continue
            if slow:  # connected: from now on only reads are awaited; the drips are timed below
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            data = c.out if c.out else chunk[:min(len(chunk), c.body_left)]
            if not data:
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            n = write_some(c, data)
            if n > 0 and c.out:
                c.out = c.out[n:]
            elif n > 0:
                c.body_left -= n
        if slow and time.monotonic() >= drip_at:  # one byte a second on every connection
            drip_at = time.monotonic() + 1.0
            for key in list(sel.get_map().values()):
                c = key.data
                if c.out and write_some(c, c.out[:1]) > 0:
                    c.out = c.out[1:]
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    stats["seconds"] = round(time.monotonic() - start, 3)
    print(json.dumps(stats))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("port", type=int)
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--data")
    g.add_argument("--hex")
    s.add_argument("--timeout", type=float, default=5.0)
    s.add_argument("--drip-ms", type=float, default=0)
    s = sub.add_parser("pipeline")
    s.add_argument("port", type=int)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--ping-file")
    s.add_argument("--timeout", type=float, default=5.0)
    s = sub.add_parser("flood")
    s.add_argument("port", type=int)
    s.add_argument("--conns", type=int, required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--body-bytes", type=int, default=1024 * 1024)
    s.add_argument("--mode", choices=["body", "headers", "stall", "slowloris"], default="body")
    args = p.parse_args()
    {"send": cmd_send, "pipeline": cmd_pipeline, "flood": cmd_flood}[args.cmd](args)


if __name__ == "__main__":
    main()
