# cases_interactive.sh — components, autocomplete and user installs end to end through fake
# Discord and fake OpenAI: /forget's suggestions, its "Delete all?" question answered by a button
# press (type 6, then an edit of the question with the buttons removed), /dream's buttons on the
# delivered image and a stranger's press refused, and a user-installed command used where Slimy
# has no member and no server install. Run against SQLite and MariaDB (run.sh).

# component_json CUSTOM_ID [MESSAGE_JSON] [VALUES_JSON]: sets CMD to a MESSAGE_COMPONENT press in
# the case's server by USER_ID (CASE_USER), on the message MESSAGE_JSON ({"id":"1"} by default),
# and INTERACTION_ID / INTERACTION_TOKEN to its own; VALUES_JSON makes it a select menu's choice.
component_json() {
    SEQ=$((SEQ + 1))
    INTERACTION_ID="12${EPOCHSECONDS}$SEQ"
    INTERACTION_TOKEN="tok-${EPOCHREALTIME/[.,]/}-$SEQ-SECRET"
    local user=${USER_ID:-$CASE_USER} message=${2:-'{"id":"1"}'} data
    if [ -n "${3:-}" ]; then
        data=$(printf '{"custom_id":"%s","component_type":3,"values":%s}' "$1" "$3")
    else
        data=$(printf '{"custom_id":"%s","component_type":2}' "$1")
    fi
    CMD=$(printf '{"type":3,"id":"%s","application_id":"%s","token":"%s","version":1,"guild_id":"%s","channel_id":"%s","context":0,"member":{"user":{"id":"%s","username":"tester%s"},"permissions":"0"},"message":%s,"data":%s}' \
        "$INTERACTION_ID" "$APP_ID" "$INTERACTION_TOKEN" "$CASE_GUILD" "$CASE_CHANNEL" "$user" "$user" \
        "$message" "$data")
}

# consent_and_remember NOTE: consent in the case's server, then one note, as USER_ID; sets
# MEMORY_ID to the note's id ("" when it was not saved).
consent_and_remember() {
    run_deferred consent '[{"name":"set","type":1,"options":[{"name":"allow","type":5,"value":true}]}]'
    run_deferred remember "[{\"name\":\"note\",\"type\":3,\"value\":$(json_get '' 'json.dumps(argv[0])' "$1")}]"
    MEMORY_ID=$(json_get "$REPLY" '[f["value"] for f in d["json"]["embeds"][0]["fields"] if f["name"]=="Memory ID"][0].strip("`")' 2>/dev/null)
}

case_forget_autocomplete_suggests_own_memories() {
    local mine theirs
    USER_ID=621 consent_and_remember "buy snail food"
    mine=$MEMORY_ID
    USER_ID=622 consent_and_remember "snail food for someone else"
    theirs=$MEMORY_ID
    [ -n "$mine" ] && [ -n "$theirs" ] || { fail "memories not saved ($mine / $theirs)"; return; }
    USER_ID=621 command_json forget '[{"name":"id","type":3,"value":"SNAIL","focused":true}]'
    CMD=${CMD/\"type\":2,/\"type\":4,}
    post_signed "$CMD"
    assert_eq "$HTTP_CODE" 200 "status"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 8 "autocomplete answer"
    assert_eq "$(json_get "$BODY" '[(c["name"], c["value"]) for c in d["data"]["choices"]]')" \
        "[('buy snail food', '$mine')]" "only the caller's memory, matched ignoring case"
    # Nothing typed yet: ALL first, then the caller's memories.
    USER_ID=621 command_json forget '[{"name":"id","type":3,"value":"","focused":true}]'
    CMD=${CMD/\"type\":2,/\"type\":4,}
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" '[c["value"] for c in d["data"]["choices"]]')" "['ALL', '$mine']" "ALL and mine"
    assert_eq "$(fake_count "?path_contains=$INTERACTION_TOKEN")" 0 "autocomplete sends nothing to Discord"
}

case_forget_all_asks_then_the_confirm_press_deletes() {
    local USER_ID=623 question
    consent_and_remember "forget me"
    run_deferred forget '[{"name":"id","type":3,"value":"ALL"}]'
    assert_contains "$CONTENT" "Delete **all** your memories in **this server**?" "question"
    assert_eq "$(json_get "$REPLY" '[c["custom_id"] for r in d["json"]["components"] for c in r["components"]]')" \
        "['forget:confirm:623', 'forget:cancel:623']" "two buttons"
    assert_eq "$BODY" '{"type":5,"data":{"flags":64}}' "ephemeral question"
    # Nothing deleted by the question alone.
    run_deferred export
    assert_eq "$(json_get "$REPLY" 'd["parts"][1]["json"]["count"]')" 1 "still stored"
    question=$(json_get '' 'json.dumps({"id":"31","content":argv[0],"flags":64})' "$CONTENT")
    # Someone else's press: refused at once, nothing deleted.
    USER_ID=624 component_json forget:confirm:623 "$question"
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" '(d["type"], d["data"]["flags"])')" "(4, 64)" "refusal is an ephemeral message"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "That question was for someone else" "refusal"
    # The owner's press: type 6 now, then the question edited with the result and no buttons.
    component_json forget:confirm:623 "$question"
    post_signed "$CMD"
    assert_eq "$HTTP_CODE" 200 "status"
    assert_eq "$BODY" '{"type":6}' "deferred update"
    fetch_reply || return
    assert_eq "$(json_get "$REPLY" 'd["method"]')" PATCH "method"
    assert_eq "$(json_get "$REPLY" 'd["path"]')" "/api/v10/webhooks/$APP_ID/$INTERACTION_TOKEN/messages/@original" "edits the question"
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "🧽 All Memories Deleted" "result"
    assert_contains "$(json_get "$REPLY" 'd["json"]["embeds"][0]["description"]')" "**1 memory**" "count"
    assert_eq "$(json_get "$REPLY" 'd["json"]["components"]')" "[]" "buttons removed"
    run_deferred export
    assert_contains "$CONTENT" "No memories found" "deleted"
}

case_dream_buttons_are_the_owners() {
    local USER_ID=625 reroll message
    run_deferred dream '[{"name":"prompt","type":3,"value":"a snail on the moon"},{"name":"style","type":3,"value":"anime"}]'
    assert_contains "$CONTENT" "**Prompt:** a snail on the moon" "dream reply"
    assert_contains "$(json_get "$REPLY" 'd["headers"]["content-type"]')" "multipart/form-data" "with the image"
    reroll=$(json_get "$REPLY" 'd["json"]["components"][0]["components"][0]["custom_id"]')
    assert_eq "$reroll" "dream:reroll:625:anime" "reroll button"
    assert_eq "$(json_get "$REPLY" '[o["value"] for o in d["json"]["components"][1]["components"][0]["options"] if o.get("default")]')" \
        "['anime']" "style menu shows the style used"
    message=$(json_get '' 'json.dumps({"id":"41","content":argv[0]})' "$CONTENT")
    # A stranger's press: refused at once, no image asked for.
    local before
    before=$(ai_count '?path_contains=images/generations')
    USER_ID=626 component_json "$reroll" "$message"
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" '(d["type"], d["data"]["flags"])')" "(4, 64)" "ephemeral refusal"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "Only the person who dreamed this" "refusal text"
    # The owner, within /dream's cooldown: the cooldown's words.
    component_json "$reroll" "$message"
    post_signed "$CMD"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "before using \`/dream\` again" "shared cooldown"
    assert_eq "$(ai_count '?path_contains=images/generations')" "$before" "no image requested"
}

case_user_install_works_without_a_member() {
    # A DM between users (context 2), Slimy installed by the user only: no member, no guild.
    local USER_ID=627 GUILD=
    command_json snail '[{"name":"calc","type":1,"options":[{"name":"tier","type":4,"value":5},{"name":"levels","type":3,"value":"0,0,0,0,0,0,0,0"}]}]' \
        '"authorizing_integration_owners":{"1":"627"}'
    CMD=${CMD/\"context\":1/\"context\":2}
    post_signed "$CMD"
    assert_eq "$HTTP_CODE" 200 "status"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 4 "immediate"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "**Supersnail T5**" "calculated"
    # A server that never added Slimy: the server-only /mode is refused there.
    GUILD=$CASE_GUILD command_json mode '[{"name":"list","type":1}]' '"authorizing_integration_owners":{"1":"627"}'
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" '(d["type"], d["data"]["flags"])')" "(4, 64)" "ephemeral refusal"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "only works in servers that have added Slimy" "mode refused"
}
