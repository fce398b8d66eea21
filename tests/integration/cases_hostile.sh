# cases_hostile.sh — hostile input against a live server: every case expects a 4xx or a harmless
# answer, and a healthy server afterwards. Sourced by run.sh.
#
# Raw bytes go through tests/tools/hostile.py (hraw, hhold in lib.sh); everything a case checks
# ends with hostile_healthy (the process alive, /health 200, a signed PING answered {"type":1}).
# Bounded everywhere: raw reads stop after 2 s unless a case says otherwise, curl has --max-time.

HOSTILE_PING='{"type":1,"id":"1","application_id":"'"$APP_ID"'","token":"t","version":1}'
HOSTILE_ANALYZE='[{"name":"analyze","type":1,"options":[{"name":"screenshot","type":11,"value":"2001"}]}]'
HOSTILE_CALC='[{"name":"calc","type":1,"options":[{"name":"tier","type":4,"value":6},{"name":"levels","type":3,"value":"3,3,2,0,0,0,0,1"}]}]'
HOSTILE_CONSENT_STATUS='[{"name":"status","type":1}]'
# A well-formed signature (128 hex digits) that verifies nothing: gets a request past any check of
# the headers' shape, so that the server has to read the body.
HOSTILE_FAKE_SIG=$(printf 'ab%.0s' {1..64})

# signed_head BODY [EXTRA_HEADER_LINES]: the head of a signed POST /interactions for BODY (JSON
# string content, CRLFs escaped), Content-Length included; EXTRA is inserted as is (escaped CRLFs).
signed_head() {
    hsign "$1"
    printf 'POST /interactions HTTP/1.1\\r\\nHost: slimy.test\\r\\nContent-Type: application/json\\r\\nX-Signature-Ed25519: %s\\r\\nX-Signature-Timestamp: %s\\r\\nContent-Length: %s\\r\\n%s\\r\\n' \
        "$HSIG" "$HTS" "${#1}" "${2:-}"
}
# fake_signed_head [EXTRA_HEADER_LINES]: a POST /interactions head with well-formed signature
# headers (HOSTILE_FAKE_SIG, a fresh timestamp) and no Content-Length unless EXTRA has one.
fake_signed_head() {
    printf 'POST /interactions HTTP/1.1\\r\\nHost: slimy.test\\r\\nContent-Type: application/json\\r\\nX-Signature-Ed25519: %s\\r\\nX-Signature-Timestamp: %s\\r\\n%s\\r\\n' \
        "$HOSTILE_FAKE_SIG" "$(date +%s)" "${1:-}"
}
# h_probe_ok WHAT: the server answered the probes of the last hraw/hhold promptly (< 1 s, none failed).
h_probe_ok() {
    local r max failures probes
    r=$(json_get "$H" '"%s %s %s" % (d.get("probe_max_ms"), d.get("probe_failures"), d.get("probes"))')
    read -r max failures probes <<<"$r"
    [ "$probes" != None ] && [ "$probes" -gt 0 ] || { fail "$1: no probe ran"; return; }
    [ "$failures" = 0 ] || fail "$1: $failures of $probes probes of /health failed meanwhile"
    [ "$max" -lt 1000 ] || fail "$1: /health took $max ms meanwhile"
}

# ---- the HTTP layer ----

case_hostile_slow_headers() {
    # 2 s for one request head, a byte every 50 ms: answered (or cut off), others served meanwhile.
    hraw '{"send":[{"text":"GET /health HTTP/1.1\r\nHost: slow.test\r\n\r\n","byte_delay_ms":50}],
        "expect":1,"timeout_ms":2000,"probe":{"path":"/health","every_ms":200}}'
    case $H_STATUS in
    200) ;;
    *) h_refused "slow head" ;;
    esac
    h_probe_ok "slow head"
    hostile_healthy
}

case_hostile_slow_body_signed_ping() {
    # A signed PING whose body trickles in over about 2.5 s is still a PING.
    hraw '{"send":[{"text":"'"$(signed_head "$HOSTILE_PING")"'"},{"text":'"$(jstr "$HOSTILE_PING")"',"byte_delay_ms":30}],
        "expect":1,"timeout_ms":3000,"probe":{"path":"/health","every_ms":200}}'
    assert_eq "$H_STATUS" 200 "slow body answered"
    assert_eq "$(json_get "$H" 'd["responses"][0]["body"]')" '{"type":1}' "slow body is a PING"
    h_probe_ok "slow body"
    hostile_healthy
}

case_hostile_many_idle_connections() {
    # 150 connections stuck in their heads, then 150 stuck in their bodies: the server keeps serving.
    hhold '{"connections":150,"send":[{"text":"GET /health HTTP/1.1\r\nHost: idle.test\r\n"}],"hold_ms":1000,
        "timeout_ms":300,"probe":{"path":"/health","every_ms":150}}'
    assert_eq "$(json_get "$H" 'd["opened"]')" 150 "connections opened (heads)"
    h_probe_ok "150 half heads"
    hhold '{"connections":150,"send":[{"text":"'"$(fake_signed_head 'Content-Length: 1000\r\n')"'{\"type\""}],
        "hold_ms":1000,"timeout_ms":300,"probe":{"path":"/health","every_ms":150}}'
    assert_eq "$(json_get "$H" 'd["opened"]')" 150 "connections opened (bodies)"
    h_probe_ok "150 half bodies"
    assert_eq "$(json_get "$H" '[s for s in d["statuses"] if not 400 <= s < 500]')" "[]" "no half body answered but with a 4xx"
    hostile_healthy
}

case_hostile_chunked_signed_ping() {
    # The PING in 7-byte chunks with chunk extensions and a trailer.
    local body=$HOSTILE_PING chunked='' i piece
    for ((i = 0; i < ${#body}; i += 7)); do
        piece=${body:i:7}
        printf -v piece '%x;ext=%d\r\n%s\r\n' "${#piece}" "$i" "$piece"
        chunked+=$piece
    done
    chunked+=$'0\r\nX-Trailer: yes\r\n\r\n'
    hsign "$body"
    hraw '{"send":[{"text":"POST /interactions HTTP/1.1\r\nHost: slimy.test\r\nContent-Type: application/json\r\nX-Signature-Ed25519: '"$HSIG"'\r\nX-Signature-Timestamp: '"$HTS"'\r\nTransfer-Encoding: chunked\r\n\r\n"},
        {"text":'"$(jstr "$chunked")"'}],"expect":1,"timeout_ms":2000}'
    assert_eq "$H_STATUS" 200 "chunked PING answered"
    assert_eq "$(json_get "$H" 'd["responses"][0]["body"]')" '{"type":1}' "chunked PING body"
    hostile_healthy
}

case_hostile_chunked_malformed() {
    # Broken chunk framing after well-formed signature headers (so the body has to be read).
    local head bad
    head=$(fake_signed_head 'Transfer-Encoding: chunked\r\n')
    for bad in 'zz\r\n{}\r\n0\r\n\r\n' 'ffffffffffffffffff\r\n' '-1\r\n{}\r\n0\r\n\r\n' '5\r\n{\"type\":1}\r\n0\r\n\r\n' \
        '2\r\n{}0\r\n\r\n'; do
        hraw '{"send":[{"text":"'"$head$bad"'"}],"expect":1,"timeout_ms":2000}'
        h_refused "chunked [$bad]"
    done
    hostile_healthy
}

case_hostile_body_longer_than_content_length() {
    # A signed PING then junk past its Content-Length: the PING is answered, the junk is not a request.
    hraw '{"send":[{"text":"'"$(signed_head "$HOSTILE_PING")"'"},{"text":'"$(jstr "$HOSTILE_PING")"'},
        {"text":"GARBAGE \u0001\u0002 NOT HTTP\r\n\r\n"}],"expect":2,"wait_close":true,"timeout_ms":2000}'
    assert_eq "$H_STATUS" 200 "the PING"
    assert_eq "$(json_get "$H" 'd["responses"][0]["body"]')" '{"type":1}' "PING body"
    assert_eq "$(json_get "$H" '[s for s in d["statuses"][1:] if not 400 <= s < 500]')" "[]" "junk answered only with a 4xx"
    hostile_healthy
}

case_hostile_body_shorter_than_content_length() {
    # 10 bytes of a declared 100, then the client's FIN: no answer but a 4xx, and the close.
    hraw '{"send":[{"text":"'"$(fake_signed_head 'Content-Length: 100\r\n')"'{\"type\":1"}],"shut_wr":true,"expect":1,
        "wait_close":true,"timeout_ms":2000}'
    h_refused "short body then FIN"
    # Without the FIN the server waits for the rest; whatever it says meanwhile is no 2xx.
    hraw '{"send":[{"text":"'"$(fake_signed_head 'Content-Length: 100\r\n')"'{\"type\":1"}],"expect":1,"timeout_ms":1000}'
    case $H_STATUS in 2?? | 5??) fail "short body: answered $H_STATUS" ;; esac
    hostile_healthy
}

case_hostile_header_flood() {
    # 3000 headers: refused (431 or another 4xx, or the close) within 2 s.
    hraw '{"send":[{"text":"GET /health HTTP/1.1\r\nHost: flood.test\r\n"},{"text":"X-Flood: 0123456789abcdef\r\n","repeat":3000},
        {"text":"\r\n"}],"expect":1,"timeout_ms":2000}'
    h_refused "3000 headers"
    # The same flood in front of an interaction.
    hraw '{"send":[{"text":"'"$(fake_signed_head)"'"},{"text":"X-Flood: 0123456789abcdef\r\n","repeat":3000},
        {"text":"Content-Length: 2\r\n\r\n{}"}],"expect":1,"timeout_ms":2000}'
    h_refused "3000 headers on /interactions"
    hostile_healthy
}

case_hostile_huge_header_value() {
    hraw '{"send":[{"text":"GET /health HTTP/1.1\r\nHost: big.test\r\nX-Big: "},{"text":"A","repeat":200000},{"text":"\r\n\r\n"}],
        "expect":1,"timeout_ms":2000}'
    h_refused "200 KB header value"
    hraw '{"send":[{"text":"POST /interactions HTTP/1.1\r\nHost: big.test\r\nX-Signature-Timestamp: "},{"text":"1","repeat":100000},
        {"text":"\r\nContent-Length: 2\r\n\r\n{}"}],"expect":1,"timeout_ms":2000}'
    h_refused "100 KB signature timestamp"
    hostile_healthy
}

case_hostile_huge_request_line() {
    hraw '{"send":[{"text":"GET /"},{"text":"a","repeat":100000},{"text":" HTTP/1.1\r\nHost: long.test\r\n\r\n"}],
        "expect":1,"timeout_ms":2000}'
    h_refused "100 KB path"
    hraw '{"send":[{"text":"GET /health?"},{"text":"q=1&","repeat":25000},{"text":" HTTP/1.1\r\nHost: long.test\r\n\r\n"}],
        "expect":1,"timeout_ms":2000}'
    h_refused "100 KB query"
    hostile_healthy
}

case_hostile_two_content_lengths() {
    # Finding: two conflicting Content-Length headers are a 4xx, and the connection closes (2 s).
    hraw '{"send":[{"text":"'"$(fake_signed_head 'Content-Length: 5\r\nContent-Length: 7\r\n')"'{\"a\":1}"}],
        "expect":1,"wait_close":true,"timeout_ms":2000}'
    h_status_and_close "Content-Length 5 then 7" "4??" 2000
    hraw '{"send":[{"text":"'"$(fake_signed_head 'Content-Length: 7\r\nContent-Length: 5\r\n')"'{\"a\":1}"}],
        "expect":1,"wait_close":true,"timeout_ms":2000}'
    h_status_and_close "Content-Length 7 then 5" "4??" 2000
    hostile_healthy
}

case_hostile_content_length_with_chunked() {
    # Content-Length and chunked together (request smuggling): refuse, or answer once and close
    # (RFC 9112 6.1); the request hidden after the chunked end must never be served.
    hraw '{"send":[{"text":"'"$(fake_signed_head 'Content-Length: 60\r\nTransfer-Encoding: chunked\r\n')"'0\r\n\r\nGET /hostile-smuggled HTTP/1.1\r\nHost: smuggle.test\r\n\r\n"}],
        "expect":2,"wait_close":true,"timeout_ms":2000}'
    assert_eq "$(json_get "$H" '[s for s in d["statuses"] if s == 404]')" "[]" "the smuggled request was not served"
    assert_eq "$(json_get "$H" 'len(d["statuses"]) <= 1')" True "one answer at most (statuses: $H_STATUSES)"
    [ "$H_CLOSED" = True ] || fail "connection kept open after an ambiguous framing"
    hostile_healthy
}

case_hostile_bad_content_length_values() {
    local v
    for v in '-1' 'abc' '99999999999999999999999' '1e3' '0x10' '5 5' ''; do
        hraw '{"send":[{"text":"'"$(fake_signed_head "Content-Length: $v\\r\\n")"'{\"type\":1}"}],"expect":1,"timeout_ms":2000}'
        h_refused "Content-Length [$v]"
    done
    hostile_healthy
}

case_hostile_two_signature_headers() {
    # Duplicated or conflicting signature headers: a 401/400, or (when the first pair is the
    # valid one) the PING; never anything else.
    local now sig other
    printf '%s' "$HOSTILE_PING" >"$WORK/hreq"
    now=$(date +%s)
    sig=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "$now" --body-file "$WORK/hreq" | head -n 1)
    other=$("$SIGN" sign --key "$WORK/other/dev-secret.key" --timestamp "$now" --body-file "$WORK/hreq" | head -n 1)
    check_dup() {
        case "$HTTP_CODE $BODY" in
        '200 {"type":1}' | 400\ * | 401\ *) ;;
        *) fail "$1: $HTTP_CODE $BODY" ;;
        esac
    }
    post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519: $sig" -H "X-Signature-Ed25519: $other" -H "X-Signature-Timestamp: $now"
    check_dup "valid then foreign signature"
    post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519: $other" -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp: $now"
    check_dup "foreign then valid signature"
    post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp: $((now - 5000))" -H "X-Signature-Timestamp: $now"
    case $HTTP_CODE in 400 | 401) ;; *) fail "stale then signed timestamp: $HTTP_CODE $BODY (the first timestamp is stale)" ;; esac
    post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519: $sig, $other" -H "X-Signature-Timestamp: $now"
    assert_eq "$HTTP_CODE" 401 "two signatures folded into one header"
    post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp: $now, $now"
    assert_eq "$HTTP_CODE" 401 "two timestamps folded into one header"
    unset -f check_dup
    hostile_healthy
}

case_hostile_nul_in_header_value() {
    # Finding: a NUL byte in a header value is a 4xx within 2 s.
    hraw '{"send":[{"text":"GET /health HTTP/1.1\r\nHost: nul.test\r\nX-Nul: a\u0000b\r\n\r\n"}],"expect":1,"timeout_ms":2000}'
    [[ $H_STATUS == 4?? ]] && h_within 2000 || fail "NUL in X-Nul: expected a 4xx within 2 s, got $H_STATUS"
    hraw '{"send":[{"text":"POST /interactions HTTP/1.1\r\nHost: nul.test\r\nX-Signature-Ed25519: '"$HOSTILE_FAKE_SIG"'\r\nX-Signature-Timestamp: 1\u00002\r\nContent-Length: 2\r\n\r\n{}"}],
        "expect":1,"timeout_ms":2000}'
    [[ $H_STATUS == 4?? ]] && h_within 2000 || fail "NUL in the timestamp: expected a 4xx within 2 s, got $H_STATUS"
    hostile_healthy
}

case_hostile_nul_in_request_line() {
    # A NUL byte in the request line is refused like one in a header value: a 4xx within 2 s.
    local line
    for line in '\u0000\u0001\u0002\u00ff\r\n\r\n' '\u0000GET /health HTTP/1.1\r\nHost: nul.test\r\n\r\n' \
        'GET /hea\u0000lth HTTP/1.1\r\nHost: nul.test\r\n\r\n' 'GET /health HTTP/1.1\u0000\r\nHost: nul.test\r\n\r\n'; do
        hraw '{"send":[{"text":"'"$line"'"}],"expect":1,"wait_close":true,"timeout_ms":2000}'
        [[ $H_STATUS == 4?? ]] && h_within 2000 || fail "[$line]: expected a 4xx within 2 s, got $H_STATUS (closed=$H_CLOSED)"
    done
    hostile_healthy
}

case_hostile_tls_client_hello() {
    # Finding: a TLS ClientHello on the plain port is answered or closed within 2 s, with or
    # without a line end in it.
    hraw '{"send":[{"tls_client_hello":true}],"expect":1,"wait_close":true,"timeout_ms":2000}'
    h_refused "ClientHello"
    hraw '{"send":[{"tls_client_hello":"line_free"}],"expect":1,"wait_close":true,"timeout_ms":2000}'
    h_refused "ClientHello without CR/LF"
    hostile_healthy
}

case_hostile_pipelined_54_requests() {
    # Finding: 54 requests pipelined on one connection are all answered, in order.
    local spec='' i want=''
    for ((i = 0; i < 54; i++)); do
        case $((i % 4)) in
        0) spec+='GET /health HTTP/1.1\r\nHost: pipe.test\r\n\r\n' want+=' 200:ok' ;;
        1) spec+='GET /hostile-nope-'$i' HTTP/1.1\r\nHost: pipe.test\r\n\r\n' want+=' 404:not found' ;;
        2) spec+='GET /ready HTTP/1.1\r\nHost: pipe.test\r\n\r\n' want+=' 200:ready' ;;
        3) spec+='GET /interactions HTTP/1.1\r\nHost: pipe.test\r\n\r\n' want+=' 405:method not allowed' ;;
        esac
    done
    hraw '{"send":[{"text":"'"$spec"'"}],"expect":54,"timeout_ms":3000}'
    local got
    got=$(json_get "$H" '" ".join("%s:%s" % (r["status"], (lambda b: b.get("error") or b.get("status"))(json.loads(r["body"] or "{}")))
        for r in d["responses"])')
    assert_eq "$(json_get "$H" 'len(d["responses"])')" 54 "answers"
    assert_eq " $got" "$want" "answers in order"
    hostile_healthy
}

case_hostile_pipelined_signed_pings() {
    # Ten signed PINGs pipelined: ten PONGs.
    local one i spec=''
    one="$(signed_head "$HOSTILE_PING")$(jstr "$HOSTILE_PING" | sed 's/^"//; s/"$//')"
    for ((i = 0; i < 10; i++)); do spec+=$one; done
    hraw '{"send":[{"text":"'"$spec"'"}],"expect":10,"timeout_ms":3000}'
    assert_eq "$(json_get "$H" '[r["body"] for r in d["responses"]]')" "$(json_get '' 'str(["{\"type\":1}"] * 10)')" "ten PONGs"
    hostile_healthy
}

case_hostile_http09_and_bad_versions() {
    local line
    for line in 'GET /health' 'GET /health HTTP/9.9' 'GET /health HTTP/2.0' 'GET /health HTTP/1.1.1' 'GET /health HTTP/1' \
        'GET /health http/1.1' 'GET /health HTTP/01.1' 'GET /health HTTP/1.1 extra'; do
        hraw '{"send":[{"text":"'"$line"'\r\nHost: ver.test\r\n\r\n"}],"expect":1,"timeout_ms":2000}'
        case $H_STATUS in
        505) h_within 2000 || fail "[$line]: 505 too late" ;;
        *) h_refused "[$line]" ;;
        esac
    done
    hostile_healthy
}

case_hostile_garbage_request_lines() {
    local line
    for line in 'HELLO\r\n\r\n' '\u00ff\u00fe GET /health HTTP/1.1\r\n\r\n' \
        ' GET /health HTTP/1.1\r\nHost: g.test\r\n\r\n' 'GET\t/health\tHTTP/1.1\r\nHost: g.test\r\n\r\n' ':\r\n\r\n' \
        'GET /health HTTP/1.1\r\nno colon here\r\n\r\n'; do
        hraw '{"send":[{"text":"'"$line"'"}],"expect":1,"wait_close":true,"timeout_ms":2000}'
        h_refused "[$line]"
    done
    # Lenient parsing is allowed here (the health answer, or a 4xx), silence or a 5xx is not.
    for line in 'GET /health HTTP/1.1\r\n: empty name\r\n\r\n' 'GET /health HTTP/1.1\r\nX-\u0001Ctl: v\r\n\r\n' \
        'GET /health HTTP/1.1\r\nX-Fold: a\r\n  b\r\n\r\n' 'GET /health HTTP/1.1\r\nX-Sp : v\r\n\r\n'; do
        hraw '{"send":[{"text":"'"$line"'"}],"expect":1,"timeout_ms":2000}'
        case $H_STATUS in
        200) assert_contains "$(json_get "$H" 'd["responses"][0]["body"]')" '"status":"ok"' "[$line]: the health answer" ;;
        *) h_refused "[$line]" ;;
        esac
    done
    # 40 KB of binary junk without any line end: refused once the server's buffer is full.
    hraw '{"send":[{"text":"\u0016\u0003\u0001\u00ff","repeat":10000}],"expect":1,"wait_close":true,"timeout_ms":2000}'
    h_refused "40 KB without a line end"
    hostile_healthy
}

case_hostile_absurd_methods() {
    local method
    for method in 'FOO /health' 'DELETE /interactions' 'PUT /interactions' 'PATCH /health' 'TRACE /health' \
        'CONNECT 127.0.0.1:22' 'OPTIONS *' 'get /health' 'G\u0001T /health' 'PRI *' "$(printf 'A%.0s' {1..4000}) /health"; do
        hraw '{"send":[{"text":"'"$method"' HTTP/1.1\r\nHost: m.test\r\nContent-Length: 0\r\n\r\n"}],"expect":1,"timeout_ms":2000}'
        h_refused "method [${method:0:40}]"
    done
    hostile_healthy
}

case_hostile_absurd_paths() {
    # Odd request targets: never a 5xx, never silence, and a 200 only with the health answer.
    local path
    for path in '/interactions/../health' '/%00' '/%2e%2e/health' '//interactions' '/health/' '/health?x=\u00ff' \
        '*' 'http://evil.test/health' '/interactions%00' '/.%2e/.%2e/etc/passwd' '/metrics/../../etc/passwd' \
        "/$(printf 'a/%.0s' {1..2000})" '/\u00ff\u00fe' '/health#frag'; do
        hraw '{"send":[{"text":"GET '"$path"' HTTP/1.1\r\nHost: p.test\r\n\r\n"}],"expect":1,"timeout_ms":2000}'
        case $H_STATUS in
        200) assert_contains "$(json_get "$H" 'd["responses"][0]["body"]')" '"status":"ok"' "path [${path:0:40}]: a 200 that is not /health" ;;
        4??) ;;
        none) [ "$H_CLOSED" = True ] || fail "path [${path:0:40}]: no answer" ;;
        *) fail "path [${path:0:40}]: $H_STATUS" ;;
        esac
    done
    hostile_healthy
}

# ---- signatures ----

case_hostile_missing_signature_refused_before_body() {
    # Finding: no signature headers is a 401 at the headers: sent without its (large) body, the
    # 401 still arrives within 2 s.
    local h
    for h in '' 'X-Signature-Timestamp: '"$(date +%s)"'\r\n' 'X-Signature-Ed25519: '"$HOSTILE_FAKE_SIG"'\r\n'; do
        hraw '{"send":[{"text":"POST /interactions HTTP/1.1\r\nHost: sig.test\r\nContent-Type: application/json\r\n'"$h"'Content-Length: 500000\r\n\r\n"}],
            "expect":1,"timeout_ms":2000}'
        [ "$H_STATUS" = 401 ] && h_within 2000 || fail "headers [$h] only: expected 401 within 2 s, got $H_STATUS"
    done
    hostile_healthy
}

case_hostile_malformed_signature_refused_before_body() {
    # Finding: a malformed signature or timestamp is a 401 before the body is read.
    local now h
    now=$(date +%s)
    for h in "X-Signature-Ed25519: ${HOSTILE_FAKE_SIG:0:127}\\r\\nX-Signature-Timestamp: $now" \
        "X-Signature-Ed25519: zz${HOSTILE_FAKE_SIG:2}\\r\\nX-Signature-Timestamp: $now" \
        "X-Signature-Ed25519: ${HOSTILE_FAKE_SIG}\\r\\nX-Signature-Timestamp: ${now}x" \
        "X-Signature-Ed25519: ${HOSTILE_FAKE_SIG}00\\r\\nX-Signature-Timestamp: $now"; do
        hraw '{"send":[{"text":"POST /interactions HTTP/1.1\r\nHost: sig.test\r\nContent-Type: application/json\r\n'"$h"'\r\nContent-Length: 500000\r\n\r\n"}],
            "expect":1,"timeout_ms":2000}'
        [ "$H_STATUS" = 401 ] && h_within 2000 || fail "[${h:0:60}...] only: expected 401 within 2 s, got $H_STATUS"
    done
    hostile_healthy
}

case_hostile_stale_signature_refused_before_body() {
    # Finding: a timestamp outside SIGNATURE_MAX_AGE_S (900 s here) is a 401 before the body.
    local now ts
    now=$(date +%s)
    for ts in $((now - 1000)) $((now + 1000)) 0; do
        hraw '{"send":[{"text":"POST /interactions HTTP/1.1\r\nHost: sig.test\r\nContent-Type: application/json\r\nX-Signature-Ed25519: '"$HOSTILE_FAKE_SIG"'\r\nX-Signature-Timestamp: '"$ts"'\r\nContent-Length: 500000\r\n\r\n"}],
            "expect":1,"timeout_ms":2000}'
        [ "$H_STATUS" = 401 ] && h_within 2000 || fail "timestamp $ts (now $now): expected 401 within 2 s, got $H_STATUS"
    done
    hostile_healthy
}

case_hostile_expect_continue_unsigned() {
    # An unsigned request asking "Expect: 100-continue" gets its 401, not a 100 Continue.
    hraw '{"send":[{"text":"POST /interactions HTTP/1.1\r\nHost: sig.test\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 500000\r\n\r\n"}],
        "expect":1,"timeout_ms":2000}'
    [ "$H_STATUS" = 401 ] && h_within 2000 || fail "Expect: 100-continue unsigned: expected 401 first within 2 s, got [$H_STATUSES]"
    hostile_healthy
}

case_hostile_signature_header_shapes() {
    local now sig v
    printf '%s' "$HOSTILE_PING" >"$WORK/hreq"
    now=$(date +%s)
    sig=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "$now" --body-file "$WORK/hreq" | head -n 1)
    post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519;" -H "X-Signature-Timestamp: $now"
    assert_eq "$HTTP_CODE" 401 "empty signature"
    post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp;"
    assert_eq "$HTTP_CODE" 401 "empty timestamp"
    for v in "0x${sig:2}" "${sig:0:64} ${sig:65}" "$sig$sig" "$(printf 'f%.0s' {1..10000})" "${sig:0:126}é" \
        "${sig:0:127}"$'\t' "$(printf '%s' "$sig" | tr 'a-f' 'g-l')"; do
        post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519: $v" -H "X-Signature-Timestamp: $now"
        assert_eq "$HTTP_CODE" 401 "signature [${v:0:40}...]"
    done
    hostile_healthy
}

case_hostile_wrong_key() {
    local now other sig
    printf '%s' "$HOSTILE_PING" >"$WORK/hreq"
    now=$(date +%s)
    other=$("$SIGN" sign --key "$WORK/other/dev-secret.key" --timestamp "$now" --body-file "$WORK/hreq" | head -n 1)
    post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519: $other" -H "X-Signature-Timestamp: $now"
    assert_eq "$HTTP_CODE" 401 "signed by another key"
    # The right key over another text of the same instant ("0" + timestamp is the same number).
    sig=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "0$now" --body-file "$WORK/hreq" | head -n 1)
    post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp: $now"
    assert_eq "$HTTP_CODE" 401 "signature over another spelling of the timestamp"
    hostile_healthy
}

case_hostile_replayed_old_timestamps() {
    # Validly signed, but with timestamps that are old or not plain unix seconds: all 401.
    local now ts
    now=$(date +%s)
    for ts in $((now - 901)) $((now - 86400)) 1 0 -5 1e9 12.5 " $now" "+$now" "$now " 99999999999999999999 "${now}.0"; do
        hpost_signed "$HOSTILE_PING" "$ts"
        assert_eq "$HTTP_CODE" 401 "timestamp [$ts]"
    done
    hostile_healthy
}

case_hostile_future_timestamps() {
    local now ts
    now=$(date +%s)
    for ts in $((now + 901)) $((now + 1000000000)) 999999999999999999 9223372036854775807 18446744073709551615; do
        hpost_signed "$HOSTILE_PING" "$ts"
        assert_eq "$HTTP_CODE" 401 "timestamp [$ts]"
    done
    hostile_healthy
}

case_hostile_changed_body() {
    # A valid signature over one body, then another body: 401, whatever the change.
    local now sig body
    now=$(date +%s)
    printf '%s' "$HOSTILE_PING" >"$WORK/hsigned"
    sig=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "$now" --body-file "$WORK/hsigned" | head -n 1)
    for body in "${HOSTILE_PING/\"t\"/\"u\"}" "$HOSTILE_PING " "${HOSTILE_PING:0:-1}" \
        '{"version":1,"token":"t","application_id":"'"$APP_ID"'","id":"1","type":1}' "${HOSTILE_PING^^}"; do
        printf '%s' "$body" >"$WORK/hreq"
        post_raw "$WORK/hreq" --max-time 5 -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp: $now"
        assert_eq "$HTTP_CODE" 401 "changed body [${body:0:50}]"
    done
    hostile_healthy
}

# ---- bad JSON (validly signed) ----

# json_answer WHAT ALLOWED: the last answer is one of ALLOWED ("400", "pong", space-separated).
json_answer() {
    local what=$1 allowed=" $2 " got
    hostile_init
    case "$HTTP_CODE $BODY" in
    '200 {"type":1}') got=pong ;;
    400\ *) got=400 ;;
    *) got="$HTTP_CODE ${BODY:0:200}" ;;
    esac
    [[ $allowed == *" $got "* ]] || fail "$what: got [$got], expected one of [$2]"
    resp_utf8_ok || fail "$what: the answer is not valid UTF-8"
}

case_hostile_invalid_utf8_in_ping() {
    hostile_init
    hpost_signed $'{"type":1,"x":"\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80"}'
    json_answer "invalid UTF-8 in a string" "400 pong"
    hpost_signed $'{"type":1,"\xff\xfe":1}'
    json_answer "invalid UTF-8 in a key" "400 pong"
    hpost_signed $'{"type":1,"x":"\\ud800"}'
    json_answer "a lone surrogate escape" "400 pong"
    printf '{"type":1,"x":"a\0b"}' >"$WORK/hnul"
    hpost_signed_file "$WORK/hnul"
    json_answer "a raw NUL in a string" "400 pong"
    printf '{"type":1}\0' >"$WORK/hnul"
    hpost_signed_file "$WORK/hnul"
    json_answer "a NUL after the object" "400"
    hostile_healthy
}

case_hostile_invalid_utf8_in_command_text() {
    # Invalid UTF-8 in what users type: refused, or answered with valid UTF-8 (to the HTTP answer
    # and to Discord).
    hostile_init
    command_json forget '[{"name":"id","type":3,"value":"PLACEHOLDER"}]'
    CMD=${CMD/PLACEHOLDER/$'\xff\xfe\xc3\x28abc\xed\xa0\x80'}
    harmless_send "/forget id with invalid UTF-8"
    command_json snail "$HOSTILE_CALC"
    CMD=${CMD/3,3,2,0,0,0,0,1/$'3,3,\xff,0,\xc0\xaf,0,0,1'}
    harmless_send "/snail calc levels with invalid UTF-8"
    USER_ID="9${CASE_BASE}1" command_json chat '[{"name":"message","type":3,"value":"PLACEHOLDER"}]'
    CMD=${CMD/PLACEHOLDER/$'hi \xff\xfe there \xe2\x82'}
    harmless_send "/chat message with invalid UTF-8"
    USER_ID="9${CASE_BASE}2" command_json dream '[{"name":"prompt","type":3,"value":"PLACEHOLDER"}]'
    CMD=${CMD/PLACEHOLDER/$'a snail \xf8\x88\x80\x80\x80'}
    harmless_send "/dream prompt with invalid UTF-8"
    harmless_wait
    hostile_healthy
}

case_hostile_deep_nesting() {
    local deep
    deep=$(printf '[%.0s' {1..10000})$(printf ']%.0s' {1..10000})
    hpost_signed '{"type":1,"x":'"$deep"'}'
    json_answer "10000 nested arrays" "400 pong"
    deep=$(printf '{"a":%.0s' {1..10000})1$(printf '}%.0s' {1..10000})
    hpost_signed '{"type":1,"x":'"$deep"'}'
    json_answer "10000 nested objects" "400 pong"
    hpost_signed "$(printf '[%.0s' {1..10000})"
    json_answer "10000 unclosed arrays" "400"
    deep=$(printf '[%.0s' {1..200})$(printf ']%.0s' {1..200})
    hpost_signed '{"type":1,"x":'"$deep"'}'
    json_answer "200 nested arrays" "pong"
    # Deep options in a command: harmless.
    command_json snail "$(printf '[{"name":"calc","type":1,"options":%.0s' {1..3000})[]$(printf '}]%.0s' {1..3000})"
    harmless_send "3000 nested subcommands"
    hostile_healthy
}

case_hostile_huge_string() {
    # Within the 1 MiB cap: read, verified and answered promptly.
    local big start
    big=$(head -c 1000000 /dev/zero | tr '\0' 'a')
    start=$EPOCHREALTIME
    hpost_signed '{"type":1,"x":"'"$big"'"}'
    json_answer "a 1 MB string" "pong"
    big=$(printf '\\u00e9%.0s' {1..150000})
    hpost_signed '{"type":1,"x":"'"$big"'"}'
    json_answer "150000 escapes" "pong"
    big=$(printf '\\ud83d\\udc0c%.0s' {1..80000})
    hpost_signed '{"type":1,"x":"'"$big"'"}'
    json_answer "80000 surrogate pairs" "pong"
    assert_eq "$(json_get '' 'float(argv[0]) - float(argv[1]) < 6' "$EPOCHREALTIME" "$start")" True "three huge strings within 6 s"
    hostile_healthy
}

case_hostile_huge_array() {
    local arr start
    arr=$(printf '0,%.0s' {1..450000})
    start=$EPOCHREALTIME
    hpost_signed '{"type":1,"x":['"${arr%,}"']}'
    json_answer "450000 numbers" "pong"
    arr=$(printf '{},%.0s' {1..300000})
    hpost_signed '{"type":1,"x":['"${arr%,}"']}'
    json_answer "300000 objects" "pong"
    assert_eq "$(json_get '' 'float(argv[0]) - float(argv[1]) < 6' "$EPOCHREALTIME" "$start")" True "within 6 s"
    hostile_healthy
}

case_hostile_many_keys() {
    local keys i
    keys=$(for ((i = 0; i < 60000; i++)); do printf '"k%d":0,' "$i"; done)
    hpost_signed '{'"$keys"'"type":1}'
    json_answer "60000 keys before type" "pong"
    # A command with 20000 options (and the real ones last).
    keys=$(printf '{"name":"x","type":3,"value":"y"},%.0s' {1..20000})
    command_json snail '[{"name":"calc","type":1,"options":['"$keys"'{"name":"tier","type":4,"value":6},{"name":"levels","type":3,"value":"3,3,2,0,0,0,0,1"}]}]'
    harmless_send "20000 options"
    hostile_healthy
}

case_hostile_odd_numbers() {
    local v
    for v in 1e300 1.5 2147483648 -2147483649 4294967297 9007199254740993 NaN Infinity -Infinity 0x1 +1 .5 1e '1 1' \
        '"1"' true null '[1]' '{"a":1}'; do
        hpost_signed '{"type":'"$v"'}'
        json_answer "type $v" "400"
    done
    # Spellings of 1 that JSON (or a lenient parser) reads as 1 are a PING; refusing them is fine too.
    for v in 1.0 1e0 10e-1 0.1e1 1E+0 01 1.; do
        hpost_signed '{"type":'"$v"'}'
        json_answer "type $v" "pong 400"
    done
    hostile_healthy
}

case_hostile_duplicate_keys() {
    hpost_signed '{"type":1,"type":2}'
    json_answer "type 1 then 2" "pong 400"
    command_json snail "$HOSTILE_CALC"
    CMD=${CMD/\"type\":2,/\"type\":1,\"type\":2,}
    hpost_signed "$CMD"
    json_answer "type 1 then 2 in a command" "pong 400"
    command_json snail "$HOSTILE_CALC"
    CMD=${CMD/\"type\":2,/\"type\":2,\"type\":1,}
    harmless_send "type 2 then 1"
    # Two data objects: the calculator first, then /forget.
    command_json snail "$HOSTILE_CALC"
    CMD="${CMD%\}},\"data\":{\"id\":\"9\",\"name\":\"forget\",\"type\":1,\"options\":[{\"name\":\"id\",\"type\":3,\"value\":\"ALL\"}]}}"
    harmless_send "two data objects"
    harmless_wait
    hostile_healthy
}

case_hostile_top_level_non_objects() {
    local body
    for body in '[]' '[{"type":1}]' '"type"' 'null' '1' 'true' '{}' '' ' ' '{"type":1' '}' '{"type":1,}' "{'type':1}"; do
        hpost_signed "$body"
        json_answer "body [$body]" "400"
    done
    hostile_healthy
}

case_hostile_trailing_garbage() {
    local body
    for body in '{"type":1}x' '{"type":1}{"type":1}' '{"type":1} // comment' '{"type":1}]' '{"type":1}'$'\xff'; do
        hpost_signed "$body"
        json_answer "body [$body]" "400"
    done
    hpost_signed $'\xef\xbb\xbf{"type":1}'
    json_answer "a byte order mark first" "400 pong"
    hpost_signed $' \t\r\n{"type":1}\n\n '
    json_answer "whitespace around" "pong"
    hostile_healthy
}

# ---- interaction shapes ----

case_hostile_unknown_types_are_400() {
    # Finding: a negative or unknown interaction type is a 400.
    local v
    for v in -1 0 6 7 99 2147483647 -2147483648 -0 1e-400 -2; do
        hpost_signed '{"type":'"$v"',"id":"1","application_id":"'"$APP_ID"'","token":"t","version":1}'
        assert_eq "$HTTP_CODE" 400 "type $v"
    done
    hostile_healthy
}

case_hostile_component_and_modal_shapes() {
    # Known types Slimy does not use, with odd shapes: harmless answers.
    local extra
    for extra in '' ',"data":[]' ',"data":"x"' ',"data":{"custom_id":{"a":1}}' ',"data":{"custom_id":"x","components":[[[[]]]]}' \
        ',"message":5'; do
        command_json snail "$HOSTILE_CALC"
        cmd_del data
        CMD="${CMD%\}}$extra}"
        cmd_set type 3
        harmless_send "component$extra"
        cmd_set type 5
        harmless_send "modal$extra"
    done
    # Autocomplete for nothing, for an unknown command, with options that are not options.
    for extra in '' ',"data":{}' ',"data":{"name":"nope","options":[{"focused":true}]}' ',"data":{"name":"snail","options":"x"}'; do
        command_json snail
        cmd_del data
        CMD="${CMD%\}}$extra}"
        cmd_set type 4
        hpost_signed "$CMD"
        case $HTTP_CODE in
        400) ;;
        200) assert_eq "$(json_get "$BODY" 'd["type"]')" 8 "autocomplete$extra answered with choices" ;;
        *) fail "autocomplete$extra: $HTTP_CODE $BODY" ;;
        esac
    done
    harmless_wait
    hostile_healthy
}

case_hostile_missing_member_user_data() {
    local name opts what n=0
    for what in "snail|$HOSTILE_CALC" "consent|$HOSTILE_CONSENT_STATUS" "diag|" "export|" "leaderboard|" \
        "snail|[{\"name\":\"sheet\",\"type\":1}]" "stats|"; do
        name=${what%%|*} opts=${what#*|}
        n=$((n + 1)); USER_ID="9${CASE_BASE}$n" command_json "$name" "$opts"
        cmd_del member
        harmless_send "/$name without member or user"
        n=$((n + 1)); USER_ID="9${CASE_BASE}$n" command_json "$name" "$opts"
        cmd_del member.user
        harmless_send "/$name with a member without user"
        n=$((n + 1)); USER_ID="9${CASE_BASE}$n" command_json "$name" "$opts"
        cmd_del data
        harmless_send "/$name without data"
        n=$((n + 1)); USER_ID="9${CASE_BASE}$n" command_json "$name" "$opts"
        cmd_del data.name
        harmless_send "/$name without data.name"
    done
    harmless_wait
    hostile_healthy
}

case_hostile_wrong_shapes() {
    local edit path value
    for edit in 'member|"x"' 'member|[]' 'member.user|"x"' 'member.user.id|12345' 'user|5' 'data|[]' 'data.options|{}' \
        'data.options|["x",1,null]' 'data.options.0|"calc"' 'data.options.0.options|{"tier":6}' 'data.name|5' 'data.type|"1"' \
        'data.resolved|[]' 'id|123' 'guild_id|12' 'channel_id|{}' 'channel|"x"' 'context|"x"' \
        'member.permissions|8' 'application_id|5' 'version|"x"' 'locale|{"a":[]}'; do
        path=${edit%%|*} value=${edit#*|}
        command_json snail "$HOSTILE_CALC"
        cmd_set "$path" "$value"
        harmless_send "$path = $value"
    done
    # The same on a deferred command.
    for edit in 'member|"x"' 'data.options|{}' 'id|123' 'guild_id|12' 'channel_id|{}'; do
        path=${edit%%|*} value=${edit#*|}
        command_json consent "$HOSTILE_CONSENT_STATUS"
        cmd_set "$path" "$value"
        harmless_send "/consent status: $path = $value"
    done
    harmless_wait
    # Without a usable token there is nowhere to reply: refused, or answered with nothing sent.
    for value in 5 '""' null '{"a":1}' '[]'; do
        command_json consent "$HOSTILE_CONSENT_STATUS"
        cmd_set token "$value"
        hpost_signed "$CMD"
        case $HTTP_CODE in 200 | 400) ;; *) fail "token $value: HTTP $HTTP_CODE $BODY" ;; esac
    done
    sleep 0.5
    assert_eq "$(json_get "$(fake_requests)" '[r["path"] for r in d if "/webhooks/%s//" % argv[0] in r["path"] or r["path"].endswith("/webhooks/" + argv[0])]' "$APP_ID")" \
        "[]" "no request to a webhook without a token"
    hostile_healthy
}

case_hostile_out_of_range_snowflakes() {
    local v n=0
    for v in '"99999999999999999999999"' '"-1"' '"abc"' '""' '"1e30"' '"0"' '"18446744073709551616"' '"1 2"' '"12\u0000"' 1e30 -1; do
        n=$((n + 1))
        USER_ID="9${CASE_BASE}$n" command_json snail '[{"name":"sheet","type":1}]'
        cmd_set member.user.id "$v"
        harmless_send "/snail sheet as user $v"
        command_json consent '[{"name":"set","type":1,"options":[{"name":"allow","type":5,"value":true}]}]'
        cmd_set guild_id "$v"
        harmless_send "/consent set in guild $v"
        command_json consent "$HOSTILE_CONSENT_STATUS"
        cmd_set channel_id "$v"
        cmd_del guild_id
        cmd_del member
        cmd_set user '{"id":"'"9${CASE_BASE}$n"'","username":"x"}'
        harmless_send "/consent status in DM channel $v"
        command_json snail '[{"name":"sheet","type":1,"options":[{"name":"user","type":6,"value":'"$v"'}]}]'
        harmless_send "/snail sheet user:$v"
    done
    harmless_wait
    hostile_healthy
}

case_hostile_permission_strings() {
    # /mode set needs Manage Server: permissions that do not parse as a decimal uint64 grant nothing.
    local v
    for v in '"abc"' '"1e30"' '"-8"' '"-32"' '"99999999999999999999999"' '"18446744073709551616"' '""' '" 8"' '"8 "' \
        '"0x8"' '"+8"' '"８"' '"1.5e1"' 8 32 true '["8"]' '{"a":"8"}' null '"0"'; do
        command_json mode '[{"name":"set","type":1,"options":[{"name":"profile","type":3,"value":"chat"}]}]'
        cmd_set member.permissions "$v"
        hpost_signed "$CMD"
        assert_eq "$HTTP_CODE" 200 "permissions $v: status"
        assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "requires the Manage Server permission" "permissions $v refused"
    done
    # The controls: Manage Server (32), Administrator (8), every bit.
    for v in '"32"' '"8"' '"18446744073709551615"'; do
        command_json mode '[{"name":"view","type":1}]'
        cmd_set member.permissions "$v"
        hpost_signed "$CMD"
        [ "$(json_get "$BODY" 'd["type"]' 2>/dev/null)" = 5 ] || fail "permissions $v: not allowed (deferred): $HTTP_CODE $BODY"
        HARMLESS_PENDING+=("$INTERACTION_TOKEN|/mode view with $v")
    done
    harmless_wait
    hostile_healthy
}

# every_command VARIANT: posts every leaf command of `slimy commands` with the options of
# hostile.wrong_type_commands VARIANT, each by a user of its own; all answers must be harmless.
every_command() {
    local name opts dtype n=0
    hostile_init
    "$SLIMY" commands >"$WORK/hcommands.json" 2>/dev/null || { fail "slimy commands failed"; return; }
    while IFS=$'\t' read -r name opts dtype; do
        n=$((n + 1))
        USER_ID="9${CASE_BASE}$n" command_json "$name" "$opts"
        if [ "$dtype" = 3 ]; then
            cmd_set data.type 3
            cmd_set data.target_id 12345
            cmd_set data.resolved '{"messages":[1,2]}'
        fi
        harmless_send "$1: /$name ${opts:0:120}"
    done < <(json_get '' 'hostile.wrong_type_commands(argv[0], argv[1])' "$WORK/hcommands.json" "$1")
    [ "$n" -ge 20 ] || fail "only $n commands generated"
    harmless_wait
}

case_hostile_wrong_option_values_every_command() {
    every_command values
    hostile_healthy
}

case_hostile_wrong_option_values2_every_command() {
    every_command values2
    hostile_healthy
}

case_hostile_wrong_option_codes_every_command() {
    every_command codes
    hostile_healthy
}

case_hostile_options_not_objects_every_command() {
    every_command objects
    hostile_healthy
}

case_hostile_unknown_subcommands_and_groups() {
    local what name opts
    for what in 'snail|[{"name":"nope","type":1}]' 'snail|[{"name":"calc","type":2,"options":[{"name":"calc","type":1}]}]' \
        'snail|[{"name":"nope","type":2,"options":[{"name":"calc","type":1}]}]' 'snail|[{"name":"calc","type":7}]' \
        'snail|[]' 'snail|' 'mode|[{"name":"set","type":2,"options":[{"name":"set","type":1}]}]' \
        'diag|[{"name":"x","type":1}]' 'definitely-not-a-command|' 'rm -rf /|[{"name":"x","type":1}]' \
        'SNAIL|[{"name":"CALC","type":1}]' 'snail|[{"name":"calc\u0000x","type":1}]' "$(printf 'x%.0s' {1..5000})|"; do
        name=${what%%|*} opts=${what#*|}
        command_json "$name" "$opts"
        harmless_send "/${name:0:40} ${opts:0:80}"
    done
    command_json snail "$HOSTILE_CALC"
    cmd_set data.name null
    harmless_send "command name null"
    command_json snail "$HOSTILE_CALC"
    cmd_set data.type 2
    harmless_send "/snail as a user command"
    harmless_wait
    hostile_healthy
}

case_hostile_options_three_deep() {
    local inner='[{"name":"tier","type":4,"value":6},{"name":"levels","type":3,"value":"3,3,2,0,0,0,0,1"}]'
    command_json snail '[{"name":"calc","type":2,"options":[{"name":"calc","type":1,"options":[{"name":"calc","type":1,"options":'"$inner"'}]}]}]'
    harmless_send "group > subcommand > subcommand"
    command_json snail '[{"name":"x","type":2,"options":[{"name":"y","type":2,"options":[{"name":"z","type":2,"options":[{"name":"calc","type":1,"options":'"$inner"'}]}]}]}]'
    harmless_send "three groups deep"
    command_json mode '[{"name":"set","type":1,"options":[{"name":"profile","type":3,"value":"chat","options":[{"name":"profile","type":3,"value":"x","options":[]}]}]}]'
    harmless_send "options under an option"
    harmless_wait
    hostile_healthy
}

# calc_answer WHAT: the last answer is an immediate, ephemeral message with text.
calc_answer() {
    hostile_init
    [ "$HTTP_CODE" = 200 ] || { fail "$1: HTTP $HTTP_CODE $BODY"; return; }
    resp_utf8_ok || fail "$1: the answer is not valid UTF-8"
    assert_eq "$(json_get "$BODY" '(d["type"], d["data"].get("flags"), bool(d["data"].get("content") or d["data"].get("embeds")))')" \
        "(4, 64, True)" "$1: immediate ephemeral answer"
}

case_hostile_snail_calc_absurd_numbers() {
    local v start words
    start=$EPOCHREALTIME
    for v in 1e25 -1 0 9 5.5 '"6"' 9007199254740993 -9223372036854775808 1e308 -0 true null '[6]'; do
        command_json snail '[{"name":"calc","type":1,"options":[{"name":"tier","type":4,"value":'"$v"'},{"name":"levels","type":3,"value":"3,3,2,0,0,0,0,1"}]}]'
        hpost_signed "$CMD"
        calc_answer "tier:$v"
    done
    for v in '"timemoda","type":10,"value":1e308' '"timemoda","type":10,"value":-1e308' '"timemodb","type":10,"value":1e300' \
        '"flattime","type":10,"value":-1e300' '"btadmod","type":10,"value":1e-320' '"cellmod","type":10,"value":-0' \
        '"cellmod","type":10,"value":1e308' '"timemoda","type":10,"value":0'; do
        command_json snail '[{"name":"calc","type":1,"options":[{"name":"tier","type":4,"value":6},{"name":"levels","type":3,"value":"3,3,2,0,0,0,0,1"},{"name":'"$v"'}]}]'
        hpost_signed "$CMD"
        calc_answer "$v"
        words=$(json_get "$BODY" 'd["data"].get("content","") + json.dumps(d["data"].get("embeds",[]))' | grep -oiwE 'nan|inf|infinity' | tr '\n' ' ')
        [ -z "$words" ] || fail "$v: shows [$words]"
    done
    assert_eq "$(json_get '' 'float(argv[0]) - float(argv[1]) < 5' "$EPOCHREALTIME" "$start")" True "answered within 5 s"
    hostile_healthy
}

case_hostile_snail_calc_huge_levels() {
    local v start
    start=$EPOCHREALTIME
    for v in "$(printf '9,%.0s' {1..300000})9" "$(printf '99999999999999999999999,%.0s' {1..8})" "$(printf ',%.0s' {1..100000})" \
        '-1,-1,-1,-1,-1,-1,-1,-1' '1e9,1e9,1e9,1e9,1e9,1e9,1e9,1e9' '３,３,２,０,０,０,０,１' '3;3;2;0;0;0;0;1' \
        "$(printf '3,%.0s' {1..7})$(printf '0%.0s' {1..10000})1"; do
        command_json snail '[{"name":"calc","type":1,"options":[{"name":"tier","type":4,"value":6},{"name":"levels","type":3,"value":"'"$v"'"}]}]'
        hpost_signed "$CMD"
        calc_answer "levels [${v:0:40}...] (${#v} chars)"
    done
    assert_eq "$(json_get '' 'float(argv[0]) - float(argv[1]) < 5' "$EPOCHREALTIME" "$start")" True "answered within 5 s"
    hostile_healthy
}

# ---- attachments for /snail analyze: refused with no connection made ----

# hostile_attachment URL [CONTENT_TYPE] [SIZE]: the data.resolved field for attachment 2001 (the
# URL JSON-escaped as it is, control characters included).
hostile_attachment() {
    json_get '' '"\"resolved\":" + json.dumps({"attachments": {"2001": {"id": "2001", "filename": "s.png",
        "content_type": argv[1], "size": int(argv[2]), "url": argv[0], "proxy_url": argv[0]}}})' "$1" "${2-image/png}" "${3-82}"
}
# hostile_listener: the port of hostile.py's counting listener (127.0.0.1 and ::1); the first call
# checks that it counts (one curl to it).
HOSTILE_LP=
hostile_listener() {
    hostile_init
    if [ -z "$HOSTILE_LP" ]; then
        HOSTILE_LP=$(json_get '' 'hostile.listener()')
        local before
        before=$(json_get '' 'hostile.accepted()')
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$HOSTILE_LP/selfcheck"
        [ "$(json_get '' 'hostile.accepted()')" -gt "$before" ] || fail "the listener does not count connections"
    fi
    LP=$HOSTILE_LP
}
# analyze_refused WHAT URL [CONTENT_TYPE]: /snail analyze of URL (by a user of its own, past the
# cooldown) is refused ("❌" at once as type 4, or in the deferred reply), no connection reached
# the listener meanwhile, and the server started no transfer for it (its log).
HOSTILE_ANALYZE_SEQ=0
analyze_refused() {
    local what=$1 url=$2 before after t content
    hostile_listener
    before=$(json_get '' 'hostile.accepted()')
    HOSTILE_ANALYZE_SEQ=$((HOSTILE_ANALYZE_SEQ + 1))
    USER_ID="8${CASE_BASE}$HOSTILE_ANALYZE_SEQ" command_json snail "$HOSTILE_ANALYZE" '' "$(hostile_attachment "$url" "${3:-image/png}")"
    hpost_signed "$CMD"
    [ "$HTTP_CODE" = 200 ] || { fail "$what: HTTP $HTTP_CODE $BODY"; return 1; }
    t=$(json_get "$BODY" 'd["type"]')
    case $t in
    4) content=$(json_get "$BODY" 'd["data"]["content"]') ;;
    5) fetch_reply || { fail "$what: no reply"; return 1; }
       content=$CONTENT ;;
    *) fail "$what: answer of type $t: $BODY"; return 1 ;;
    esac
    assert_contains "$content" "❌" "$what: refused"
    after=$(json_get '' 'hostile.accepted()')
    [ "$after" = "$before" ] || fail "$what: $((after - before)) connection(s) reached the listener: $(json_get '' 'hostile.accepted_bytes()[:200]')"
    # (A redirect case allows the one transfer to the allowed host: HOSTILE_TRANSFER_OK=1.)
    if [ "${HOSTILE_TRANSFER_OK:-0}" != 1 ] &&
        grep -F "\"interaction_id\":\"$INTERACTION_ID\"" "$SLIMY_LOG" | grep -qE 'attachment (downloaded|transfer ended|host refused)'; then
        fail "$what: the server started a transfer: $(grep -F "$INTERACTION_ID" "$SLIMY_LOG" | grep -E 'attachment' | head -n 2)"
    fi
}

case_hostile_attachment_loopback() {
    hostile_listener
    analyze_refused "loopback, another port" "http://127.0.0.1:$LP/s.png"
    analyze_refused "loopback over https" "https://127.0.0.1:$LP/s.png"
    analyze_refused "localhost" "http://localhost:$LP/s.png"
    analyze_refused "localhost." "http://localhost.:$LP/s.png"
    analyze_refused "the server itself" "http://127.0.0.1:$SLIMY_PORT/health"
    analyze_refused "the fake Discord" "http://127.0.0.1:$FAKE_PORT/api/v10/webhooks/x/y"
    assert_eq "$(fake_count '?path_contains=/webhooks/x/y')" 0 "fake Discord not reached"
    hostile_healthy
}

case_hostile_attachment_loopback_spellings() {
    hostile_listener
    local host
    for host in 127.0.0.2 127.1 2130706433 0x7f000001 0x7f.0.0.1 0177.0.0.1 017700000001 0.0.0.0 0 127.000.000.001; do
        analyze_refused "host $host" "http://$host:$LP/s.png"
    done
    hostile_healthy
}

case_hostile_attachment_private_ranges() {
    hostile_listener
    local host
    for host in 10.0.0.1 10.255.255.254 172.16.0.1 172.31.255.254 192.168.0.1 192.168.255.254 100.64.0.1 198.18.0.1; do
        analyze_refused "private $host (https)" "https://$host/attachments/1/2/s.png"
        analyze_refused "private $host (http, listener port)" "http://$host:$LP/s.png"
    done
    hostile_healthy
}

case_hostile_attachment_link_local_metadata() {
    hostile_listener
    analyze_refused "metadata over http" "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    analyze_refused "metadata over https" "https://169.254.169.254/latest/meta-data/"
    analyze_refused "metadata by name" "http://metadata.google.internal/computeMetadata/v1/"
    analyze_refused "metadata as a decimal" "http://2852039166/latest/meta-data/"
    analyze_refused "metadata IPv6" "http://[fd00:ec2::254]/latest/meta-data/"
    analyze_refused "link-local, listener port" "http://169.254.0.1:$LP/s.png"
    hostile_healthy
}

case_hostile_attachment_ipv6() {
    hostile_listener
    analyze_refused "IPv6 loopback" "http://[::1]:$LP/s.png"
    analyze_refused "IPv6 loopback, long" "http://[0:0:0:0:0:0:0:1]:$LP/s.png"
    analyze_refused "IPv4-mapped loopback" "http://[::ffff:127.0.0.1]:$LP/s.png"
    analyze_refused "IPv4-mapped, the allowed port" "http://[::ffff:127.0.0.1]:$AI_PORT/files/snail.png"
    analyze_refused "IPv6 ULA" "https://[fd12:3456:789a::1]/s.png"
    analyze_refused "IPv6 link-local with zone" "http://[fe80::1%25lo]:$LP/s.png"
    analyze_refused "IPv6 unspecified" "http://[::]:$LP/s.png"
    assert_eq "$(ai_count '?path_contains=/files/snail.png')" 0 "the fake OpenAI not reached through another spelling"
    hostile_healthy
}

case_hostile_attachment_file_scheme() {
    analyze_refused "file" "file:///etc/passwd"
    analyze_refused "file with host" "file://localhost/etc/passwd"
    analyze_refused "file, image name" "file:///proc/self/environ#s.png"
    analyze_refused "FILE upper case" "FILE:///etc/hostname"
    hostile_healthy
}

case_hostile_attachment_other_schemes() {
    hostile_listener
    local scheme
    for scheme in gopher dict ftp ldap telnet tftp smtp imap rtsp ws scp sftp; do
        analyze_refused "$scheme" "$scheme://127.0.0.1:$LP/_GET%20/s.png"
    done
    analyze_refused "data URI" "data:image/png;base64,iVBORw0KGgo="
    analyze_refused "no scheme" "127.0.0.1:$LP/s.png"
    analyze_refused "scheme-relative" "//127.0.0.1:$LP/s.png"
    analyze_refused "empty" ""
    hostile_healthy
}

case_hostile_attachment_plain_http_cdn() {
    # The real CDN hosts, but not https on 443: refused before any lookup.
    analyze_refused "http to the CDN" "http://cdn.discordapp.com/attachments/1/2/s.png"
    analyze_refused "http to media" "http://media.discordapp.net/attachments/1/2/s.png"
    analyze_refused "https on another port" "https://cdn.discordapp.com:8443/attachments/1/2/s.png"
    analyze_refused "a look-alike host" "https://cdn.discordapp.com.evil.test/attachments/1/2/s.png"
    analyze_refused "a suffix host" "https://evilcdn.discordapp.com/attachments/1/2/s.png"
    hostile_healthy
}

case_hostile_attachment_userinfo() {
    hostile_listener
    analyze_refused "CDN as user name" "https://cdn.discordapp.com@127.0.0.1:$LP/s.png"
    analyze_refused "CDN as user name, http" "http://cdn.discordapp.com@127.0.0.1:$LP/s.png"
    analyze_refused "allowed host as user:password" "http://127.0.0.1:$AI_PORT@127.0.0.1:$LP/s.png"
    analyze_refused "credentials to the allowed host" "http://user:pass@127.0.0.1:$AI_PORT/files/snail.png"
    analyze_refused "empty user" "http://@127.0.0.1:$LP/s.png"
    analyze_refused "encoded at" "http://cdn.discordapp.com%40127.0.0.1:$LP/s.png"
    assert_eq "$(ai_count '?path_contains=/files/snail.png')" 0 "no download with credentials"
    hostile_healthy
}

case_hostile_attachment_parser_confusion() {
    # URLs that parsers split differently: none may reach the listener.
    hostile_listener
    analyze_refused "backslash before @" "http://127.0.0.1:$LP\\@127.0.0.1:$AI_PORT/files/snail.png"
    analyze_refused "fragment hides the host" "http://127.0.0.1:$LP#@127.0.0.1:$AI_PORT/files/snail.png"
    analyze_refused "query hides the host" "http://127.0.0.1:$LP?@127.0.0.1:$AI_PORT/files/snail.png"
    analyze_refused "two ports" "http://127.0.0.1:$AI_PORT:$LP/files/snail.png"
    analyze_refused "space in the host" "http://127.0.0.1 :$LP/s.png"
    analyze_refused "tab in the URL" "http://127.0.0.1:$LP/s"$'\t'".png"
    analyze_refused "leading space" " http://127.0.0.1:$LP/s.png"
    analyze_refused "unicode dots" "http://127。0。0。1:$LP/s.png"
    hostile_healthy
}

case_hostile_attachment_redirect() {
    # The allowed host answers with redirects: never followed (not to the listener, not to itself).
    hostile_listener
    local target
    for target in "http://127.0.0.1:$LP/stolen" "http://127.0.0.1:$AI_PORT/files/snail.png" "file:///etc/passwd" \
        "http://[::1]:$LP/stolen"; do
        ai_script '{"method":"GET","path_contains":"/files/hostile-redirect-'"$CASE_BASE"'.png","responses":[{"status":302,"headers":{"Location":'"$(jstr "$target")"'},"body":""}]}'
        HOSTILE_TRANSFER_OK=1 analyze_refused "302 to $target" "$AI_URL/files/hostile-redirect-$CASE_BASE.png"
    done
    ai_script '{"method":"GET","path_contains":"/files/hostile-redirect-'"$CASE_BASE"'.png","responses":[{"status":307,"headers":{"Location":"http://127.0.0.1:'"$LP"'/stolen"},"body":""}]}'
    HOSTILE_TRANSFER_OK=1 analyze_refused "307 to the listener" "$AI_URL/files/hostile-redirect-$CASE_BASE.png"
    assert_eq "$(ai_count '?path_contains=/files/snail.png')" 0 "redirect to the allowed host not followed"
    assert_eq "$(ai_count "?path_contains=/files/hostile-redirect-$CASE_BASE.png")" 5 "each redirect asked once"
    hostile_healthy
}

case_hostile_attachment_header_injection() {
    # CR/LF in the URL never becomes a header of the download request.
    local url
    for url in "$AI_URL/files/snail.png"$'\r\n'"X-Injected: yes" "$AI_URL/files/snail.png%0d%0aX-Injected:%20yes" \
        "$AI_URL/files/snail.png HTTP/1.1"$'\r\n'"X-Injected: yes"$'\r\n'; do
        USER_ID="8${CASE_BASE}$((HOSTILE_ANALYZE_SEQ += 1))" command_json snail "$HOSTILE_ANALYZE" '' "$(hostile_attachment "$url")"
        harmless_send "URL [${url:0:60}]"
    done
    harmless_wait
    assert_eq "$(json_get "$(ai_requests)" '[r["path"] for r in d if any(k.lower().startswith("x-injected") for k in r["headers"])]')" "[]" "no injected header"
    hostile_healthy
}

case_hostile_non_image_attachment_refused_at_once() {
    # Finding: an attachment that is not an image is refused in the interaction's own answer
    # (type 4, ephemeral), with nothing downloaded.
    local ct
    for ct in text/plain 'text/html; charset=utf-8' application/octet-stream image '' 'image/png/x' 'IMAGE/../text'; do
        USER_ID="8${CASE_BASE}$((HOSTILE_ANALYZE_SEQ += 1))" command_json snail "$HOSTILE_ANALYZE" '' "$(hostile_attachment "$AI_URL/files/notimage.txt" "$ct" 21)"
        hpost_signed "$CMD"
        assert_eq "$HTTP_CODE" 200 "[$ct] status"
        assert_eq "$(json_get "$BODY" '(d.get("type"), (d.get("data") or {}).get("flags"))')" "(4, 64)" "[$ct] refused at once, ephemeral"
    done
    sleep 0.3
    assert_eq "$(ai_count '?path_contains=/files/notimage.txt')" 0 "nothing downloaded"
    hostile_healthy
}

case_hostile_attachment_shapes() {
    local resolved
    for resolved in '"resolved":{}' '"resolved":{"attachments":[]}' '"resolved":{"attachments":{"2001":"x"}}' \
        '"resolved":{"attachments":{"2001":{"id":"2001","content_type":"image/png","size":82}}}' \
        '"resolved":{"attachments":{"2001":{"id":"2001","content_type":"image/png","size":82,"url":5}}}' \
        '"resolved":{"attachments":{"2001":{"id":"2001","content_type":"image/png","size":-1,"url":"'"$AI_URL"'/files/snail.png"}}}' \
        '"resolved":{"attachments":{"2001":{"id":"2001","content_type":"image/png","size":1e300,"url":"'"$AI_URL"'/files/snail.png"}}}' \
        '"resolved":{"attachments":{"2001":{"id":"2001","content_type":["image/png"],"size":82,"url":"'"$AI_URL"'/files/snail.png"}}}'; do
        USER_ID="8${CASE_BASE}$((HOSTILE_ANALYZE_SEQ += 1))" command_json snail "$HOSTILE_ANALYZE" '' "$resolved"
        harmless_send "attachment [$resolved]"
    done
    harmless_wait
    hostile_healthy
}

# ---- findings of the hardening issue on the outbound side ----

case_hostile_webhook_token_traversal() {
    # Finding: a token with '/', '..' or '%2F' never sends a request outside
    # /webhooks/<app>/<token>/... (the fake Discord records every path).
    local tok problem
    for tok in "../../../../applications/$APP_ID/commands/EVIL" "EVIL/../../x" ".." "../EVIL" \
        "%2F..%2F..%2Fapplications%2F$APP_ID%2Fcommands%2FEVIL" "EVIL%2F%2E%2E" "EVIL?wait=true&x=" "EVIL#frag" \
        "EVIL\\..\\x" "EVIL/messages/@original"; do
        command_json consent "$HOSTILE_CONSENT_STATUS"
        cmd_set token "$(jstr "$tok")"
        hpost_signed "$CMD"
        case $HTTP_CODE in 200 | 400) ;; *) fail "token [$tok]: HTTP $HTTP_CODE" ;; esac
    done
    # A well-formed one last, as a marker that the queue has been worked through.
    command_json consent "$HOSTILE_CONSENT_STATUS"
    hpost_signed "$CMD"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" 10
    sleep 1
    problem=$(json_get "$(fake_requests)" 'hostile.webhook_paths_problem(json.dumps(d), argv[0], "EVIL")' "$APP_ID")
    assert_eq "$problem" "" "requests stay on the interaction's webhook"
    hostile_healthy
}

case_hostile_foreign_application_id() {
    # Finding: an application_id other than DISCORD_APPLICATION_ID gets no delivery to that id.
    local app tok_list=()
    for app in 999999999999999999 "$((APP_ID + 1))" "../$APP_ID" "$APP_ID/../999"; do
        command_json consent "$HOSTILE_CONSENT_STATUS"
        cmd_set application_id "$(jstr "$app")"
        hpost_signed "$CMD"
        case $HTTP_CODE in 200 | 400) ;; *) fail "application_id [$app]: HTTP $HTTP_CODE" ;; esac
        tok_list+=("$INTERACTION_TOKEN")
    done
    command_json consent "$HOSTILE_CONSENT_STATUS"
    hpost_signed "$CMD"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" 10
    sleep 1
    assert_eq "$(json_get "$(fake_requests)" '[r["method"] + " " + r["path"] for r in d if not r["path"].startswith("/api/v10/webhooks/%s/" % argv[0])]' "$APP_ID")" \
        "[]" "deliveries only to the configured application"
    hostile_healthy
}

# hostile_stop_private: stops the case's own server (TERM, KILL after 10 s).
hostile_stop_private() {
    [ -n "$SLIMY_PID" ] || return 0
    kill -TERM "$SLIMY_PID" 2>/dev/null
    wait_until 10 process_gone "$SLIMY_PID" || { fail "private server did not stop within 10 s"; kill -KILL "$SLIMY_PID" 2>/dev/null; }
    wait "$SLIMY_PID" 2>/dev/null
    SLIMY_PID=
}

hostile_429_on_private() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG tok_a gap
    start_private_slimy hostile-429 DRAIN_TIMEOUT_S=2 || { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; hostile_stop_private; return; }
    USER_ID="7${CASE_BASE}1" command_json consent "$HOSTILE_CONSENT_STATUS"
    tok_a=$INTERACTION_TOKEN
    fake_script '{"method":"PATCH","path_contains":"'"$tok_a"'","responses":[{"status":429,"headers":{"Retry-After":"1e300","X-RateLimit-Global":"true","X-RateLimit-Scope":"global"},"body":{"message":"You are being rate limited.","retry_after":1e300,"global":true}}]}'
    hpost_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "A deferred"
    wait_requests 1 "?path_contains=$tok_a" 10
    USER_ID="7${CASE_BASE}2" command_json consent "$HOSTILE_CONSENT_STATUS"
    hpost_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "B deferred"
    # Within 60 s of the 429 (as the fake Discord recorded both), a second of slack for scheduling.
    if wait_until 63 count_at_least fake_count 1 "?path_contains=$INTERACTION_TOKEN"; then
        gap=$(json_get "$(fake_requests)" '"%.1f" % (min(r["time"] for r in d if argv[1] in r["path"]) - min(r["time"] for r in d if argv[0] in r["path"]))' \
            "$tok_a" "$INTERACTION_TOKEN")
        assert_eq "$(json_get '' 'float(argv[0]) <= 61' "$gap")" True "B delivered $gap s after the 429"
    else
        fail "B's reply was not delivered within 60 s of a 429 with retry_after 1e300"
    fi
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$SLIMY_URL/health")
    assert_eq "$code" 200 "private server healthy"
    hostile_stop_private
}

case_hostile_discord_429_retry_after_1e300() {
    # Finding: a Discord 429 asking for 1e300 seconds (globally) does not stop later replies: they
    # are delivered within 60 s. On a server of its own, so that a failure stalls no other case.
    hostile_429_on_private
    hostile_healthy
}

case_hostile_openai_error_cut_in_a_character() {
    # Finding: an OpenAI error text cut inside a multi-byte character still reaches Discord as
    # valid UTF-8 (the fake Discord parses only valid UTF-8 JSON).
    local msg
    msg=$(json_get '' 'json.dumps({"method":"POST","path_contains":"chat/completions","responses":[{"status":400,
        "body":{"error":{"message":"x" + "é" * 200 + "🐌" * 100,"type":"invalid_request_error","param":None,"code":None}}}]})')
    ai_script "$msg"
    USER_ID="7${CASE_BASE}1" run_deferred chat '[{"name":"message","type":3,"value":"hello"}]'
    assert_eq "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'all(isinstance(r["json"], dict) for r in d)')" True \
        "the reply is valid UTF-8 JSON"
    assert_contains "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'd[0]["body"]')" "xé" "the error text is shown"
    hostile_healthy
}

hostile_openai_bytes_on_private() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG port hex
    hostile_init
    hex=$(json_get '' '(lambda b: (b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(b) + b).hex())(
        b"{\"error\":{\"message\":\"bad \xff\xfe input \xc3\x28 \xed\xa0\x80 \xf0\x9f\x90 end\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}")')
    port=$(json_get '' 'hostile.responder(argv[0])' "$hex")
    start_private_slimy hostile-oai OPENAI_BASE_URL="http://127.0.0.1:$port/v1" ||
        { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; hostile_stop_private; return; }
    USER_ID="7${CASE_BASE}2" run_deferred chat '[{"name":"message","type":3,"value":"hello"}]'
    [ "$(json_get '' 'hostile.responder_count(int(argv[0]))' "$port")" -ge 1 ] || fail "the raw OpenAI was not asked"
    assert_eq "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'all(isinstance(r["json"], dict) for r in d)')" True \
        "the reply is valid UTF-8 JSON"
    hostile_stop_private
}

case_hostile_openai_error_invalid_utf8_bytes() {
    # Finding: an OpenAI error whose text holds invalid UTF-8 bytes: the user still gets a reply
    # Discord accepts. The upstream is hostile.py's raw responder, on a server of the case's own.
    hostile_openai_bytes_on_private
    hostile_healthy
}

case_hostile_forget_multibyte_id_cut() {
    # Finding: /forget echoes the id cut to 64 bytes; cut inside a 4-byte character (3, 2 and 1
    # bytes into it) the reply must still be valid UTF-8.
    local n id tok toks=()
    for n in 61 62 63; do
        id="$(printf 'x%.0s' $(seq 1 "$n"))🐌"
        command_json forget '[{"name":"id","type":3,"value":"'"$id"'"}]'
        hpost_signed "$CMD"
        assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "/forget deferred"
        toks+=("$INTERACTION_TOKEN")
    done
    for tok in "${toks[@]}"; do
        wait_requests 1 "?path_contains=$tok" 10 || continue
        assert_eq "$(json_get "$(fake_requests "?path_contains=$tok")" 'all(isinstance(r["json"], dict) for r in d)')" True \
            "reply for a cut id is valid UTF-8 JSON"
    done
    hostile_healthy
}
