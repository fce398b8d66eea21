# cases_shutdown.sh — SIGTERM with work queued: the reply is still delivered, then exit 0.
# Runs last: it stops the shared server.

case_sigterm_delivers_queued_job_then_exits_0() {
    fake_reset
    fake_script '{"method":"PATCH","responses":[{"delay_ms":1500}]}'
    command_json diag
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "deferred"
    sleep 0.2 # the PATCH is now waiting on slow Discord
    local started code
    started=$(date +%s%N)
    code=0
    stop_slimy || code=$?
    assert_eq "$code" 0 "exit status"
    assert_eq "$(json_get "$(fake_requests)" '[(r["method"], r["status"]) for r in d]')" "[('PATCH', 200)]" "reply delivered"
    assert_eq "$(( ($(date +%s%N) - started) / 1000000 >= 1000 ))" 1 "waited for the reply"
    assert_contains "$(cat "$SLIMY_LOG")" '"msg":"drained"'
}
