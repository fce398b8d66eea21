# cases_http.sh — the HTTP layer under abuse: refusing unsigned requests at the headers, the body
# budget, request timeouts, the connection limit, strict parsing, pipelining. Sourced by run.sh.
# The odd bytes, slow senders and floods come from tests/tools/raw_http.py (one JSON line each).
# Every case runs a server of its own: a flood must not disturb the shared one.

raw_http() { python3 "$ROOT/tests/tools/raw_http.py" "$@"; }
# http_rss_kib PID: the resident set of PID in KiB.
http_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# http_rss_bound WHAT BEFORE_KIB AFTER_KIB: the RSS grew by less than 48 MiB. Not under a sanitizer,
# whose quarantine and shadow memory say nothing about the server's own.
http_rss_bound() {
    if grep -qa __asan_init "$SLIMY"; then
        echo "    $1: RSS bound not checked (sanitizer build)"
        return 0
    fi
    [ $(( ($3 - $2) / 1024 )) -lt 48 ] || fail "$1: RSS grew by $(( ($3 - $2) / 1024 )) MiB"
}
# http_start NAME: a private server for the case (the case declares SLIMY_PORT SLIMY_URL SLIMY_PID
# SLIMY_LOG local first); returns 1 (and fails the case) when it does not start.
http_start() {
    start_private_slimy "$@" && return 0
    fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"
    stop_slimy
    return 1
}
# http_refused WHAT JSON MAX_S: raw_http.py's answer JSON shows a 4xx answer and a closed
# connection within MAX_S seconds.
http_refused() {
    local what=$1 json=$2 max=$3
    [ "$(json_get "$json" 'len(d["statuses"]) == 1 and 400 <= d["statuses"][0] < 500')" = True ] ||
        fail "$what: no single 4xx answer: $json"
    [ "$(json_get "$json" 'd["closed"] and d["seconds"] < float(argv[0])' "$max")" = True ] ||
        fail "$what: not closed within $max s: $json"
}
# http_probe WHAT: GET /health and a freshly signed PING must each answer 200 within 3 s (Discord's
# deadline); adds their times to PROBE_TIMES.
PROBE_TIMES=()
http_probe() {
    local out
    out=$(curl -s -o /dev/null --max-time 3 -w '%{http_code} %{time_total}' "$SLIMY_URL/health")
    [ "${out%% *}" = 200 ] || fail "$1: /health: [$out]"
    sign_to "$WORK/http-ping" '{"type":1}'
    out=$(curl -s -o /dev/null --max-time 3 -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' \
        -H @"$WORK/http-ping.hdr" --data-binary @"$WORK/http-ping" "$SLIMY_URL/interactions")
    [ "${out%% *}" = 200 ] || fail "$1: signed PING: [$out]"
    PROBE_TIMES+=("${out#* }")
}

# An interaction without its signature headers, or with malformed or stale ones, is refused at the
# headers: 401 and a close before any of the announced 1 MiB body is sent.
case_http_unsigned_refused_at_headers() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG out now sig
    http_start http-unsigned || return
    now=$(date +%s)
    sig=$(printf 'ab%.0s' $(seq 1 64))
    local head='POST /interactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048575\r\n'
    out=$(raw_http send "$SLIMY_PORT" --timeout 3 --data "$head"'\r\n')
    http_refused "no signature headers" "$out" 1
    assert_eq "$(json_get "$out" 'd["statuses"]')" "[401]" "no signature headers"
    out=$(raw_http send "$SLIMY_PORT" --timeout 3 --data "${head}X-Signature-Ed25519: ${sig:0:127}"'\r\n'"X-Signature-Timestamp: $now"'\r\n\r\n')
    assert_eq "$(json_get "$out" 'd["statuses"]')" "[401]" "127 hex chars"
    out=$(raw_http send "$SLIMY_PORT" --timeout 3 --data "${head}X-Signature-Ed25519: $sig"'\r\n'"X-Signature-Timestamp: ${now}x"'\r\n\r\n')
    assert_eq "$(json_get "$out" 'd["statuses"]')" "[401]" "timestamp not digits"
    out=$(raw_http send "$SLIMY_PORT" --timeout 3 --data "${head}X-Signature-Ed25519: $sig"'\r\n'"X-Signature-Timestamp: $((now - 1000))"'\r\n\r\n')
    assert_eq "$(json_get "$out" 'd["statuses"]')" "[401]" "stale timestamp"
    assert_eq "$(json_get "$out" 'd["closed"] and d["seconds"] < 1')" True "stale: closed at once ($out)"
    # Well-formed and fresh: the body is awaited (no answer yet), then the signature is checked.
    out=$(raw_http send "$SLIMY_PORT" --timeout 1 --data "${head}X-Signature-Ed25519: $sig"'\r\n'"X-Signature-Timestamp: $now"'\r\n\r\n')
    assert_eq "$(json_get "$out" 'd["statuses"]')" "[]" "well-formed headers wait for the body"
    post_signed '{"type":1}'
    assert_eq "$HTTP_CODE" 200 "a signed PING still answers"
    stop_slimy || fail "exit status"
}

# Hundreds of connections sending 1 MiB bodies without a signature: the memory stays put and
# /health and a signed PING keep answering within 3 s.
case_http_unsigned_body_flood() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG before peak rss flood_pid i out
    http_start http-flood || return
    before=$(http_rss_kib "$SLIMY_PID") peak=$before
    raw_http flood "$SLIMY_PORT" --conns 200 --seconds 8 --mode body >"$WORK/http-flood.json" &
    flood_pid=$!
    sleep 1
    PROBE_TIMES=()
    for i in 1 2 3 4 5; do
        http_probe "during the flood ($i)"
        rss=$(http_rss_kib "$SLIMY_PID")
        [ "$rss" -le "$peak" ] || peak=$rss
        sleep 0.5
    done
    wait "$flood_pid"
    out=$(cat "$WORK/http-flood.json")
    rss=$(http_rss_kib "$SLIMY_PID")
    [ "$rss" -le "$peak" ] || peak=$rss
    echo "    flood: RSS ${before} KiB -> peak ${peak} KiB; PING times ${PROBE_TIMES[*]}; $out"
    http_rss_bound "unsigned flood" "$before" "$peak"
    post_signed '{"type":1}'
    assert_eq "$HTTP_CODE" 200 "a signed PING after the flood"
    stop_slimy || fail "exit status"
}

# Well-formed (fresh, 128 hex) but false signature headers, then bodies that stall: each request
# must end 5 s after its headers (408), the bodies in flight stay within the budget (a request past
# its first 64 KiB gets 503 beyond 24 MiB in flight), and a small signed PING still gets through.
case_http_stalled_bodies_and_budget() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG before rss flood_pid out now sig
    http_start http-budget || return
    before=$(http_rss_kib "$SLIMY_PID")
    # One request that sends 10 bytes of its body and stops: 408 and closed 5 s after its headers.
    now=$(date +%s)
    sig=$(printf 'ab%.0s' $(seq 1 64))
    out=$(raw_http send "$SLIMY_PORT" --timeout 9 --data 'POST /interactions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n'"X-Signature-Ed25519: $sig"'\r\n'"X-Signature-Timestamp: $now"'\r\n\r\n0123456789')
    assert_eq "$(json_get "$out" 'd["statuses"]')" "[408]" "stalled body"
    assert_eq "$(json_get "$out" 'd["closed"] and 4.5 < d["seconds"] < 7')" True "stalled body closed after 5 s ($out)"
    # 40 connections each sending 1 MiB - 1 without finishing it (the flood's "stall" mode): 40 MiB
    # would be buffered without the budget.
    raw_http flood "$SLIMY_PORT" --conns 40 --seconds 4 --mode stall >"$WORK/http-stall.json" &
    flood_pid=$!
    sleep 2.5
    rss=$(http_rss_kib "$SLIMY_PID")
    PROBE_TIMES=()
    http_probe "budget full"
    head -c 1048575 /dev/zero | tr '\0' 'a' >"$WORK/http-big"
    post_raw "$WORK/http-big" -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp: $(date +%s)"
    assert_eq "$HTTP_CODE" 503 "a large body while the budget is spent"
    wait "$flood_pid"
    echo "    stalled bodies: RSS ${before} KiB -> ${rss} KiB; $(cat "$WORK/http-stall.json")"
    http_rss_bound "stalled bodies" "$before" "$rss"
    # The stalled requests end by themselves; the budget comes back.
    wait_until 8 http_budget_back "$WORK/http-big" "$sig" || fail "the budget did not come back: $HTTP_CODE"
    stop_slimy || fail "exit status"
}
# http_budget_back FILE SIG: a large body is read again (401: the signature is false).
http_budget_back() {
    post_raw "$1" -H "X-Signature-Ed25519: $2" -H "X-Signature-Timestamp: $(date +%s)"
    [ "$HTTP_CODE" = 401 ]
}

# Thousands of connections (more than the old limit of 4096) sending headers a byte a second, or
# valid-looking headers and no body: /health and a signed PING keep answering.
case_http_connection_flood_keeps_health() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG p1 p2 i
    http_start http-conns || return
    raw_http flood "$SLIMY_PORT" --conns 4000 --seconds 7 --mode slowloris >"$WORK/http-slow.json" &
    p1=$!
    raw_http flood "$SLIMY_PORT" --conns 500 --seconds 7 --mode headers >"$WORK/http-headers.json" &
    p2=$!
    sleep 1.5
    PROBE_TIMES=()
    for i in 1 2 3 4; do
        http_probe "connection flood ($i)"
        sleep 1
    done
    wait "$p1" "$p2"
    echo "    connection flood: PING times ${PROBE_TIMES[*]}; $(cat "$WORK/http-slow.json") $(cat "$WORK/http-headers.json")"
    stop_slimy || fail "exit status"
}

# Strict parsing: conflicting Content-Length headers, Content-Length with Transfer-Encoding, a NUL
# or another control byte in a header value: a 4xx and a close within 2 s.
case_http_malformed_headers_refused() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG out
    http_start http-strict || return
    out=$(raw_http send "$SLIMY_PORT" --timeout 4 --data 'POST /interactions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n1234567')
    http_refused "two Content-Length" "$out" 2
    out=$(raw_http send "$SLIMY_PORT" --timeout 4 --data 'POST /interactions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n0\r\n\r\n')
    http_refused "Content-Length and Transfer-Encoding" "$out" 2
    out=$(raw_http send "$SLIMY_PORT" --timeout 4 --data 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n')
    http_refused "NUL in a header value" "$out" 2
    out=$(raw_http send "$SLIMY_PORT" --timeout 4 --data 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n')
    http_refused "control byte in a header value" "$out" 2
    out=$(raw_http send "$SLIMY_PORT" --timeout 4 --data 'GET /health HTTP/1.1\r\nHost: x\r\nX-A\x00B: a\r\n\r\n')
    http_refused "NUL in a header name" "$out" 2
    # A plain one still answers, and keeps its connection.
    out=$(raw_http send "$SLIMY_PORT" --timeout 1 --data 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\tb\r\n\r\n')
    assert_eq "$(json_get "$out" 'd["statuses"]')" "[200]" "a tab is fine"
    assert_eq "$(json_get "$out" 'd["closed"]')" False "kept alive"
    stop_slimy || fail "exit status"
}

# 54 requests pipelined on one connection (/health, an unknown path, a signed PING in turn) are all
# answered, in order.
case_http_pipelined_requests_answered_in_order() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG out
    http_start http-pipeline || return
    sign_to "$WORK/http-pipe" '{"type":1}'
    out=$(raw_http pipeline "$SLIMY_PORT" --count 54 --ping-file "$WORK/http-pipe")
    assert_eq "$(json_get "$out" 'len(d["statuses"])')" 54 "answers"
    assert_eq "$(json_get "$out" 'd["in_order"]')" True "in order: $out"
    stop_slimy || fail "exit status"
}

# TLS spoken to the plain-HTTP port: the ClientHello is answered 400 (or closed at once when the
# bytes cannot even make a request line), and one with no line end at all (or headers dripped a
# byte at a time) is answered 400 and closed within 2 s, not held; a connection that sends nothing is closed.
case_http_tls_and_slow_headers_closed() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG out hello i
    http_start http-tls || return
    for i in 1 2 3; do
        hello=$(python3 -c 'import ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
s = ctx.wrap_bio(i, o, server_hostname="slimy.test")
try: s.do_handshake()
except ssl.SSLWantReadError: pass
print(o.read().hex())')
        out=$(raw_http send "$SLIMY_PORT" --timeout 6 --hex "$hello")
        assert_eq "$(json_get "$out" 'd["statuses"] in ([], [400]) and d["closed"] and d["seconds"] < 2')" True \
            "ClientHello $i: $out"
        # The same without any line end: nothing for the parser to answer, so the header deadline.
        out=$(raw_http send "$SLIMY_PORT" --timeout 6 --hex "$(json_get '' 'bytes.fromhex(argv[0]).replace(b"\n", b"\x0b").hex()' "$hello")")
        assert_eq "$(json_get "$out" 'd["statuses"] == [400] and d["closed"] and d["seconds"] < 2')" True \
            "ClientHello without a line end $i: $out"
    done
    out=$(raw_http send "$SLIMY_PORT" --timeout 6 --drip-ms 300 --data 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: abcdefghijklmnopqrstuvwxyz\r\n\r\n')
    assert_eq "$(json_get "$out" 'd["statuses"] == [400] and d["closed"] and d["seconds"] < 2')" True "dripped headers: $out"
    # Connected and silent (a client connecting ahead of its request): closed, with no answer it
    # could take for that of its request.
    out=$(raw_http send "$SLIMY_PORT" --timeout 4 --data '')
    assert_eq "$(json_get "$out" 'd["statuses"] == [] and d["closed"] and d["seconds"] < 2')" True "silent connection: $out"
    stop_slimy || fail "exit status"
}
