# cases_stats.sh — /leaderboard and /stats, answered from Slimy's own database, end to end
# through fake Discord: the empty leaderboard (nothing writes snail analyses yet), /stats
# counting the command use the dispatcher records for deferred commands, scoping, periods and
# who may see someone else's stats. Run once against SQLite and once against MariaDB (run.sh).

STATS_REFUSAL='❌ You can only view your own stats (viewing others needs Administrator or a mod/club role).'

# stats_field NAME: the value of the /stats embed field NAME in REPLY.
stats_field() { json_get "$REPLY" "[f[\"value\"] for f in d[\"json\"][\"embeds\"][0][\"fields\"] if f[\"name\"]==\"$1\"][0]"; }
stats_title() { json_get "$REPLY" 'd["json"]["embeds"][0]["title"]'; }

# post_deferred: posts CMD (already built with command_json, then edited) like run_deferred does,
# and sets REPLY and CONTENT from its PATCH.
post_deferred() {
    post_signed "$CMD"
    [ "$(json_get "$BODY" 'd["type"]')" = 5 ] || { fail "not deferred: $BODY"; REPLY='{}'; CONTENT=; return 1; }
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" || { REPLY='{}'; CONTENT=; return 1; }
    REPLY=$(fake_requests "?path_contains=$INTERACTION_TOKEN" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]))')
    CONTENT=$(json_get "$REPLY" 'd["json"]["content"]')
}

case_leaderboard_empty_server_is_public() {
    local GUILD=320 USER_ID=701
    command_json leaderboard
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "deferred, public"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" || return
    REPLY=$(fake_requests "?path_contains=$INTERACTION_TOKEN" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]))')
    assert_eq "$(json_get "$REPLY" 'd["json"]["content"]')" \
        'No Super Snail analyses recorded in this server yet. Use `/snail analyze` to add yours!' "empty board"
    assert_eq "$(json_get "$REPLY" 'd["json"].get("flags", 0) & 64')" 0 "not ephemeral"
    run_deferred leaderboard '[{"name":"limit","type":4,"value":50}]'
    assert_contains "$CONTENT" "No Super Snail analyses recorded in this server yet" "with a limit"
}

case_leaderboard_is_guild_only() {
    local GUILD= USER_ID=701
    command_json leaderboard
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 4 "refused at once"
    assert_eq "$(json_get "$BODY" 'd["data"]["flags"]')" 64 "ephemeral"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "only works in a server" "refusal text"
}

case_stats_counts_deferred_commands() {
    local GUILD=321 USER_ID=702
    command_json stats
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5,"data":{"flags":64}}' "deferred, ephemeral"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" || return
    REPLY=$(fake_requests "?path_contains=$INTERACTION_TOKEN" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]))')
    assert_eq "$(stats_title)" "📈 Stats for tester702 (30d)" "title, default period"
    assert_eq "$(stats_field Commands)" 0 "nothing used yet"
    assert_eq "$(stats_field 'Last Active')" "Never" "never active"
    # Each deferred run records one command use through the dispatcher.
    run_deferred consent '[{"name":"status","type":1}]'
    run_deferred consent '[{"name":"status","type":1}]'
    run_deferred export
    run_deferred stats '[{"name":"period","type":3,"value":"7d"}]'
    assert_eq "$(stats_title)" "📈 Stats for tester702 (7d)" "title, 7d"
    assert_eq "$(json_get "$(stats_field Commands)" 'd >= 3')" True "three commands or more counted"
    assert_eq "$(stats_field Messages)" 0 "no chats"
    assert_eq "$(stats_field 'Images Generated')" 0 "no images"
    local last now
    last=$(stats_field 'Last Active')
    assert_eq "$(python3 -c 'import re,sys; print(bool(re.fullmatch(r"<t:\d+:R>", sys.argv[1])))' "$last")" True "last active is a Discord timestamp: $last"
    now=$(date +%s)
    assert_eq "$(python3 -c 'import sys; t=int(sys.argv[1][3:-3]); print(abs(t - int(sys.argv[2])) < 120)' "$last" "$now")" True "last active is recent"
    # Every period sees them; another server is another scope.
    run_deferred stats '[{"name":"period","type":3,"value":"1y"}]'
    assert_eq "$(json_get "$(stats_field Commands)" 'd >= 4')" True "1y counts the first /stats too"
    GUILD=322 run_deferred stats
    assert_eq "$(stats_field Commands)" 0 "another server counts nothing"
    assert_eq "$(stats_field 'Last Active')" "Never" "never active there"
}

case_stats_of_someone_else_needs_admin_or_role() {
    local GUILD=321 USER_ID=703 MEMBER_PERMS=2048 # send messages only
    local target='[{"name":"user","type":6,"value":"702"}]'
    local resolved='"resolved":{"users":{"702":{"id":"702","username":"tester702","global_name":"Snail Fan"}}}'
    run_deferred stats "$target" '' "$resolved"
    assert_eq "$CONTENT" "$STATS_REFUSAL" "non-admin refused"
    assert_eq "$(json_get "$REPLY" 'd["json"].get("embeds", [])')" "[]" "no stats shown"
    # Their own stats are always fine.
    run_deferred stats '[{"name":"user","type":6,"value":"703"}]'
    assert_eq "$(stats_title)" "📈 Stats for tester703 (30d)" "own stats by option"
    # Administrator may look.
    MEMBER_PERMS=8 run_deferred stats "$target" '' "$resolved"
    assert_eq "$(stats_title)" "📈 Stats for Snail Fan (30d)" "admin sees the target, by global name"
    assert_eq "$(json_get "$(stats_field Commands)" 'd >= 3')" True "the target's commands"
    # A role whose name contains "club", when Discord sent its name, qualifies too.
    command_json stats "$target" '' "${resolved%\}},\"roles\":{\"950\":{\"id\":\"950\",\"name\":\"Snail CLUB Officer\"}}}"
    CMD=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["member"]["roles"]=["949","950"]; print(json.dumps(d))' "$CMD")
    post_deferred
    assert_eq "$(stats_title)" "📈 Stats for Snail Fan (30d)" "club role sees the target"
    # A role id without a name in the request does not.
    command_json stats "$target" '' "$resolved"
    CMD=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["member"]["roles"]=["950"]; print(json.dumps(d))' "$CMD")
    post_deferred
    assert_eq "$CONTENT" "$STATS_REFUSAL" "role name unknown: refused"
}
