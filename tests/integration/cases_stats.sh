# cases_stats.sh — /leaderboard and /stats, answered from Slimy's own database, end to end
# through fake Discord: the empty leaderboard (nothing writes snail analyses yet), /stats
# counting the command use the dispatcher records for deferred commands, scoping, periods and
# who may see someone else's stats. Run once against SQLite and once against MariaDB (run.sh).
# Each case counts in servers of its own (CASE_GUILD, case_id) with users of its own.

STATS_REFUSAL='❌ You can only view your own stats (viewing others needs Administrator or a mod/club role).'

# stats_field NAME: the value of the /stats embed field NAME in REPLY.
stats_field() { json_get "$REPLY" "[f[\"value\"] for f in d[\"json\"][\"embeds\"][0][\"fields\"] if f[\"name\"]==\"$1\"][0]"; }
stats_title() { json_get "$REPLY" 'd["json"]["embeds"][0]["title"]'; }

case_leaderboard_empty_server_is_public() {
    local USER_ID=701
    command_json leaderboard
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "deferred, public"
    fetch_reply || return
    assert_eq "$(json_get "$REPLY" 'd["json"]["content"]')" \
        'No Super Snail analyses recorded in this server yet. Use `/snail analyze` to add yours!' "empty board"
    assert_eq "$(json_get "$REPLY" 'd["json"].get("flags", 0) & 64')" 0 "not ephemeral"
    run_deferred leaderboard '[{"name":"limit","type":4,"value":50}]'
    assert_contains "$CONTENT" "No Super Snail analyses recorded in this server yet" "with a limit"
}

case_leaderboard_is_guild_only() {
    local GUILD= USER_ID=705
    command_json leaderboard
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 4 "refused at once"
    assert_eq "$(json_get "$BODY" 'd["data"]["flags"]')" 64 "ephemeral"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "only works in a server" "refusal text"
}

case_stats_counts_deferred_commands() {
    local USER_ID=702
    command_json stats
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5,"data":{"flags":64}}' "deferred, ephemeral"
    fetch_reply || return
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
    local last t
    last=$(stats_field 'Last Active')
    if [[ $last =~ ^\<t:([0-9]+):R\>$ ]]; then
        t=${BASH_REMATCH[1]}
        assert_eq "$(( t - EPOCHSECONDS < 120 && EPOCHSECONDS - t < 120 ))" 1 "last active is recent: $last"
    else
        fail "last active is not a Discord timestamp: $last"
    fi
    # Every period sees them; another server is another scope.
    run_deferred stats '[{"name":"period","type":3,"value":"1y"}]'
    assert_eq "$(json_get "$(stats_field Commands)" 'd >= 4')" True "1y counts the first /stats too"
    GUILD=$(case_id 10) run_deferred stats
    assert_eq "$(stats_field Commands)" 0 "another server counts nothing"
    assert_eq "$(stats_field 'Last Active')" "Never" "never active there"
}

case_stats_of_someone_else_needs_admin_or_role() {
    local USER_ID=703 MEMBER_PERMS=2048 # send messages only
    local target='[{"name":"user","type":6,"value":"706"}]'
    local resolved='"resolved":{"users":{"706":{"id":"706","username":"tester706","global_name":"Snail Fan"}}}'
    # The target (706) uses three deferred commands here first, for the counts looked at below.
    USER_ID=706 run_deferred consent '[{"name":"status","type":1}]'
    USER_ID=706 run_deferred consent '[{"name":"status","type":1}]'
    USER_ID=706 run_deferred export
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
    CMD=$(json_get "$CMD" 'json.dumps(d | {"member": d["member"] | {"roles": ["949", "950"]}})')
    post_deferred
    assert_eq "$(stats_title)" "📈 Stats for Snail Fan (30d)" "club role sees the target"
    # A role id without a name in the request does not.
    command_json stats "$target" '' "$resolved"
    CMD=$(json_get "$CMD" 'json.dumps(d | {"member": d["member"] | {"roles": ["950"]}})')
    post_deferred
    assert_eq "$CONTENT" "$STATS_REFUSAL" "role name unknown: refused"
}
