#!/usr/bin/env python3
"""post_bodies.py: sends every pre-signed request of a file once, for bench/perf.sh's slow-upstream
scenario (where each must be admitted exactly once, so wrk's cycling would not do).

    python3 bench/post_bodies.py URL BODIES_FILE [CLIENTS]

BODIES_FILE holds "<signature hex>\\t<timestamp>\\t<body>" lines (bench/gen_bodies). CLIENTS
keep-alive connections (default 8) share the lines. Prints one line:
    POSTED sent=N acks=A other=O seconds=S first_other="..."
where acks are 200 answers of type 5 (deferred acknowledgements). Standard library only.
"""

import http.client
import sys
import threading
import time
from urllib.parse import urlparse


def worker(url, lines, out, lock):
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    acks = other = 0
    first = ""
    for line in lines:
        sig, ts, body = line.rstrip("\n").split("\t", 2)
        headers = {"Content-Type": "application/json", "X-Signature-Ed25519": sig, "X-Signature-Timestamp": ts}
        try:
            conn.request("POST", "/interactions", body=body.encode(), headers=headers)
            resp = conn.getresponse()
            data = resp.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            resp, data = None, "exception %s" % e
        if resp is not None and resp.status == 200 and data.startswith('{"type":5'):
            acks += 1
        else:
            other += 1
            first = first or ("%s %s" % (resp.status if resp else "-", data[:200]))
    conn.close()
    with lock:
        out["acks"] += acks
        out["other"] += other
        out["first"] = out["first"] or first


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: post_bodies.py URL BODIES_FILE [CLIENTS]")
    url, path = sys.argv[1], sys.argv[2]
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    out = {"acks": 0, "other": 0, "first": ""}
    lock = threading.Lock()
    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(url, lines[k::clients], out, lock)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first = out["first"].replace('"', "'").replace("\n", " ")
    print('POSTED sent=%d acks=%d other=%d seconds=%.3f first_other="%s"'
          % (len(lines), out["acks"], out["other"], time.monotonic() - start, first))


if __name__ == "__main__":
    main()
