# cases_ops.sh — operating a replica: critical errors alerted to ERROR_WEBHOOK_URL (at most one
# per kind a minute), SIGHUP reopening the log files. Sourced by run.sh.
# The fake Discord doubles as the alert webhook: it records a POST to /webhooks/ID/TOKEN like any
# other request, so the alerts are the recorded requests whose path holds ALERT_HOOK_PATH.

ALERT_HOOK_PATH=/webhooks/4242/alert-hook-SECRET
# alert_titles: the embed titles of the alerts received so far, as a sorted python list.
# The titles in order of arrival; sorted, because two alerts sent at once may arrive either way.
alert_titles() { json_get "$(fake_requests "?method=POST&path_contains=$ALERT_HOOK_PATH")" 'sorted(r["json"]["embeds"][0]["title"] for r in d)'; }

# A dependency failing at start: the process logs critical and exits at once, but not before the
# alert was delivered (the bounded flush on the way out): the webhook takes 0.8 s to answer and the
# process waits for it. The alert has the error, not the URL.
case_alert_sent_before_exit_when_the_database_is_down() {
    local port log pid code=0 req started elapsed_ms
    port=$(free_port)
    log="$WORK/alert-start-$port.log"
    : >"$log"
    fake_script '{"method":"POST","path_contains":"'"$ALERT_HOOK_PATH"'","responses":[{"delay_ms":800}]}'
    started=${EPOCHREALTIME/[.,]/}
    spawn_slimy "$port" "$log" "$WORK/logs-alert-start" "$WORK/data-alert-start" \
        DB_HOST=127.0.0.1 DB_PORT="$(free_port)" ERROR_WEBHOOK_URL="$FAKE_URL/api$ALERT_HOOK_PATH"
    pid=$SPAWNED_PID
    wait_until 20 process_gone "$pid" || { fail "slimy did not exit"; kill -KILL "$pid"; }
    elapsed_ms=$(( (${EPOCHREALTIME/[.,]/} - started) / 1000 ))
    wait "$pid" 2>/dev/null || code=$?
    assert_eq "$code" 1 "exit status"
    assert_eq "$(( elapsed_ms >= 800 ))" 1 "waited for the webhook's answer (exited after $elapsed_ms ms)"
    assert_eq "$(( elapsed_ms < 5000 ))" 1 "the wait is bounded (exited after $elapsed_ms ms)"
    assert_eq "$(fake_count "?method=POST&path_contains=$ALERT_HOOK_PATH")" 1 "alerts received"
    req=$(fake_requests "?method=POST&path_contains=$ALERT_HOOK_PATH")
    assert_eq "$(json_get "$req" 'len(d[0]["json"]["embeds"])')" 1 "one embed"
    assert_eq "$(json_get "$req" 'd[0]["json"]["embeds"][0]["title"]')" "cannot open the database" "title"
    assert_contains "$(json_get "$req" 'd[0]["json"]["embeds"][0]["description"]')" "cannot connect to MariaDB" "description"
    assert_not_contains "$(cat "$log")" '"msg":"alert not sent"' "alert given up"
    assert_not_contains "$(cat "$log" "$WORK"/logs-alert-start/*.log)" "alert-hook-SECRET" "webhook URL logged"
}

# Two replies refused by Discord within a minute: each logs "discord refused the reply" (error)
# and "reply dropped" (a warning that alerts as critical), but each kind is alerted once.
case_alert_once_per_kind_a_minute() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG i
    start_private_slimy alerts ERROR_WEBHOOK_URL="$FAKE_URL/api$ALERT_HOOK_PATH" ||
        { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; return; }
    for i in 1 2; do
        USER_ID=$(case_id $((10 + i))) command_json diag # a user each: /diag has a per-user cooldown
        fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":[{"status":400,"body":{"message":"Invalid Form Body","code":50035}}]}'
        post_signed "$CMD"
        assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "deferred"
        wait_until 10 log_has "$SLIMY_LOG" "\"msg\":\"reply dropped\",\"interaction_id\":\"$INTERACTION_ID\"" ||
            fail "reply $i not dropped"
    done
    wait_requests 2 "?method=POST&path_contains=$ALERT_HOOK_PATH" || { stop_slimy; return; }
    # A second alert of a kind would be on its way by now: a send starts at once.
    sleep 1
    assert_eq "$(alert_titles)" "['discord refused the reply', 'reply dropped']" "one alert per kind"
    local req
    req=$(fake_requests "?method=POST&path_contains=$ALERT_HOOK_PATH")
    assert_eq "$(json_get "$req" '[r["json"]["embeds"][0]["color"] for r in d]')" "[15158332, 15158332]" "red"
    assert_contains "$(json_get "$req" '[r["json"]["embeds"][0]["description"] for r in d if r["json"]["embeds"][0]["title"] == "reply dropped"][0]')" \
        "**critical**: reply dropped"
    stop_slimy || fail "exit status $?"
    assert_not_contains "$(cat "$SLIMY_LOG" "$WORK"/logs-alerts/*.log)" "alert-hook-SECRET" "webhook URL logged"
}

# file_size FILE: its size in bytes (0 if missing).
file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# logrotate's way: rename the files, send SIGHUP; the server writes to new files, and the renamed
# ones stop growing. error.log is reopened too (a refused reply logs an error).
case_sighup_reopens_the_log_files() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG dir="$WORK/logs-hup" before before_err
    start_private_slimy hup || { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; return; }
    mv "$dir/combined.log" "$dir/combined.log.1"
    mv "$dir/error.log" "$dir/error.log.1"
    kill -HUP "$SLIMY_PID"
    wait_until 5 log_has "$dir/combined.log" '"msg":"log files reopened"' ||
        { fail "no new combined.log with the reopen line"; stop_slimy; return; }
    [ -f "$dir/error.log" ] || fail "error.log not created again"
    before=$(file_size "$dir/combined.log.1")
    before_err=$(file_size "$dir/error.log.1")
    command_json diag
    fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":[{"status":400,"body":{"message":"Invalid Form Body","code":50035}}]}'
    post_signed "$CMD"
    wait_until 10 log_has "$dir/error.log" "$INTERACTION_ID" || fail "the error did not reach the new error.log"
    wait_until 5 log_has "$dir/combined.log" "$INTERACTION_ID" || fail "new lines did not reach the new combined.log"
    assert_eq "$(file_size "$dir/combined.log.1")" "$before" "the renamed combined.log stopped growing"
    assert_eq "$(file_size "$dir/error.log.1")" "$before_err" "the renamed error.log stopped growing"
    assert_not_contains "$(cat "$dir/combined.log.1")" "log files reopened" "reopen line in the old file"
    # A second rotation works too, and the server is still up and stops cleanly.
    mv "$dir/combined.log" "$dir/combined.log.2"
    kill -HUP "$SLIMY_PID"
    wait_until 5 log_has "$dir/combined.log" '"msg":"log files reopened"' || fail "second reopen"
    curl -sf -o /dev/null "$SLIMY_URL/health" || fail "server not answering after SIGHUP"
    stop_slimy || fail "exit status $?"
}
