# cases_nginx.sh — nginx (nginx/render.sh's configuration) in front of two SQLite replicas, NGA
# and NGB: TLS, the three public routes and nothing else, /metrics only from the monitoring
# network, the 1 MiB cap, the rate limit that never touches signed requests, and a replica going
# away without Discord noticing. run.sh renders the configuration (SLIMY_METRICS_ALLOW=127.0.0.2/32),
# starts nginx on 127.0.0.1:NGINX_PORT and runs these cases after nginx_replicas_ready. Whether a
# request reached a replica is read from nginx's access log (its "upstream" field), found by the
# request's unique User-Agent.

NGINX_PING='{"type":1,"id":"1","application_id":"'"$APP_ID"'","token":"t","version":1}'

case_nginx_config_test_passes() {
    local out rc=0
    out=$(nginx_cmd -t 2>&1) || rc=$?
    assert_eq "$rc" 0 "nginx -t on the rendered file ($out)"
    assert_contains "$out" "test is successful" "nginx -t"
    # The site part alone, included inside an http {} that already sets TLS defaults the way
    # Debian's nginx.conf does: no duplicate directive, no missing context.
    mkdir -p "$WORK/nginx-site"
    nginx_render "$WORK/nginx-site/slimy.conf" SLIMY_RENDER_MODE=site || fail "render in site mode"
    assert_not_contains "$(cat "$WORK/nginx-site/slimy.conf")" "events {" "site mode output"
    cat >"$WORK/nginx-site/nginx.conf" <<CONF
pid "$WORK/nginx-site/nginx.pid";
events {}
http {
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log off;
    client_body_temp_path "$NGINX_DIR/tmp/client_body";
    proxy_temp_path "$NGINX_DIR/tmp/proxy";
    include "$WORK/nginx-site/slimy.conf";
}
CONF
    rc=0
    out=$(nginx -t -p "$WORK/nginx-site" -c "$WORK/nginx-site/nginx.conf" -e "$WORK/nginx-site/error.log" 2>&1) || rc=$?
    assert_eq "$rc" 0 "nginx -t with the site part included in another http {} ($out)"
}

case_render_refuses_missing_or_bad_variables() {
    local var kept=() entry rc out lines
    for var in SLIMY_SERVER_NAME SLIMY_TLS_CERT SLIMY_TLS_KEY SLIMY_UPSTREAMS; do
        kept=()
        for entry in "${NGINX_RENDER_ENV[@]}"; do
            [[ $entry == "$var="* ]] || kept+=("$entry")
        done
        rm -f "$WORK/render-missing.conf"
        rc=0
        out=$(env -i PATH="$PATH" "${kept[@]}" "$ROOT/nginx/render.sh" "$WORK/render-missing.conf" 2>&1) || rc=$?
        assert_eq "$rc" 1 "render.sh without $var: exit status"
        lines=$(printf '%s\n' "$out" | wc -l)
        assert_eq "$lines" 1 "render.sh without $var: lines of output ($out)"
        assert_contains "$out" "$var" "render.sh without $var names it"
        [ ! -e "$WORK/render-missing.conf" ] || fail "render.sh without $var wrote a file"
    done
    # Malformed values are refused the same way (no half-valid configuration).
    rc=0
    out=$(nginx_render "$WORK/render-missing.conf" SLIMY_UPSTREAMS="127.0.0.1:1 nope" 2>&1) || rc=$?
    assert_eq "$rc" 1 "render.sh with a bad upstream: exit status"
    assert_contains "$out" "SLIMY_UPSTREAMS" "bad upstream named"
    rc=0
    out=$(nginx_render "$WORK/render-missing.conf" SLIMY_METRICS_ALLOW="10.0.0.0/8; allow all" 2>&1) || rc=$?
    assert_eq "$rc" 1 "render.sh with an injected metrics allow: exit status"
    assert_contains "$out" "SLIMY_METRICS_ALLOW" "bad metrics allow named"
    [ ! -e "$WORK/render-missing.conf" ] || fail "render.sh wrote a file for bad values"
}

case_signed_ping_over_https() {
    nginx_post_signed "$NGINX_PING"
    assert_eq "$HTTP_CODE" 200 "signed PING through nginx"
    assert_eq "$BODY" '{"type":1}' "PING answer"
    assert_contains "$HEADERS" "Strict-Transport-Security: max-age=" "HSTS"
    assert_not_contains "$HEADERS" "Server: nginx/" "nginx version hidden"
    nginx_reached_slimy "signed PING"
    # Both TLS versions Discord may use work ...
    nginx_post_signed "$NGINX_PING" --tls-max 1.2
    assert_eq "$HTTP_CODE $BODY" '200 {"type":1}' "PING over TLS 1.2"
    nginx_log && assert_eq "$(json_get "$NGINX_LOG" 'd["tls"]')" TLSv1.2 "protocol logged"
    nginx_post_signed "$NGINX_PING" --tlsv1.3
    assert_eq "$HTTP_CODE $BODY" '200 {"type":1}' "PING over TLS 1.3"
    # ... and a bad signature is Slimy's 401 (Discord's endpoint check): the signature headers and
    # the body arrive untouched, so a change to either would show here or above.
    local ts sig
    ts=$(date +%s)
    printf '%s' "$NGINX_PING" >"$WORK/nginx-signed"
    sig=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "$ts" --body-file "$WORK/nginx-signed" | head -n 1)
    printf '%s ' "$NGINX_PING" >"$WORK/nginx-signed" # one byte more than was signed
    nginx_request POST /interactions -H 'Content-Type: application/json' -H "X-Signature-Ed25519: $sig" \
        -H "X-Signature-Timestamp: $ts" --data-binary @"$WORK/nginx-signed"
    assert_eq "$HTTP_CODE" 401 "bad signature through nginx"
    nginx_reached_slimy "bad signature"
    # Unsigned (no headers at all): refused by Slimy, not by nginx.
    printf '%s' "$NGINX_PING" >"$WORK/nginx-unsigned"
    nginx_request POST /interactions -H 'Content-Type: application/json' --data-binary @"$WORK/nginx-unsigned"
    assert_eq "$HTTP_CODE" 401 "unsigned PING"
}

case_metrics_only_from_allowed_network() {
    local path
    for path in /metrics /metrics.json; do
        nginx_request GET "$path"
        assert_eq "$HTTP_CODE" 403 "$path from 127.0.0.1 (not allowed)"
        nginx_stayed_at_nginx "$path from 127.0.0.1"
        nginx_request GET "$path" --interface 127.0.0.2
        [ "$HTTP_CODE" != 403 ] && [ "$HTTP_CODE" -lt 500 ] 2>/dev/null ||
            fail "$path from 127.0.0.2 (allowed): expected neither 403 nor 5xx, got [$HTTP_CODE] $BODY"
        nginx_reached_slimy "$path from 127.0.0.2"
    done
}

case_other_routes_refused_at_nginx() {
    nginx_request GET /interactions
    assert_eq "$HTTP_CODE" 405 "GET /interactions"
    assert_contains "$HEADERS" "Allow: POST" "Allow header"
    assert_contains "$HEADERS" "Strict-Transport-Security: " "HSTS on the 405"
    nginx_stayed_at_nginx "GET /interactions"
    nginx_request PUT /interactions --data-binary x
    assert_eq "$HTTP_CODE" 405 "PUT /interactions"
    nginx_stayed_at_nginx "PUT /interactions"
    nginx_request GET /anything
    assert_eq "$HTTP_CODE" 404 "GET /anything"
    assert_eq "$BODY" '{"error":"not found"}' "404 body"
    nginx_stayed_at_nginx "GET /anything"
    nginx_request POST /interactions/x --data-binary x
    assert_eq "$HTTP_CODE" 404 "POST /interactions/x"
    nginx_stayed_at_nginx "POST /interactions/x"
    nginx_request POST /health --data-binary x
    assert_eq "$HTTP_CODE" 405 "POST /health"
    nginx_stayed_at_nginx "POST /health"
    # The two public GETs do reach a replica.
    nginx_request GET /health
    assert_eq "$HTTP_CODE" 200 "GET /health"
    assert_contains "$BODY" '"status":"ok"' "health body"
    nginx_reached_slimy "GET /health"
    nginx_request GET /ready
    assert_eq "$HTTP_CODE" 200 "GET /ready"
    nginx_reached_slimy "GET /ready"
}

case_body_over_1mib_refused_at_nginx() {
    # One byte over Slimy's cap, announced in Content-Length: 413 from nginx.
    head -c 1048577 /dev/zero | tr '\0' x >"$WORK/nginx-big"
    nginx_request POST /interactions -H 'Content-Type: application/json' -H 'X-Signature-Ed25519: 00' \
        -H 'X-Signature-Timestamp: 1' --data-binary @"$WORK/nginx-big"
    assert_eq "$HTTP_CODE" 413 "1 MiB + 1 byte"
    nginx_stayed_at_nginx "1 MiB + 1 byte"
    # The same without a length (chunked): nginx counts as it reads.
    nginx_request POST /interactions -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
        --data-binary @"$WORK/nginx-big"
    assert_eq "$HTTP_CODE" 413 "1 MiB + 1 byte, chunked"
    nginx_stayed_at_nginx "1 MiB + 1 byte, chunked"
    # Exactly 1 MiB, signed, is Slimy's to judge (not JSON: 400), so the caps agree to the byte.
    nginx_post_signed "$(head -c 1048576 /dev/zero | tr '\0' x)"
    assert_eq "$HTTP_CODE" 400 "exactly 1 MiB, signed"
    nginx_reached_slimy "exactly 1 MiB"
}

# Unsigned requests are rate-limited per address; signed ones never are (Discord's few addresses
# must not be throttled). 60 of each on one connection, as fast as curl sends them.
case_rate_limit_spares_signed_requests() {
    local urls=() i codes n429 ts sig
    for i in $(seq 60); do urls+=(-o /dev/null "$NGINX_URL/health"); done
    codes=$(nginx_curl -w '%{http_code}\n' -A "slimy-it-nginx-burst-$$" "${urls[@]}")
    n429=$(grep -c '^429$' <<<"$codes" || true)
    [ "$n429" -ge 1 ] || fail "60 unsigned GET /health at once: no 429 (codes: $(sort <<<"$codes" | uniq -c | tr '\n' ' '))"
    [ "$(grep -cvE '^(200|429)$' <<<"$codes")" = 0 ] || fail "unsigned burst: answers other than 200/429: $(sort <<<"$codes" | uniq -c | tr '\n' ' ')"
    urls=()
    for i in $(seq 60); do urls+=(-o /dev/null "$NGINX_URL/interactions"); done
    printf '%s' "$NGINX_PING" >"$WORK/nginx-burst"
    ts=$(date +%s)
    sig=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "$ts" --body-file "$WORK/nginx-burst" | head -n 1)
    codes=$(nginx_curl -w '%{http_code}\n' -A "slimy-it-nginx-signed-burst-$$" -H 'Content-Type: application/json' \
        -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp: $ts" --data-binary @"$WORK/nginx-burst" "${urls[@]}")
    assert_eq "$(sort <<<"$codes" | uniq -c | tr -s ' ' | tr '\n' ' ')" " 60 200 " "60 signed PINGs at once"
}

# Both replicas take traffic; then NGB stops (SIGTERM, waited for): ten signed PINGs in a row are
# all answered by NGA, and the one that went to NGB first was retried there by nginx (it was never
# sent: connection refused), which the access log shows as two upstreams.
case_one_replica_down_other_answers() {
    local a b seen=() i ok=0 retried=0 line
    a="127.0.0.1:$REPLICA_PORT_NGA" b="127.0.0.1:$REPLICA_PORT_NGB"
    both_seen() {
        nginx_post_signed "$NGINX_PING" && nginx_log && seen+=("$NGINX_UPSTREAM")
        [[ " ${seen[*]} " == *" $a "* && " ${seen[*]} " == *" $b "* ]]
    }
    wait_until 8 both_seen || fail "round robin: both replicas not seen within 8 s (saw: ${seen[*]})"
    kill_replica NGB TERM || fail "NGB exit status"
    for i in $(seq 10); do
        nginx_post_signed "$NGINX_PING"
        if [ "$HTTP_CODE $BODY" = '200 {"type":1}' ]; then
            ok=$((ok + 1))
        else
            fail "PING $i with NGB down: $HTTP_CODE $BODY"
        fi
        nginx_log || { fail "PING $i: no access-log line"; continue; }
        line=$NGINX_UPSTREAM
        [[ $line == *"$a" ]] || fail "PING $i answered by [$line], not NGA ($a)"
        [[ $line == "$b, $a" ]] && retried=$((retried + 1))
    done
    assert_eq "$ok" 10 "PINGs answered with NGB down"
    [ "$retried" -ge 1 ] || fail "no PING was retried from NGB to NGA (nginx never tried NGB?)"
}
