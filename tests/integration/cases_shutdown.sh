# cases_shutdown.sh — SIGTERM with work queued: the reply is still delivered, then exit 0.
# On a server of its own (the shared one is stopped by run.sh at the end of its phase, which checks
# its exit status), so this case can run in any order.

case_sigterm_delivers_queued_job_then_exits_0() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG
    start_private_slimy shutdown || { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; return; }
    command_json diag
    fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":[{"delay_ms":1500}]}'
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "deferred"
    # The fake records the PATCH before delaying its answer: from then on it waits on slow Discord.
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" || { stop_slimy; return; }
    local started code
    started=$(date +%s%N)
    code=0
    stop_slimy || code=$?
    assert_eq "$code" 0 "exit status"
    assert_eq "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" '[(r["method"], r["status"]) for r in d]')" "[('PATCH', 200)]" "reply delivered"
    assert_eq "$(( ($(date +%s%N) - started) / 1000000 >= 1000 ))" 1 "waited for the reply"
    assert_contains "$(cat "$SLIMY_LOG")" '"msg":"drained"'
}
