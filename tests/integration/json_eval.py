"""json_eval.py: the one long-running Python the integration tests ask every JSON question (lib.sh
starts it as a coprocess; see json_get there), so that no interpreter is started per lookup.

Protocol, on stdin/stdout, every field terminated by a NUL byte (JSON text never holds a raw NUL):
    request:  MODE NUL EXPR NUL DOC NUL ARG_COUNT NUL ARG... (ARG_COUNT fields, each NUL-terminated)
    answer:   STATUS RESULT NUL   (STATUS "0" = ok, "1" = error and RESULT is the message)
MODE "e": evaluates the Python expression EXPR with `d` = DOC parsed as JSON ("" = None) and
`argv` = the ARGs (strings), and answers str() of the value (True/False/None and lists print the
way print() shows them, which the assertions compare against).
MODE "x": executes the statements EXPR in the helper's own namespace (to define functions that
later expressions call, e.g. a vision request checker), with `argv` = the ARGs; answers "".
Expressions see json, re, base64, free_port() and the names defined by "x" requests.
"""

import base64
import json
import os
import re
import socket
import sys



def free_port():
    """A TCP port free on 127.0.0.1 right now (lib.sh's free_port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NAMESPACE = {"json": json, "re": re, "base64": base64, "free_port": free_port, "__builtins__": __builtins__}


def fields():
    """Yields the NUL-terminated fields of stdin as str, until EOF."""
    buf = b""
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            return
        buf += chunk
        while True:
            i = buf.find(b"\0")
            if i < 0:
                break
            field, buf = buf[:i], buf[i + 1:]
            yield field.decode("utf-8", "surrogateescape")


def answer(status, text):
    out = sys.stdout.buffer
    out.write(status.encode() + text.replace("\0", "").encode("utf-8", "surrogateescape") + b"\0")
    out.flush()


def main():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    it = fields()
    for mode in it:
        try:
            expr, doc, n = next(it), next(it), int(next(it))
            argv = [next(it) for _ in range(n)]
        except StopIteration:
            return
        try:
            if mode == "x":
                NAMESPACE["argv"] = argv
                exec(expr, NAMESPACE)
                answer("0", "")
            else:
                # One dict as globals (not a separate locals dict): comprehensions and generator
                # expressions in EXPR must see `d` too.
                scope = dict(NAMESPACE, d=json.loads(doc) if doc != "" else None, argv=argv)
                answer("0", str(eval(expr, scope)))
        except Exception as e:  # reported to the caller, which fails its assertion
            answer("1", "%s: %s (expression: %s; document: %.200s)" % (type(e).__name__, e, expr, doc))


if __name__ == "__main__":
    main()
