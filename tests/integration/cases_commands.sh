# cases_commands.sh — dispatch end to end: unknown command, the immediate /snail calc, the
# deferred /diag completed through fake Discord, and the REST client's retries.

case_unknown_command_is_ephemeral() {
    command_json nosuchcommand
    post_signed "$CMD"
    assert_eq "$HTTP_CODE" 200 "status"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 4 "type"
    assert_eq "$(json_get "$BODY" 'd["data"]["flags"]')" 64 "ephemeral"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "Unknown command"
}

case_snail_calc_answers_immediately() {
    # Expected numbers: the reference vector for T5 with every level at 0 (tests/data).
    command_json snail '[{"name":"calc","type":1,"options":[{"name":"tier","type":4,"value":5},{"name":"levels","type":3,"value":"0,0,0,0,0,0,0,0"}]}]'
    post_signed "$CMD"
    assert_eq "$HTTP_CODE" 200 "status"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 4 "immediate"
    assert_eq "$(json_get "$BODY" 'd["data"]["flags"]')" 64 "ephemeral"
    assert_eq "$(json_get "$BODY" 'd["data"]["content"]')" "$(printf '🧮 **Supersnail T5**\n• **Form Cells:** 1,765,000\n• **BTADs:** 2,287,500\n• **Hours:** 1,800')"
    # Bad levels: the validation message, still immediate.
    command_json snail '[{"name":"calc","type":1,"options":[{"name":"tier","type":4,"value":5},{"name":"levels","type":3,"value":"0,0,11,4,0,0,0,2"}]}]'
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["data"]["content"]')" "❌ Invalid values: l2, compass(0-3), ritual(0-1)"
    # Nothing went to Discord for an immediate command.
    assert_eq "$(fake_requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0 "no REST calls"
}

case_diag_is_deferred_then_patched() {
    fake_reset
    command_json diag
    post_signed "$CMD"
    assert_eq "$HTTP_CODE" 200 "status"
    assert_eq "$BODY" '{"type":5,"data":{"flags":64}}' "deferred ephemeral"
    wait_requests 1 || return
    local req
    req=$(fake_requests)
    assert_eq "$(json_get "$req" 'd[0]["method"]')" PATCH "method"
    assert_eq "$(json_get "$req" 'd[0]["path"]')" "/api/v10/webhooks/$APP_ID/$INTERACTION_TOKEN/messages/@original" "path"
    assert_contains "$(json_get "$req" 'd[0]["headers"]["user-agent"]')" "DiscordBot (" "user agent"
    assert_eq "$(json_get "$req" 'd[0]["headers"]["content-type"]')" "application/json" "content type"
    assert_eq "$(json_get "$req" '"authorization" in d[0]["headers"]')" False "no bot token on webhooks"
    assert_contains "$(json_get "$req" 'd[0]["json"]["embeds"][0]["title"]')" "Diagnostics" "embed title"
    assert_eq "$(json_get "$req" 'd[0]["json"]["allowed_mentions"]')" "{'parse': []}" "allowed mentions"
    assert_contains "$(json_get "$req" '[f["value"] for f in d[0]["json"]["embeds"][0]["fields"] if "Version" in f["name"]][0]')" "v0." "version field"
    # The token is a credential: it must not reach any log.
    assert_not_contains "$(cat "$SLIMY_LOG" "$WORK"/logs/*.log)" "$INTERACTION_TOKEN" "token in logs"
}

case_diag_counts_commands() {
    fake_reset
    command_json snail '[{"name":"test","type":1}]'
    post_signed "$CMD"
    command_json diag
    post_signed "$CMD"
    wait_requests 1 || return
    local stats
    stats=$(json_get "$(fake_requests)" '[f["value"] for f in d[0]["json"]["embeds"][0]["fields"] if "Top" in f["name"]][0]')
    assert_contains "$stats" '`/snail test`' "snail test counted"
}

case_followup_retries_after_429() {
    fake_reset
    fake_script '{"method":"PATCH","responses":[{"status":429,"headers":{"Retry-After":"1"},"body":{"message":"You are being rate limited.","retry_after":0.6,"global":false}}]}'
    command_json diag
    post_signed "$CMD"
    wait_requests 2 || return
    local req gap
    req=$(fake_requests)
    assert_eq "$(json_get "$req" 'd[0]["status"]')" 429 "first answered 429"
    assert_eq "$(json_get "$req" 'd[1]["status"]')" 200 "retry succeeded"
    gap=$(json_get "$req" 'd[1]["time"] - d[0]["time"] >= 0.55')
    assert_eq "$gap" True "waited retry_after from the body"
}

case_followup_retries_after_500_and_404() {
    fake_reset
    fake_script '{"method":"PATCH","responses":[{"status":500,"body":{"message":"oops"}},{"status":502,"body":"bad gateway"},{"status":404,"body":{"message":"Unknown Webhook","code":10015}}]}'
    command_json diag
    post_signed "$CMD"
    wait_requests 4 || return
    local req
    req=$(fake_requests)
    assert_eq "$(json_get "$req" '[r["status"] for r in d]')" "[500, 502, 404, 200]" "statuses"
}

case_followup_gives_up_on_400() {
    fake_reset
    fake_script '{"method":"PATCH","responses":[{"status":400,"body":{"message":"Invalid Form Body","code":50035}}]}'
    command_json diag
    post_signed "$CMD"
    wait_requests 1 || return
    sleep 1.5
    assert_eq "$(json_get "$(fake_requests)" 'len(d)')" 1 "no retry after 400"
    assert_contains "$(cat "$SLIMY_LOG")" '"discord_code":50035' "logged Discord's code"
}

case_global_rate_limit_pauses_other_replies() {
    fake_reset
    fake_script '{"method":"PATCH","responses":[{"status":429,"headers":{"X-RateLimit-Global":"true"},"body":{"message":"You are being rate limited.","retry_after":1.0,"global":true}}]}'
    command_json diag
    post_signed "$CMD"
    sleep 0.2
    command_json diag
    post_signed "$CMD"
    wait_requests 3 || return
    local req
    req=$(fake_requests)
    # The second reply was held back by the global limit: nothing was sent until it passed.
    assert_eq "$(json_get "$req" 'all(r["time"] - d[0]["time"] >= 0.95 for r in d[1:])')" True "global pause"
}
