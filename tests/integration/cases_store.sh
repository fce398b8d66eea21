# cases_store.sh — the commands that live on the store, end to end through fake Discord:
# consent → remember → export → forget, scoping, idempotency, /mode and /personality-config
# permissions. Run once against SQLite and once against MariaDB (run.sh). Servers, channels and
# categories are the case's own ids (CASE_GUILD, CASE_CHANNEL, case_id: see lib.sh).

ON='✅' OFF='❌'
state() { # state A C P NP S RU RP (1/0 each) → the /mode state line
    local names=(admin chat personality no_personality super_snail rating_unrated rating_pg13) out= i=0
    for v in "$@"; do
        [ $i -gt 0 ] && out+=" | "
        out+="${names[$i]}: $([ "$v" = 1 ] && echo "$ON" || echo "$OFF")"
        i=$((i + 1))
    done
    printf '%s' "$out"
}

case_memory_lifecycle() {
    local USER_ID=601
    run_deferred remember '[{"name":"note","type":3,"value":"first try"}]'
    assert_contains "$CONTENT" "Memory consent required" "remember without consent"
    run_deferred consent '[{"name":"set","type":1,"options":[{"name":"allow","type":5,"value":true}]}]'
    assert_eq "$CONTENT" "✅ Memory ON for this server." "consent set"
    run_deferred consent '[{"name":"status","type":1}]'
    assert_eq "$CONTENT" "✅ Memory ON here." "consent status"
    # Part of the test: the refused /remember above started its 3 s cooldown, which must expire
    # before the same user remembers for real (nothing observable says when it has).
    sleep 3.1
    local note='🐌 snail'"'"'s "quoted" \ note'
    run_deferred remember "[{\"name\":\"note\",\"type\":3,\"value\":$(json_get '' 'json.dumps(argv[0])' "$note")},{\"name\":\"tags\",\"type\":3,\"value\":\" a, b ,,\"}]"
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "📝 Memory Saved" "saved embed"
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["description"]')" "**Note:** $note" "note echoed"
    run_deferred export
    assert_contains "$(json_get "$REPLY" 'd["headers"]["content-type"]')" "multipart/form-data" "export is a file"
    assert_eq "$(json_get "$REPLY" 'd["parts"][1]["name"]')" "files[0]" "file part"
    local doc
    doc=$(json_get "$REPLY" 'json.dumps(d["parts"][1]["json"])')
    assert_eq "$(json_get "$doc" 'd["count"]')" 1 "exported count"
    assert_eq "$(json_get "$doc" 'd["memories"][0]["note"]')" "$note" "exported note verbatim"
    assert_eq "$(json_get "$doc" 'd["memories"][0]["tags"]')" "['a', 'b']" "exported tags"
    assert_eq "$(json_get "$REPLY" 'd["json"]["attachments"][0]["filename"]')" "slimy-memories-601.json" "file name"
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "📦 Memory Export" "summary embed"
    # ALL asks first; the "Delete all" button (a component press, cases_interactive.sh) deletes.
    run_deferred forget '[{"name":"id","type":3,"value":"all"}]'
    assert_contains "$CONTENT" "Delete **all** your memories" "forget all asks"
    local confirm
    confirm=$(json_get "$REPLY" 'd["json"]["components"][0]["components"][0]["custom_id"]')
    assert_eq "$confirm" "forget:confirm:601" "confirm button"
    SEQ=$((SEQ + 1))
    INTERACTION_ID="12${EPOCHSECONDS}$SEQ" INTERACTION_TOKEN="tok-${EPOCHREALTIME/[.,]/}-$SEQ-SECRET"
    post_signed "$(printf '{"type":3,"id":"%s","application_id":"%s","token":"%s","version":1,"guild_id":"%s","channel_id":"%s","member":{"user":{"id":"601","username":"tester601"},"permissions":"0"},"message":{"id":"1"},"data":{"custom_id":"%s","component_type":2}}' \
        "$INTERACTION_ID" "$APP_ID" "$INTERACTION_TOKEN" "$CASE_GUILD" "$CASE_CHANNEL" "$confirm")"
    assert_eq "$BODY" '{"type":6}' "confirm acknowledged"
    fetch_reply
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "🧽 All Memories Deleted" "forget all"
    assert_contains "$(json_get "$REPLY" 'd["json"]["embeds"][0]["description"]')" "**1 memory**" "count deleted"
    run_deferred export
    assert_contains "$CONTENT" "No memories found" "export after forget"
}

case_memories_are_scoped_to_user_and_server() {
    local USER_ID=602 id
    run_deferred consent '[{"name":"set","type":1,"options":[{"name":"allow","type":5,"value":true}]}]'
    run_deferred remember '[{"name":"note","type":3,"value":"only mine"}]'
    id=$(json_get "$REPLY" '[f["value"] for f in d["json"]["embeds"][0]["fields"] if f["name"]=="Memory ID"][0].strip("`")')
    # Another user in the same server sees nothing and cannot delete it.
    USER_ID=603 run_deferred export
    assert_contains "$CONTENT" "No memories found" "other user's export"
    USER_ID=603 run_deferred forget "[{\"name\":\"id\",\"type\":3,\"value\":\"$id\"}]"
    assert_contains "$CONTENT" "not found or you don't have permission" "other user's forget"
    # The same user in another server sees nothing either; a DM is its own scope.
    GUILD=$(case_id 10) run_deferred export
    assert_contains "$CONTENT" "No memories found" "other server"
    GUILD= run_deferred export
    assert_contains "$CONTENT" "No memories found for this DM" "DM scope"
    # Still there for its owner, who can delete it by id.
    run_deferred forget "[{\"name\":\"id\",\"type\":3,\"value\":\"$id\"}]"
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "✅ Memory Deleted" "owner deletes"
}

case_memories_in_a_dm_work() {
    local USER_ID=604 GUILD=
    run_deferred consent '[{"name":"set","type":1,"options":[{"name":"allow","type":5,"value":true}]}]'
    assert_eq "$CONTENT" "✅ Memory ON for this DM." "consent in DM"
    run_deferred remember '[{"name":"note","type":3,"value":"dm note"}]'
    run_deferred export
    assert_eq "$(json_get "$REPLY" 'd["parts"][1]["json"]["memories"][0]["note"]')" "dm note" "DM export"
    GUILD=$CASE_GUILD run_deferred consent '[{"name":"status","type":1}]'
    assert_eq "$CONTENT" "❌ Memory OFF here." "DM consent is not server consent"
}

case_duplicate_interaction_runs_once() {
    local USER_ID=605
    run_deferred consent '[{"name":"set","type":1,"options":[{"name":"allow","type":5,"value":true}]}]'
    command_json remember '[{"name":"note","type":3,"value":"once"}]'
    local same="$CMD" id="$INTERACTION_ID"
    post_signed "$same"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN"
    # Part of the test: past the 3 s cooldown the same interaction arrives again, so that only the
    # dedupe (not the cooldown) can stop it.
    sleep 3.1
    post_signed "$same"
    assert_eq "$BODY" '{"type":5,"data":{"flags":64}}' "a duplicate gets the same deferred answer"
    wait_until 5 log_has "$SLIMY_LOG" '"msg":"duplicate interaction: already accepted, not run again","interaction_id":"'"$id" ||
        fail "the duplicate was not logged"
    # Proving a second run does NOT happen needs a window: a run writes to Discord well within 1.5 s.
    sleep 1.5
    assert_eq "$(fake_count "?path_contains=$INTERACTION_TOKEN")" 1 "the duplicate wrote nothing to Discord"
    run_deferred export
    assert_eq "$(json_get "$REPLY" 'd["parts"][1]["json"]["count"]')" 1 "one memory"
}

case_mode_needs_manage_server() {
    local MEMBER_PERMS=2048 # send messages only
    command_json mode '[{"name":"set","type":1,"options":[{"name":"profile","type":3,"value":"chat|personality|rating_pg13"}]}]'
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 4 "refused at once"
    assert_eq "$(json_get "$BODY" 'd["data"]["flags"]')" 64 "ephemeral"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "Manage Server" "refusal text"
}

case_mode_set_and_view_with_inheritance() {
    local MEMBER_PERMS=32 # Manage Guild is enough
    local ch=$CASE_CHANNEL category
    category=$(case_id 10)
    local channel='"channel":{"id":"'$ch'","type":0,"parent_id":"'$category'","name":"general"}'
    run_deferred mode '[{"name":"set","type":1,"options":[{"name":"profile","type":3,"value":"chat|no_personality|rating_pg13"}]}]' "$channel"
    assert_contains "$CONTENT" "📂 Applied **Chat · No Personality · Rated PG-13** to <#$ch>." "applied"
    assert_contains "$CONTENT" "**Direct:** $(state 0 1 1 1 0 0 1)" "direct after set (a rating brings personality)"
    run_deferred mode '[{"name":"set","type":1,"options":[{"name":"profile","type":3,"value":"super_snail|personality|rating_unrated"},{"name":"category","type":7,"value":"'$category'"}]}]' \
        "$channel" '"resolved":{"channels":{"'$category'":{"id":"'$category'","type":4,"name":"Games"}}}'
    assert_contains "$CONTENT" "to category **Games**." "category target"
    run_deferred mode '[{"name":"view","type":1}]' "$channel"
    assert_contains "$CONTENT" "📋 Mode configuration for <#$ch>" "view header"
    assert_contains "$CONTENT" "**Direct:** $(state 0 1 1 1 0 0 1)" "view direct"
    assert_contains "$CONTENT" "• category <#$category>: $(state 0 0 1 0 1 1 0)" "view inherited"
    assert_contains "$CONTENT" "**Effective:** $(state 0 1 1 1 1 1 1)" "view effective"
    run_deferred mode '[{"name":"list","type":1,"options":[{"name":"filter","type":3,"value":"super_snail"}]}]'
    assert_contains "$CONTENT" "📋 Mode configurations (Super Snail enabled)" "list header"
    assert_contains "$CONTENT" "category <#$category>" "list shows category"
    assert_not_contains "$CONTENT" "<#$ch>" "filter excludes the channel"
    run_deferred mode '[{"name":"clear","type":1}]' "$channel"
    assert_eq "$CONTENT" "✅ All modes cleared from <#$ch>" "clear"
    run_deferred mode '[{"name":"view","type":1}]' "$channel"
    assert_contains "$CONTENT" "**Direct:** $(state 0 0 0 0 0 0 0)" "cleared"
}

case_personality_adjust_needs_admin() {
    local MEMBER_PERMS=32 # Manage Guild but not Administrator
    command_json personality-config '[{"name":"adjust","type":1,"options":[{"name":"parameter","type":3,"value":"enthusiasm"},{"name":"value","type":4,"value":7}]}]'
    post_signed "$CMD"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "requires Administrator" "non-admin refused"
    MEMBER_PERMS=8 run_deferred personality-config '[{"name":"adjust","type":1,"options":[{"name":"parameter","type":3,"value":"enthusiasm"},{"name":"value","type":4,"value":7}]}]'
    assert_contains "$CONTENT" "Adjusted **Enthusiasm Level** to **7/10**" "admin adjusts"
    MEMBER_PERMS=8 run_deferred personality-config '[{"name":"view","type":1}]'
    assert_contains "$(json_get "$REPLY" '[f["value"] for f in d["json"]["embeds"][0]["fields"] if f["name"]=="Active Adjustments"][0]')" \
        "**enthusiasm** → 7/10" "persisted"
}
