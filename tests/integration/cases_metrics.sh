# cases_metrics.sh — GET /metrics (Prometheus text) and /metrics.json: the exposition lints clean
# with promtool, counters move with traffic, METRICS_TOKEN guards both. Sourced by run.sh.

# metrics_get PATH [CURL ARGS...]: GETs SLIMY_URL PATH; sets M_CODE, M_CTYPE and M_BODY.
metrics_get() {
    local path=$1 out
    shift
    out=$(curl -s --max-time 5 -o "$WORK/metrics.out" -w '%{http_code} %{content_type}' "$@" "$SLIMY_URL$path")
    M_CODE=${out%% *}
    M_CTYPE=${out#* }
    M_BODY=$(cat "$WORK/metrics.out")
}
# metric_value TEXT SERIES: the value of the sample named exactly SERIES (name{labels}) in TEXT, or
# "absent".
metric_value() {
    awk -v s="$2" 'index($0, s " ") == 1 { print substr($0, length(s) + 2); found = 1; exit }
        END { if (!found) print "absent" }' <<<"$1"
}
# metric_now SERIES: its value on the server right now.
metric_now() { metrics_get /metrics; metric_value "$M_BODY" "$1"; }
# metric_reaches SERIES N: the series is at least N now (for wait_until).
metric_reaches() { local v; v=$(metric_now "$1"); [ "$v" != absent ] && [ "${v%.*}" -ge "$2" ]; }
# assert_moved SERIES BEFORE_TEXT AFTER_TEXT WANT: the series grew by exactly WANT between the texts.
assert_moved() {
    local before after
    before=$(metric_value "$2" "$1") after=$(metric_value "$3" "$1")
    if [ "$before" = absent ] || [ "$after" = absent ]; then
        fail "$1: absent (before $before, after $after)"
        return
    fi
    assert_eq "$((${after%.*} - ${before%.*}))" "$4" "$1 moved by"
}

case_metrics_promtool_lints_clean() {
    # Traffic first, so the command series and histograms carry real numbers.
    post_signed '{"type":1,"id":"1","application_id":"'"$APP_ID"'","token":"t","version":1}'
    command_json snail '[{"name":"calc","type":1,"options":[{"name":"tier","type":4,"value":5},{"name":"levels","type":3,"value":"0,0,0,0,0,0,0,0"}]}]'
    post_signed "$CMD"
    metrics_get /metrics
    assert_eq "$M_CODE" 200 "status"
    assert_eq "$M_CTYPE" "text/plain; version=0.0.4" "content type"
    local lint rc=0
    lint=$(promtool check metrics <<<"$M_BODY" 2>&1) || rc=$?
    assert_eq "$rc" 0 "promtool exit status ($lint)"
    assert_eq "$lint" "" "promtool findings"
    local family
    for family in slimy_build_info slimy_uptime_seconds slimy_process_resident_memory_bytes \
        slimy_http_connections_open slimy_interactions_total slimy_signature_failures_total slimy_commands_total \
        slimy_command_duration_seconds slimy_cooldown_hits_total slimy_dedupe_hits_total slimy_jobs_queued \
        slimy_jobs_in_flight slimy_jobs_retried_total slimy_jobs_dropped_total slimy_discord_requests_total \
        slimy_discord_rate_limited_total slimy_openai_requests_total slimy_openai_request_duration_seconds \
        slimy_store_errors_total slimy_store_up slimy_redis_errors_total slimy_shared_state; do
        assert_contains "$M_BODY" "# TYPE $family " "TYPE line"
    done
    assert_eq "$(metric_value "$M_BODY" 'slimy_store_up')" 1 "store up (the server is ready)"
    assert_eq "$(metric_value "$M_BODY" 'slimy_shared_state{state="memory"}')" 1 "shared state"
    [ "$(metric_value "$M_BODY" 'slimy_http_connections_open')" -ge 1 ] || fail "this very connection is open"
    # The series name commands and enums only: never the interaction's token or ids, or the user.
    assert_not_contains "$M_BODY" "$INTERACTION_TOKEN" "interaction token"
    assert_not_contains "$M_BODY" "$INTERACTION_ID" "interaction id"
    assert_not_contains "$M_BODY" "$CASE_USER" "user id"
    # HEAD answers like GET, other methods are refused.
    assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -I "$SLIMY_URL/metrics")" 200 "HEAD"
    assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$SLIMY_URL/metrics")" 405 "POST"
}

case_metrics_counters_move() {
    local before after calc='[{"name":"calc","type":1,"options":[{"name":"tier","type":4,"value":5},{"name":"levels","type":3,"value":"0,0,0,0,0,0,0,0"}]}]'
    metrics_get /metrics
    before=$M_BODY
    post_signed '{"type":1,"id":"1","application_id":"'"$APP_ID"'","token":"t","version":1}'
    assert_eq "$HTTP_CODE" 200 "ping"
    command_json snail "$calc"
    post_signed "$CMD"
    assert_eq "$HTTP_CODE" 200 "snail calc"
    printf '{"type":1}' >"$WORK/req"
    post_raw "$WORK/req" -H "X-Signature-Ed25519: $(printf 'ab%.0s' $(seq 1 64))" -H "X-Signature-Timestamp: $(date +%s)"
    assert_eq "$HTTP_CODE" 401 "bad signature"
    # A deferred command with a cooldown, twice: the first runs (and fails: no memory consent) and
    # its reply is PATCHed to Discord, the second is refused by the cooldown.
    command_json remember '[{"name":"note","type":3,"value":"metrics note"}]'
    post_deferred
    command_json remember '[{"name":"note","type":3,"value":"metrics note"}]'
    post_signed "$CMD"
    assert_contains "$BODY" "Slow down" "cooldown"
    wait_until 5 metric_reaches 'slimy_commands_total{command="remember",outcome="failed"}' \
        "$(($(metric_value "$before" 'slimy_commands_total{command="remember",outcome="failed"}') + 1))" ||
        fail "remember never counted"
    wait_until 5 metric_reaches 'slimy_discord_requests_total{route="original",status="2xx"}' \
        "$(($(metric_value "$before" 'slimy_discord_requests_total{route="original",status="2xx"}') + 1))" ||
        fail "the PATCH was never counted"
    metrics_get /metrics
    after=$M_BODY
    assert_moved 'slimy_interactions_total{type="ping",outcome="ok"}' "$before" "$after" 1
    assert_moved 'slimy_interactions_total{type="command",outcome="ok"}' "$before" "$after" 3
    assert_moved 'slimy_interactions_total{type="unknown",outcome="rejected"}' "$before" "$after" 1
    assert_moved 'slimy_signature_failures_total{reason="bad_signature"}' "$before" "$after" 1
    assert_moved 'slimy_commands_total{command="snail calc",outcome="ok"}' "$before" "$after" 1
    assert_moved 'slimy_command_duration_seconds_count{command="snail calc"}' "$before" "$after" 1
    assert_moved 'slimy_command_duration_seconds_bucket{command="snail calc",le="+Inf"}' "$before" "$after" 1
    assert_moved 'slimy_commands_total{command="remember",outcome="failed"}' "$before" "$after" 1
    assert_moved 'slimy_cooldown_hits_total{command="remember"}' "$before" "$after" 1
    assert_moved 'slimy_discord_requests_total{route="original",status="2xx"}' "$before" "$after" 1
    assert_moved 'slimy_jobs_dropped_total{reason="delivery_failed"}' "$before" "$after" 0
    [ "$(metric_value "$after" 'slimy_uptime_seconds')" -ge 0 ] || fail "uptime"
}

case_metrics_json_shape() {
    run_deferred remember '[{"name":"note","type":3,"value":"a note that must not show"}]'
    command_json snail '[{"name":"calc","type":1,"options":[{"name":"tier","type":4,"value":5},{"name":"levels","type":3,"value":"0,0,0,0,0,0,0,0"}]}]'
    post_signed "$CMD"
    metrics_get /metrics.json
    assert_eq "$M_CODE" 200 "status"
    assert_eq "$M_CTYPE" "application/json" "content type"
    local problems
    problems=$(json_get "$M_BODY" 'metrics_json_problems(d)') || problems="not JSON: ${M_BODY:0:200}"
    assert_eq "$problems" ok "shape"
    assert_not_contains "$M_BODY" "a note that must not show" "user text"
    assert_not_contains "$M_BODY" "$INTERACTION_TOKEN" "interaction token"
    assert_eq "$(json_get "$M_BODY" 'd["errors"]["remember"]["recentMessages"][0]["message"]')" \
        "permission denied" "error message: the status's words"
}
# metrics_json_problems(d), in the JSON helper: what is wrong with a /metrics.json document, or "ok".
json_def <<'PY'
def metrics_json_problems(d):
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    if list(d) != ["uptime", "commands", "errors", "summary"]:
        return "keys %s" % list(d)
    if not isinstance(d["uptime"], (int, float)) or d["uptime"] < 0:
        return "uptime %r" % d["uptime"]
    for name, c in d["commands"].items():
        if set(c) != {"count", "successCount", "failCount", "avgTime", "successRate"}:
            return "command %s keys %s" % (name, sorted(c))
        if c["count"] != c["successCount"] + c["failCount"] or c["count"] < 1:
            return "command %s counts %r" % (name, c)
        if not re.match(r"^\d+ms$", c["avgTime"]) or not re.match(r"^\d+%$", c["successRate"]):
            return "command %s texts %r" % (name, c)
    if "snail calc" not in d["commands"] or "remember" not in d["commands"]:
        return "commands %s" % sorted(d["commands"])
    for name, e in d["errors"].items():
        if set(e) != {"count", "lastSeen", "recentMessages"} or not iso.match(e["lastSeen"]):
            return "error %s %r" % (name, e)
        if e["count"] != d["commands"][name]["failCount"] or not 1 <= len(e["recentMessages"]) <= 3:
            return "error %s count %r" % (name, e)
        for m in e["recentMessages"]:
            if set(m) != {"message", "timestamp"} or not iso.match(m["timestamp"]):
                return "error %s message %r" % (name, m)
    s = d["summary"]
    if set(s) != {"totalCommands", "totalErrors", "successRate"}:
        return "summary keys %s" % sorted(s)
    if s["totalCommands"] != sum(c["count"] for c in d["commands"].values()):
        return "summary total %r" % s
    if s["totalErrors"] != sum(c["failCount"] for c in d["commands"].values()):
        return "summary errors %r" % s
    if not re.match(r"^\d+%$", s["successRate"]):
        return "summary rate %r" % s
    return "ok"
PY

# On a server of its own with METRICS_TOKEN set: both endpoints want the Bearer token.
case_metrics_token_required() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG rc=0 token="metrics-SECRET-$RANDOM$RANDOM" path
    start_private_slimy metrics-token METRICS_TOKEN="$token" ||
        { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; return; }
    for path in /metrics /metrics.json; do
        metrics_get "$path"
        assert_eq "$M_CODE" 401 "$path without a token"
        assert_eq "$M_CTYPE" "application/json" "$path 401 content type"
        assert_eq "$(json_get "$M_BODY" 'd["error"]')" unauthorized "$path 401 body"
        metrics_get "$path" -H "Authorization: Bearer wrong-$token"
        assert_eq "$M_CODE" 401 "$path with a wrong token"
        metrics_get "$path" -H "Authorization: Bearer ${token:0:-1}"
        assert_eq "$M_CODE" 401 "$path with a prefix of the token"
        metrics_get "$path" -H "Authorization: $token"
        assert_eq "$M_CODE" 401 "$path without the Bearer scheme"
        metrics_get "$path" -H "Authorization: Bearer $token"
        assert_eq "$M_CODE" 200 "$path with the token"
    done
    assert_contains "$M_BODY" '"summary"' "the JSON behind the token"
    metrics_get /health
    assert_eq "$M_CODE" 200 "/health stays open"
    stop_slimy || rc=$?
    assert_eq "$rc" 0 "exit status"
    ! grep -qF -- "$token" "$SLIMY_LOG" "$WORK/logs-metrics-token"/* 2>/dev/null || fail "the token reached a log"
}
