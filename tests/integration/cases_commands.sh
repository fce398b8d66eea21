# cases_commands.sh — dispatch end to end: unknown command, the immediate /snail calc, the
# deferred /diag completed through fake Discord, and the REST client's retries. Each case looks
# only at the requests for its own interaction tokens, and scripts fake Discord for those tokens
# only, so a late request of another case can neither be counted nor take a scripted answer.

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
    assert_eq "$(fake_count)" 0 "no REST calls"
}

case_diag_is_deferred_then_patched() {
    command_json diag
    post_signed "$CMD"
    assert_eq "$HTTP_CODE" 200 "status"
    assert_eq "$BODY" '{"type":5,"data":{"flags":64}}' "deferred ephemeral"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" || return
    local req
    req=$(fake_requests "?path_contains=$INTERACTION_TOKEN")
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

# On a server of its own: the top three commands are counted process-wide, so on the shared server
# what the other cases ran before this one would decide whether /snail test makes the top three.
case_diag_counts_commands() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG stats rc=0
    start_private_slimy diag-counts || { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; return; }
    command_json snail '[{"name":"test","type":1}]'
    post_signed "$CMD"
    run_deferred diag
    stats=$(json_get "$REPLY" '[f["value"] for f in d["json"]["embeds"][0]["fields"] if "Top" in f["name"]][0]')
    assert_contains "$stats" '`/snail test`' "snail test counted"
    stop_slimy || rc=$?
    assert_eq "$rc" 0 "exit status"
}

case_followup_retries_after_429() {
    command_json diag
    fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":[{"status":429,"headers":{"Retry-After":"1"},"body":{"message":"You are being rate limited.","retry_after":0.6,"global":false}}]}'
    post_signed "$CMD"
    wait_requests 2 "?path_contains=$INTERACTION_TOKEN" || return
    local req gap
    req=$(fake_requests "?path_contains=$INTERACTION_TOKEN")
    assert_eq "$(json_get "$req" 'd[0]["status"]')" 429 "first answered 429"
    assert_eq "$(json_get "$req" 'd[1]["status"]')" 200 "retry succeeded"
    gap=$(json_get "$req" 'd[1]["time"] - d[0]["time"] >= 0.55')
    assert_eq "$gap" True "waited retry_after from the body"
}

case_followup_retries_after_500_and_404() {
    command_json diag
    fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":[{"status":500,"body":{"message":"oops"}},{"status":502,"body":"bad gateway"},{"status":404,"body":{"message":"Unknown Webhook","code":10015}}]}'
    post_signed "$CMD"
    wait_requests 4 "?path_contains=$INTERACTION_TOKEN" || return
    local req
    req=$(fake_requests "?path_contains=$INTERACTION_TOKEN")
    assert_eq "$(json_get "$req" '[r["status"] for r in d]')" "[500, 502, 404, 200]" "statuses"
}

case_followup_gives_up_on_400() {
    command_json diag
    fake_script '{"method":"PATCH","path_contains":"'"$INTERACTION_TOKEN"'","responses":[{"status":400,"body":{"message":"Invalid Form Body","code":50035}}]}'
    post_signed "$CMD"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" || return
    wait_until 5 log_has "$SLIMY_LOG" '"discord_code":50035' || fail "Discord's code not logged"
    # Proving a retry does NOT come needs a window: the first retry after a 5xx comes 0.5 s
    # later, so 1.5 s after the refusal was logged a retry would have shown.
    sleep 1.5
    assert_eq "$(fake_count "?path_contains=$INTERACTION_TOKEN")" 1 "no retry after 400"
}

case_global_rate_limit_pauses_other_replies() {
    local first
    command_json diag
    first=$INTERACTION_TOKEN
    fake_script '{"method":"PATCH","path_contains":"'"$first"'","responses":[{"status":429,"headers":{"X-RateLimit-Global":"true"},"body":{"message":"You are being rate limited.","retry_after":1.0,"global":true}}]}'
    post_signed "$CMD"
    # The second command only once the server has taken the global limit in.
    wait_until 5 log_has "$SLIMY_LOG" '"msg":"discord rate limited","interaction_id":"'"$INTERACTION_ID"'"' ||
        fail "the global 429 was not logged"
    USER_ID=$(case_id 10) command_json diag # another manager: /diag has a per-user cooldown
    post_signed "$CMD"
    both_tokens() { fake_count_tokens '' "$first" "$INTERACTION_TOKEN"; }
    wait_count both_tokens "requests for the two tokens" 3 || return
    local req
    req=$(json_get "$(fake_requests)" 'json.dumps([r for r in d if argv[0] in r["path"] or argv[1] in r["path"]])' "$first" "$INTERACTION_TOKEN")
    # The second reply was held back by the global limit: nothing was sent until it passed.
    assert_eq "$(json_get "$req" 'all(r["time"] - d[0]["time"] >= 0.95 for r in d[1:])')" True "global pause"
}
