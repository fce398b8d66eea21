# cases_faults.sh — faults in what Slimy depends on (Discord 429 storms, 5xx and 404s, a hanging or
# garbled OpenAI, an unwritable log directory, a full disk, Redis gone mid-job): the server stays
# up, users get an answer or a clear error, nothing acknowledged is lost. Sourced by run.sh.
# Every case ends with /health (assert_health): the server that took the fault still answers.
# MariaDB and Redis going away and coming back under a running server are in
# cases_mariadb_outage.sh and cases_replicas.sh; here, Redis also stops under a job in flight.

RATE_LIMITED='{"message":"You are being rate limited.","retry_after":%s,"global":%s}'
# rate_limited RETRY_AFTER_S GLOBAL(true|false) [N]: N (1) scripted 429 answers as Discord words them
# (body and headers), comma-separated, for a fake_script "responses" array.
rate_limited() {
    local i out= one
    one=$(printf '{"status":429,"headers":{"Retry-After":"1","X-RateLimit-Scope":"%s","X-RateLimit-Bucket":"fault-bucket"%s},"body":%s}' \
        "$([ "$2" = true ] && echo global || echo user)" "$([ "$2" = true ] && echo ',"X-RateLimit-Global":"true"')" \
        "$(printf "$RATE_LIMITED" "$1" "$2")")
    for ((i = 0; i < ${3:-1}; i++)); do out+="${out:+,}$one"; done
    printf '%s' "$out"
}
# diag_json: command_json diag for a user of its own (/diag has a per-user cooldown).
DIAG_N=0
diag_json() {
    DIAG_N=$((DIAG_N + 1))
    USER_ID=$((CASE_BASE + 50 + DIAG_N % 40)) command_json diag
}
# post_diag: a deferred /diag (no AI, no store write of its own) for the Discord-side faults;
# sets INTERACTION_ID and INTERACTION_TOKEN; checks it was acknowledged (type 5).
post_diag() {
    diag_json
    post_signed "$CMD" "$@"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "/diag acknowledged"
}
# dropped_logged ID: the server logged "reply dropped" for interaction ID (for wait_until).
dropped_logged() { log_has "$SLIMY_LOG" "\"msg\":\"reply dropped\",\"interaction_id\":\"$1\""; }
# last_answer_ok TOKEN: the last request recorded for TOKEN was answered 200 (for wait_until).
last_answer_ok() { json_true "$(fake_requests "?path_contains=$1")" 'len(d) > 0 and d[-1].get("status") == 200'; }
# consent_on: the case's user gives memory consent in the case's server (a deferred command).
consent_on() {
    run_deferred consent '[{"name":"set","type":1,"options":[{"name":"allow","type":5,"value":true}]}]'
    assert_eq "$CONTENT" "✅ Memory ON for this server." "consent"
}
remember_options() { printf '[{"name":"note","type":3,"value":"%s"}]' "$1"; }
# exported_notes: /export for the case's user; sets NOTES to the notes found, one per line (sorted).
# Not in a $(...): command_json must count its ids in this shell.
exported_notes() {
    run_deferred export
    NOTES=$(json_get "$REPLY" '"\n".join(sorted(m["note"] for m in d["parts"][1]["json"]["memories"])) if d.get("parts") else ""')
}

# ---- Discord ----

# A storm of per-route 429s on one reply: every retry waits what retry_after asked, the reply
# arrives in the end; a storm past the retry budget (10) ends in a logged "reply dropped", and
# the server keeps answering.
case_fault_discord_429_storm_per_route() {
    local tok
    diag_json # scripted before it is posted: /diag answers within milliseconds
    tok=$INTERACTION_TOKEN
    fake_script '{"method":"PATCH","path_contains":"'"$tok"'","responses":['"$(rate_limited 0.2 false 6)"']}'
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "acknowledged"
    wait_requests 7 "?path_contains=$tok" 15 || return
    wait_until 3 last_answer_ok "$tok"
    local req
    req=$(fake_requests "?path_contains=$tok")
    assert_eq "$(json_get "$req" '[r["status"] for r in d]')" "[429, 429, 429, 429, 429, 429, 200]" "six 429s, then delivered"
    assert_eq "$(json_get "$req" 'all(b["time"] - a["time"] >= 0.19 for a, b in zip(d, d[1:]))')" True "each retry waited retry_after"
    # Past the budget: 12 429s in a row.
    diag_json
    fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":['"$(rate_limited 0.05 false 12)"']}'
    post_signed "$CMD"
    wait_until 10 dropped_logged "$INTERACTION_ID" || fail "no 'reply dropped' logged for the storm past the budget"
    assert_eq "$(fake_count "?path_contains=$INTERACTION_TOKEN")" 11 "one try and ten retries"
    assert_contains "$(grep -F "\"msg\":\"reply dropped\",\"interaction_id\":\"$INTERACTION_ID\"" "$SLIMY_LOG")" '"http_status":429' "drop says why"
    post_signed '{"type":1}'
    assert_eq "$BODY" '{"type":1}' "PING after the storm"
    assert_health "after a 429 storm"
}

# A global 429 pauses every delivery, not just the one that got it: a reply queued during the
# pause reaches Discord only when it is over; both arrive.
case_fault_discord_global_429_pauses_every_reply() {
    diag_json
    local tok_a=$INTERACTION_TOKEN
    fake_script '{"method":"PATCH","path_contains":"'"$tok_a"'","responses":['"$(rate_limited 1.5 true 1)"']}'
    post_signed "$CMD"
    wait_requests 1 "?path_contains=$tok_a" || return
    post_diag
    local tok_b=$INTERACTION_TOKEN
    wait_requests 2 "?path_contains=$tok_a" 10 || return
    wait_requests 1 "?path_contains=$tok_b" 10 || return
    local first_429 a_retry b_first
    first_429=$(json_get "$(fake_requests "?path_contains=$tok_a")" 'd[0]["time"]')
    a_retry=$(json_get "$(fake_requests "?path_contains=$tok_a")" 'd[1]["time"]')
    b_first=$(json_get "$(fake_requests "?path_contains=$tok_b")" 'd[0]["time"]')
    assert_eq "$(json_get '' 'float(argv[1]) - float(argv[0]) >= 1.45' "$first_429" "$a_retry")" True "A retried after the pause"
    assert_eq "$(json_get '' 'float(argv[1]) - float(argv[0]) >= 1.45' "$first_429" "$b_first")" True \
        "B (another reply) held back by the global pause ($first_429 → $b_first)"
    assert_eq "$(json_get "$(fake_requests "?path_contains=$tok_b")" '[r["status"] for r in d]')" "[200]" "B delivered once"
    assert_eq "$(json_get "$(fake_requests "?path_contains=$tok_a")" '[r["status"] for r in d]')" "[429, 200]" "A delivered"
    local counted
    counted=$(curl -s "$SLIMY_URL/metrics" | awk '/^slimy_discord_rate_limited_total\{scope="global"\}/ {print $2}')
    assert_eq "$(( ${counted:-0} >= 1 ))" 1 "global 429 counted in /metrics (${counted:-none})"
    assert_health "after a global 429"
}

# A run of 5xx on the reply to /remember: the note is saved once, the reply arrives after the
# run; when Discord stays down past the token's life the reply is dropped (logged) but the note,
# acknowledged, is there for the next /export.
case_fault_discord_5xx_run_keeps_memories() {
    local USER_ID=$((CASE_BASE + 11))
    consent_on
    command_json remember "$(remember_options "kept through 5xx")"
    fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":[{"status":502,"body":"<html>bad gateway</html>"},{"status":503},{"status":500,"body":{"message":"500: Internal Server Error","code":0}}]}'
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "remember acknowledged"
    wait_requests 4 "?path_contains=$INTERACTION_TOKEN" 15 || return
    wait_until 3 last_answer_ok "$INTERACTION_TOKEN"
    local req
    req=$(fake_requests "?path_contains=$INTERACTION_TOKEN")
    assert_eq "$(json_get "$req" '[r["status"] for r in d]')" "[502, 503, 500, 200]" "backed off, then delivered"
    assert_eq "$(json_get "$req" 'd[-1]["json"]["embeds"][0]["title"]')" "📝 Memory Saved" "the saved embed"
    # Discord down for good: the token (signed 890 s ago) has ~10 s left, so the reply is dropped.
    sleep 3.1 # /remember's cooldown
    command_json remember "$(remember_options "kept although the reply was dropped")"
    fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":['"$(printf '{"status":503},%.0s' {1..11})"'{"status":503}]}'
    post_signed "$CMD" $(($(date +%s) - 890))
    assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "remember acknowledged"
    wait_until 15 dropped_logged "$INTERACTION_ID" || fail "no 'reply dropped' logged when Discord stayed down"
    assert_contains "$(grep -F "\"msg\":\"reply dropped\",\"interaction_id\":\"$INTERACTION_ID\"" "$SLIMY_LOG")" '"http_status":503'
    exported_notes
    assert_eq "$NOTES" "$(printf 'kept although the reply was dropped\nkept through 5xx')" "both notes stored, once each"
    assert_health "after a 5xx run"
}

# The 404 race on @original right after the defer is retried (up to three times, a second apart);
# a fourth 404 drops the reply (logged). A follow-up's 404 is final: the rest of a long reply is
# not sent (through deliver-probe: no command writes more than one message).
case_fault_discord_404s() {
    local unknown='{"status":404,"body":{"message":"Unknown Webhook","code":10015}}'
    diag_json
    fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":['"$unknown,$unknown"']}'
    post_signed "$CMD"
    wait_requests 3 "?path_contains=$INTERACTION_TOKEN" 10 || return
    wait_until 3 last_answer_ok "$INTERACTION_TOKEN"
    assert_eq "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" '[r["status"] for r in d]')" "[404, 404, 200]" "race retried"
    diag_json
    fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":['"$unknown,$unknown,$unknown,$unknown,$unknown"']}'
    post_signed "$CMD"
    wait_until 10 dropped_logged "$INTERACTION_ID" || fail "no 'reply dropped' after four 404s"
    assert_eq "$(fake_count "?path_contains=$INTERACTION_TOKEN")" 4 "one try, three retries"
    # A follow-up 404 through the REST client itself.
    local token="probe-$CASE_BASE-SECRET"
    json_get '' 'open(argv[0], "w").write("".join("line %04d of a long reply\n" % i for i in range(300)))' "$WORK/long404.txt" >/dev/null
    fake_script '{"method":"POST","path_contains":"'"$token"'","responses":['"$unknown"']}'
    if "$PROBE" "$FAKE_URL/api/v10" "$APP_ID" "$token" "$WORK/long404.txt" >"$WORK/probe404.out" 2>&1; then
        fail "probe should report the follow-up's 404"
    fi
    assert_contains "$(cat "$WORK/probe404.out")" "http=404 attempts=2" "the follow-up's 404 is final"
    assert_eq "$(json_get "$(fake_requests "?path_contains=$token")" '[(r["method"], r["status"]) for r in d]')" \
        "[('PATCH', 200), ('POST', 404)]" "nothing sent after the 404"
    assert_health "after 404s"
}

# ---- OpenAI ----

# OpenAI never answers: /dream gets a timeout message before the token's deadline, not silence; a
# dropped connection (no answer at all) is retried and then worded too.
case_fault_openai_hangs() {
    local USER_ID=$((CASE_BASE + 12)) started
    ai_script '{"path_contains":"images/generations","responses":[{"hang":true}]}'
    command_json dream '[{"name":"prompt","type":3,"value":"a snail that waits"}]'
    started=$(date +%s)
    post_signed "$CMD" $((started - 866)) # 34 s left: the call must give up 30 s before that
    assert_eq "$BODY" '{"type":5}' "deferred"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" 15 || return
    assert_contains "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'd[0]["json"]["content"]')" "too long" "timeout worded"
    assert_eq "$(( $(date +%s) - started <= 10 ))" 1 "within the deadline"
    ai_script '{"path_contains":"chat/completions","responses":[{"close":true},{"close":true},{"close":true},{"close":true},{"close":true}]}'
    USER_ID=$((CASE_BASE + 13)) run_deferred chat '[{"name":"message","type":3,"value":"anyone?"}]'
    assert_contains "$CONTENT" "couldn't get an answer" "dropped connections worded"
    assert_health "after OpenAI hung"
}

# OpenAI answers garbage: not JSON, JSON of the wrong shape, no image data, a huge answer. Each
# user gets words, the server stays up, and the next good answer is used.
case_fault_openai_garbage() {
    local n=20 body expect
    # BODY<TAB>WHAT THE USER IS TOLD (a substring of the reply)
    while IFS=$'\t' read -r body expect; do
        n=$((n + 1))
        ai_script '{"path_contains":"chat/completions","responses":[{"status":200,"raw":'"$(json_get '' 'json.dumps(argv[0])' "$body")"'}]}'
        USER_ID=$((CASE_BASE + n)) run_deferred chat '[{"name":"message","type":3,"value":"shape test"}]'
        assert_contains "$CONTENT" "$expect" "chat answer [$body]"
    done <<'EOF'
<html><body>502 Bad Gateway</body></html>	malformed JSON
	malformed JSON
null	had no message
[]	had no message
{"choices":"nope"}	had no message
{"choices":[]}	had no message
{"choices":[{"message":"text"}]}	had no message
{"choices":[{"message":{"role":"assistant","content":42}}]}	No response.
{"choices":[{"message":{"role":"assistant","content":null}}]}	No response.
{"choices":[{"message":{"role":"assistant","content":"ok"}}]	malformed JSON
EOF
    while IFS=$'\t' read -r body expect; do
        n=$((n + 1))
        ai_script '{"path_contains":"images/generations","responses":[{"status":200,"raw":'"$(json_get '' 'json.dumps(argv[0])' "$body")"'}]}'
        USER_ID=$((CASE_BASE + n)) run_deferred dream '[{"name":"prompt","type":3,"value":"shape test"}]'
        assert_contains "$CONTENT" "$expect" "dream answer [$body]"
        assert_eq "$(json_get "$REPLY" 'd.get("parts")')" None "no file"
    done <<'EOF'
{"data":[]}	no image data
{"data":[{"b64_json":"!!! not base64 !!!"}]}	no image data
{"data":[{"url":"http://127.0.0.1:9/x.png"}]}	no image data
{"data":"x"}	no image data
not json at all	malformed JSON
EOF
    # A huge but well-formed answer: the reply is cut to Discord's 2000 characters.
    n=$((n + 1))
    json_get '' 'open(argv[0], "w").write(json.dumps({"path_contains": "chat/completions", "responses": [{"content": "snail " * 500000}]}))' \
        "$WORK/huge-content.json" >/dev/null
    curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/huge-content.json" "$AI_URL/_control/script" >/dev/null
    USER_ID=$((CASE_BASE + n)) run_deferred chat '[{"name":"message","type":3,"value":"say a lot"}]'
    assert_eq "$(json_get "$REPLY" 'len(d["json"]["content"]) <= 2000 and d["json"]["content"].endswith("…")')" True "huge answer cut to one message"
    # A body past the client's 32 MiB cap: that attempt is cut and counts as failed, the retry is used.
    n=$((n + 1))
    json_get '' 'open(argv[0], "w").write(json.dumps({"path_contains": "chat/completions", "responses": [{"status": 200, "raw": "{\"pad\":\"" + "x" * (33 << 20) + "\"}"}]}))' \
        "$WORK/huge-raw.json" >/dev/null
    curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/huge-raw.json" "$AI_URL/_control/script" >/dev/null
    rm -f "$WORK/huge-raw.json" "$WORK/huge-content.json"
    USER_ID=$((CASE_BASE + n)) run_deferred chat '[{"name":"message","type":3,"value":"too much"}]'
    assert_contains "$CONTENT" "to: too much" "the retry's answer"
    assert_contains "$(grep -F "\"interaction_id\":\"$INTERACTION_ID\"" "$SLIMY_LOG")" '"msg":"ai request done","interaction_id":"'"$INTERACTION_ID"'","attempts":2' \
        "the oversized answer was not used"
    assert_health "after OpenAI garbage"
}

# ---- the machine ----

# The log directory goes away, becomes unreadable, and its file turns into a full disk (a symlink to
# /dev/full, reopened on SIGHUP): the server keeps serving, stdout keeps logging, and SIGHUP says
# what it could not do instead of stopping. Its own server: the shared one's LOG_DIR stays intact.
case_fault_log_dir_unwritable() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG dir lines
    start_private_slimy logfault || { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; return; }
    dir="$WORK/logs-logfault"
    wait_until 3 log_has "$dir/combined.log" '"msg":"ready"' || fail "combined.log not written at start"
    rm -rf "$dir"
    post_diag
    fetch_reply
    assert_contains "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "Diagnostics" "/diag delivered with the log directory gone"
    kill -HUP "$SLIMY_PID"
    wait_until 5 log_has "$SLIMY_LOG" '"msg":"cannot reopen the log files' || fail "SIGHUP without a log directory not reported"
    mkdir -p "$dir" && chmod 000 "$dir"
    kill -HUP "$SLIMY_PID"
    # As root the mode does not stop the reopen; as anyone else it fails and says so.
    wait_until 5 eval "[ \$(grep -c 'log files reopened\|cannot reopen the log files' \"\$SLIMY_LOG\") -ge 2 ]" ||
        fail "second SIGHUP not answered"
    post_diag
    fetch_reply
    assert_contains "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "Diagnostics" "/diag delivered with the log directory unwritable"
    chmod 750 "$dir"
    rm -f "$dir/combined.log" "$dir/error.log"
    ln -s /dev/full "$dir/combined.log" && ln -s /dev/full "$dir/error.log"
    kill -HUP "$SLIMY_PID"
    wait_until 5 eval "[ \$(grep -c 'log files reopened\|cannot reopen the log files' \"\$SLIMY_LOG\") -ge 3 ]" ||
        fail "third SIGHUP not answered"
    lines=$(wc -l <"$SLIMY_LOG")
    post_diag
    fetch_reply
    assert_contains "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "Diagnostics" "/diag delivered with every log write failing (ENOSPC)"
    post_signed '{"type":1}'
    assert_eq "$BODY" '{"type":1}' "PING"
    wait_until 3 eval "[ \$(wc -l <\"\$SLIMY_LOG\") -gt $lines ]" || fail "stdout logging stopped"
    assert_health "with the log files failing"
    local code=0
    stop_slimy || code=$?
    assert_eq "$code" 0 "exit status"
}

# The disk is full for SQLite: a file-size limit (RLIMIT_FSIZE, set on the running server with
# prlimit; SIGXFSZ ignored, as a process whose disk fills gets ENOSPC, not a signal) makes every
# write fail. /remember says it could not save, reads (export, consent status) still work, PINGs
# and /health answer; once the limit is lifted, writes work again and nothing saved before is lost.
# Its own server, with stdout through a pipe (a log file would hit the limit too) and no LOG_DIR.
case_fault_sqlite_disk_full() {
    command -v prlimit >/dev/null || { echo "    (skipped: no prlimit)"; return; }
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG USER_ID=$((CASE_BASE + 40)) code=0
    SLIMY_PORT=$(free_port)
    SLIMY_URL="http://127.0.0.1:$SLIMY_PORT"
    SLIMY_LOG="$WORK/diskfull-$SLIMY_PORT.log"
    : >"$SLIMY_LOG"
    trap '' XFSZ # inherited by the server as ignored; the shell's own disposition comes back below
    spawn_slimy "$SLIMY_PORT" >(exec cat >>"$SLIMY_LOG") "" "$WORK/data-diskfull" SQLITE_PATH="$WORK/diskfull.db"
    SLIMY_PID=$SPAWNED_PID
    trap - XFSZ
    wait_http "$SLIMY_URL/health" 10 || { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; return; }
    consent_on
    run_deferred remember "$(remember_options "saved before the disk filled")"
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "📝 Memory Saved" "before"
    prlimit --pid "$SLIMY_PID" --fsize=0:unlimited || { fail "prlimit failed"; stop_slimy; return; }
    sleep 3.1 # /remember's cooldown
    run_deferred remember "$(remember_options "written to a full disk")"
    assert_not_contains "$(json_get "$REPLY" 'd["json"].get("embeds")')" "Memory Saved" "not reported saved"
    assert_contains "$CONTENT" "unavailable" "the user is told it failed"
    assert_contains "$CONTENT" "database" "and why"
    exported_notes
    assert_eq "$NOTES" "saved before the disk filled" "reads still work"
    run_deferred consent '[{"name":"status","type":1}]'
    assert_eq "$CONTENT" "✅ Memory ON here." "consent still readable"
    post_signed '{"type":1}'
    assert_eq "$BODY" '{"type":1}' "PING with a full disk"
    assert_health "with a full disk"
    kill -0 "$SLIMY_PID" 2>/dev/null || fail "the server died"
    prlimit --pid "$SLIMY_PID" --fsize=unlimited:unlimited
    sleep 3.1
    run_deferred remember "$(remember_options "saved after space came back")"
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "📝 Memory Saved" "writes work again"
    exported_notes
    assert_eq "$NOTES" "$(printf 'saved after space came back\nsaved before the disk filled')" "nothing lost, nothing half-written"
    stop_slimy || code=$?
    assert_eq "$code" 0 "exit status"
    wait_until 3 log_has "$SLIMY_LOG" '"msg":"stopped"' || fail "no 'stopped' on stdout"
}

# ---- shared state ----

# Redis (a throwaway one of the case's own, unpersisted like every tests/tools/redis.sh one) stops
# while a job taken from its stream waits on a slow OpenAI: the claim cannot be refreshed (logged),
# the reply still arrives, once; a command acknowledged during the outage goes through the
# replica's own queue and is delivered; when Redis is back, commands go through it again and
# nothing is delivered twice. Its own server and Redis, one worker.
case_fault_redis_outage_with_a_job_in_flight() {
    command -v redis-server >/dev/null || { echo "    (skipped: no redis-server)"; return; }
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG redis_dir="$WORK/redis-fault" redis_port tok1 tok2 tok3 code=0
    redis_port=$(free_port)
    "$ROOT/tests/tools/redis.sh" start "$redis_dir" "$redis_port" >/dev/null 2>&1 || { fail "redis did not start"; return; }
    start_private_slimy redisfault REDIS_URL="redis://127.0.0.1:$redis_port" REDIS_KEY_PREFIX="fault-$$:" \
        WORKER_THREADS=1 JOB_CLAIM_IDLE_MS=2000 ||
        { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; "$ROOT/tests/tools/redis.sh" stop "$redis_dir" >/dev/null; return; }
    ai_script '{"path_contains":"chat/completions","responses":[{"delay_ms":3000}]}'
    USER_ID=$((CASE_BASE + 60)) command_json chat '[{"name":"message","type":3,"value":"in flight"}]'
    tok1=$INTERACTION_TOKEN
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "first acknowledged"
    ai_wait_requests 1 "?path_contains=chat/completions" 5 # taken from the stream, waiting on OpenAI
    "$ROOT/tests/tools/redis.sh" stop "$redis_dir" >/dev/null 2>&1 || fail "could not stop redis"
    USER_ID=$((CASE_BASE + 61)) command_json chat '[{"name":"message","type":3,"value":"during the outage"}]'
    tok2=$INTERACTION_TOKEN
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "acknowledged during the outage"
    wait_requests 1 "?path_contains=$tok2" 10 &&
        assert_contains "$(json_get "$(fake_requests "?path_contains=$tok2")" 'd[0]["json"]["content"]')" "to: during the outage" "delivered during the outage"
    wait_requests 1 "?path_contains=$tok1" 10 &&
        assert_contains "$(json_get "$(fake_requests "?path_contains=$tok1")" 'd[0]["json"]["content"]')" "to: in flight" "the job in flight delivered"
    "$ROOT/tests/tools/redis.sh" start "$redis_dir" "$redis_port" >/dev/null 2>&1 || fail "could not restart redis"
    wait_until 10 eval 'ready_state; [ "$READY_REDIS" = up ]' || fail "/ready never said redis up again ($READY_BODY)"
    USER_ID=$((CASE_BASE + 62)) run_deferred chat '[{"name":"message","type":3,"value":"after the outage"}]'
    tok3=$INTERACTION_TOKEN
    assert_contains "$CONTENT" "to: after the outage" "delivered after the outage"
    sleep 2.5 # past a claim period: a job taken again would have been delivered by now
    assert_eq "$(fake_count_tokens '' "$tok1" "$tok2" "$tok3")" 3 "each delivered once"
    assert_health "after the Redis outage"
    stop_slimy || code=$?
    assert_eq "$code" 0 "exit status"
    "$ROOT/tests/tools/redis.sh" stop "$redis_dir" >/dev/null 2>&1
}
