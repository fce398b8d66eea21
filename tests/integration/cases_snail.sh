# cases_snail.sh — /snail analyze, sheet and sheet-setup, and the "Analyze Snail Stats" message
# command, end to end. Fake OpenAI also serves the screenshots (GET /files/...), and lib.sh starts
# the server with ATTACHMENT_HOSTS allowing exactly http://127.0.0.1:$AI_PORT, so every download
# attempt shows up in fake OpenAI's request log and a refused URL must leave no trace there.

ANALYZE_OPTIONS='[{"name":"analyze","type":1,"options":[{"name":"screenshot","type":11,"value":"2001"}]}]'
VISION_TEXT='Analyze this Super Snail screenshot. Return ONLY the JSON object.'

# resolved_attachment URL [CONTENT_TYPE] [SIZE]: the data.resolved field for attachment 2001.
resolved_attachment() {
    printf '"resolved":{"attachments":{"2001":{"id":"2001","filename":"s.png","content_type":"%s","size":%s,"url":"%s","proxy_url":"%s"}}}' \
        "${2:-image/png}" "${3:-82}" "$1" "$1"
}
# analyze URL [CONTENT_TYPE] [SIZE]: /snail analyze with that attachment; sets REPLY and CONTENT.
analyze() { run_deferred snail "$ANALYZE_OPTIONS" '' "$(resolved_attachment "$@")"; }
# file_requests: how many downloads fake OpenAI saw (any path under /files/).
file_requests() { ai_count '?path_contains=/files/'; }
chat_requests() { ai_count '?path_contains=chat/completions'; }
embed_get() { json_get "$REPLY" "$(printf 'd["json"]["embeds"][0]%s' "$1")"; }

# message_command NAME TARGET_MESSAGE_JSON: a MESSAGE context-menu command on message 991; sets CMD.
message_command() {
    command_json "$1" "" '' "$(printf '"target_id":"991","resolved":{"messages":{"991":%s}}' "$2")"
    CMD=$(json_get "$CMD" 'json.dumps(d | {"data": d["data"] | {"type": 3}})')
}
# post_deferred_and_wait: posts CMD, waits for its PATCH, sets REPLY and CONTENT.
post_deferred_and_wait() {
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "deferred public"
    fetch_reply
}
# refused_at_once: posts a /snail analyze of the resolved attachment "$@" (as analyze does) and
# checks it was refused before admission: an immediate ephemeral answer; sets CONTENT to its text.
refused_at_once() {
    command_json snail "$ANALYZE_OPTIONS" '' "${1:+$(resolved_attachment "$@")}"
    post_immediate_ephemeral
}
# post_immediate_ephemeral: posts CMD; checks the answer is type 4, ephemeral; sets CONTENT.
post_immediate_ephemeral() {
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" '(d["type"], d["data"]["flags"])')" "(4, 64)" "refused at once, ephemeral"
    CONTENT=$(json_get "$BODY" 'd["data"]["content"]')
}

# check_vision_request: the last chat request is the vision call, with the served PNG as a data URI.
check_vision_request() { json_get "$(ai_requests '?path_contains=chat/completions')" 'vision_problems(d, argv[0])' "$VISION_TEXT"; }
# vision_problems(requests, vision_text), defined in the JSON helper: what is wrong with the last
# of the chat requests, or "ok".
json_def <<'PY'
def vision_problems(requests, vision_text):
    import fake_openai
    req = requests[-1]["json"]
    problems = []
    if req.get("model") != "gpt-4o": problems.append("model %r, expected VISION_MODEL's default gpt-4o" % req.get("model"))
    if req.get("max_tokens") != 1000: problems.append("max_tokens %r" % req.get("max_tokens"))
    msgs = req.get("messages", [])
    if [m.get("role") for m in msgs] != ["system", "user"]: problems.append("roles %r" % [m.get("role") for m in msgs])
    elif "JSON" not in msgs[0]["content"] or "pentagon" not in msgs[0]["content"]: problems.append("system prompt lacks the JSON shape")
    else:
        parts = msgs[1]["content"]
        texts = [p["text"] for p in parts if p.get("type") == "text"]
        images = [p["image_url"] for p in parts if p.get("type") == "image_url"]
        if texts != [vision_text]: problems.append("user text %r" % texts)
        if len(images) != 1: problems.append("%d image parts" % len(images))
        else:
            url = images[0]["url"]
            prefix = "data:image/png;base64,"
            if not url.startswith(prefix): problems.append("image url %r..." % url[:40])
            elif base64.b64decode(url[len(prefix):], validate=True) != fake_openai.PNG: problems.append("the image is not the served PNG")
            if images[0].get("detail") != "high": problems.append("detail %r" % images[0].get("detail"))
    return "; ".join(problems) or "ok"
PY

case_snail_analyze_reads_and_saves_a_screenshot() {
    local USER_ID=901 url="$AI_URL/files/snail.png"
    analyze "$url"
    assert_eq "$CONTENT" "✅ Screenshot analyzed!" "content"
    assert_eq "$(embed_get '["title"]')" "📊 Super Snail Analysis" "title"
    assert_eq "$(embed_get '["color"]')" 65280 "green"
    assert_eq "$(embed_get '["description"]')" "Automated analysis complete. Missing stats: TECH. fake vision" "summary"
    assert_eq "$(embed_get '["image"]["url"]')" "$url" "the screenshot is shown"
    assert_eq "$(json_get "$REPLY" '[(f["name"], f["inline"]) for f in d["json"]["embeds"][0]["fields"]]')" \
        "[('Stats', True), ('Confidence', True), ('Equipment', True)]" "fields"
    local stats
    stats=$(embed_get '["fields"][0]["value"]')
    assert_eq "$stats" "$(printf '**Primary**\nHP: 1,234,567 • ATK: 89,012 • DEF: 34,567 • RUSH: 1,234\n\n**Pentagon**\nFAME: 5,678 • TECH: ??? • ART: 910 • CIV: 1,112 • FTH: 1,314')" "stats field"
    assert_contains "$stats" "HP: 1,234,567" "thousands separators"
    assert_contains "$stats" "TECH: ???" "unknown stat"
    assert_eq "$(embed_get '["fields"][1]["value"]')" "$(printf '✅ HIGH\nNotes: fake vision')" "confidence"
    assert_eq "$(embed_get '["fields"][2]["value"]')" "$(printf '• WEAPON: Laser Sword\n• ACCESSORY: Lucky Charm')" "equipment"
    assert_eq "$(embed_get '["footer"]["text"]')" "Stats saved • Analyzed with gpt-4o" "footer"
    assert_eq "$(check_vision_request)" ok "vision request"
    assert_eq "$(json_get "$(ai_requests '?path_contains=/files/')" '[(r["method"], r["path"]) for r in d]')" \
        "[('GET', '/files/snail.png')]" "one download"

    # The row is in the database: /snail sheet shows it (ephemeral).
    run_deferred snail '[{"name":"sheet","type":1}]'
    assert_eq "$BODY" '{"type":5,"data":{"flags":64}}' "deferred ephemeral"
    assert_eq "$(embed_get '["title"]')" "🐌 Super Snail Stats - tester901" "sheet title"
    assert_eq "$(embed_get '["color"]')" 44678 "0x00AE86"
    assert_eq "$(embed_get '["description"]')" "Showing 1 most recent entry" "count"
    assert_eq "$(embed_get '["fields"][0]["name"][:5]')" "📅 <t:" "a Discord timestamp"
    assert_eq "$(embed_get '["fields"][0]["value"]')" \
        "HP: 1,234,567 • ATK: 89,012 • DEF: 34,567 • RUSH: 1,234 • FAME: 5,678 • TECH: ??? • ART: 910 • CIV: 1,112 • FTH: 1,314" "row"
    assert_eq "$(fake_count "?path_contains=$INTERACTION_TOKEN")" 1 "one PATCH"
}

case_snail_sheet_for_another_user_and_limits() {
    local USER_ID=903
    analyze "$AI_URL/files/snail.png"
    assert_eq "$CONTENT" "✅ Screenshot analyzed!" "first analysis"
    sleep 5.1 # part of the test: a second analysis by the same user, once the 5 s cooldown is over
    analyze "$AI_URL/files/snail.png"
    assert_eq "$CONTENT" "✅ Screenshot analyzed!" "second analysis"
    # Another user asks for 903's stats with limit 1; the name comes from data.resolved.users.
    USER_ID=904 run_deferred snail '[{"name":"sheet","type":1,"options":[{"name":"user","type":6,"value":"903"},{"name":"limit","type":4,"value":1}]}]' \
        '' '"resolved":{"users":{"903":{"id":"903","username":"snail_fan","global_name":"Snail Fan"}}}'
    assert_eq "$(embed_get '["title"]')" "🐌 Super Snail Stats - Snail Fan" "global_name"
    assert_eq "$(embed_get '["description"]')" "Showing 1 most recent entry" "limit 1"
    USER_ID=904 run_deferred snail '[{"name":"sheet","type":1,"options":[{"name":"user","type":6,"value":"903"}]}]' \
        '' '"resolved":{"users":{"903":{"id":"903","username":"snail_fan","global_name":null}}}'
    assert_eq "$(embed_get '["title"]')" "🐌 Super Snail Stats - snail_fan" "username when no global_name"
    assert_eq "$(embed_get '["description"]')" "Showing 2 most recent entries" "both rows"
    # Nobody analysed anything for 905 here: a plain text, with the name's markdown escaped.
    USER_ID=904 run_deferred snail '[{"name":"sheet","type":1,"options":[{"name":"user","type":6,"value":"905"}]}]' \
        '' '"resolved":{"users":{"905":{"id":"905","username":"no_stats","global_name":null}}}'
    assert_eq "$CONTENT" "$(printf '📊 No saved stats found for **no\\_stats** yet.\n\nUse `/snail analyze` to record new data.')" "none"
    # Rows belong to the scope they were made in: a DM sees none of the server's.
    GUILD= USER_ID=903 run_deferred snail '[{"name":"sheet","type":1}]'
    assert_contains "$CONTENT" "No saved stats found for **tester903**" "the DM is its own scope"
}

case_snail_sheet_setup_explains_the_database() {
    command_json snail '[{"name":"sheet-setup","type":1}]'
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 4 "immediate"
    assert_eq "$(json_get "$BODY" 'd["data"]["flags"]')" 64 "ephemeral"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "stored in Slimy's database" "no Sheets"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "/snail sheet" "points to /snail sheet"
}

case_snail_analyze_refuses_a_non_image() {
    local USER_ID=910
    # Refused from data.resolved before admission: at once, ephemeral, no cooldown used.
    refused_at_once "$AI_URL/files/notimage.txt" text/plain 21
    assert_eq "$CONTENT" "⚠️ Please provide an image file (PNG, JPG, WEBP)." "not an image"
    assert_eq "$(file_requests)" 0 "nothing downloaded"
    assert_eq "$(chat_requests)" 0 "no vision call"
    assert_eq "$(fake_count)" 0 "nothing sent to Discord"
    # An attachment id that is not in data.resolved is no image either (the same user: no cooldown).
    refused_at_once
    assert_eq "$CONTENT" "⚠️ Please provide an image file (PNG, JPG, WEBP)." "missing attachment"
}

case_snail_analyze_refuses_hosts_outside_the_allowlist() {
    local USER_ID i=0 url
    # Each of these would reach fake OpenAI (or nothing at all) if the check were loose.
    for url in "http://localhost:$AI_PORT/files/snail.png" \
        "https://127.0.0.1:$AI_PORT/files/snail.png" \
        "http://127.0.0.1:$((AI_PORT + 1))/files/snail.png" \
        "http://127.0.0.2:$AI_PORT/files/snail.png" \
        "http://127.0.0.1:$AI_PORT@localhost:$AI_PORT/files/snail.png" \
        "http://user@127.0.0.1:$AI_PORT/files/snail.png" \
        "https://evil.example/x.png" \
        "file:///etc/passwd" \
        "127.0.0.1:$AI_PORT/files/snail.png"; do
        i=$((i + 1))
        USER_ID=92$i
        analyze "$url"
        assert_eq "$CONTENT" "❌ I can only read images uploaded to Discord." "refused: $url"
    done
    assert_eq "$(file_requests)" 0 "no download attempted"
    assert_eq "$(chat_requests)" 0 "no vision call"
    assert_contains "$(cat "$SLIMY_LOG")" "attachment URL refused" "logged"
}

case_snail_analyze_refuses_an_oversized_download() {
    local USER_ID=930
    # Discord's size says 82 bytes, but the file is 20 MB: the announced Content-Length stops it.
    analyze "$AI_URL/files/big.bin?size=20000000" image/png 82
    assert_contains "$CONTENT" "too big for me to analyze" "clear message"
    assert_contains "$CONTENT" "10 MB" "names the limit"
    assert_eq "$(json_get "$(ai_requests '?path_contains=/files/')" '[(r["path"], r["query"]) for r in d]')" \
        "[('/files/big.bin', 'size=20000000')]" "one attempt"
    assert_eq "$(chat_requests)" 0 "no vision call"
    # When Discord already says it is too big, it is refused at once and nothing is downloaded.
    USER_ID=931 refused_at_once "$AI_URL/files/big.bin?size=20000000" image/png 20000000
    assert_contains "$CONTENT" "too big for me to analyze" "declared size"
    assert_eq "$(file_requests)" 1 "no second download"
}

case_snail_analyze_invalid_vision_json_is_a_clear_failure() {
    local USER_ID=940
    ai_script '{"path_contains":"chat/completions","responses":[{"content":"not json"}]}'
    analyze "$AI_URL/files/snail.png"
    assert_eq "$CONTENT" "❌ Analysis failed: the vision model returned invalid JSON." "invalid JSON"
    assert_eq "$(chat_requests)" 1 "asked once"
    run_deferred snail '[{"name":"sheet","type":1}]'
    assert_contains "$CONTENT" "No saved stats found" "nothing stored"
    # An OpenAI failure is worded too.
    ai_script '{"path_contains":"chat/completions","responses":[{"status":400,"body":{"error":{"message":"image too small","type":"invalid_request_error","param":null,"code":null}}}]}'
    USER_ID=941 analyze "$AI_URL/files/snail.png"
    assert_contains "$CONTENT" "❌ Analysis failed: image too small" "upstream error"
}

case_analyze_snail_stats_message_command() {
    local USER_ID=950
    message_command "Analyze Snail Stats" "$(printf '{"id":"991","content":"look at my snail","author":{"id":"1","username":"someone"},"attachments":[{"id":"3001","filename":"notes.txt","content_type":"text/plain; charset=utf-8","size":21,"url":"%s/files/notimage.txt","proxy_url":"x"},{"id":"3002","filename":"s.png","content_type":"image/png","size":82,"url":"%s/files/snail.png","proxy_url":"x"}]}' "$AI_URL" "$AI_URL")"
    post_deferred_and_wait
    assert_eq "$CONTENT" "✅ Screenshot analyzed!" "analysed the image attachment"
    assert_eq "$(embed_get '["image"]["url"]')" "$AI_URL/files/snail.png" "the first image"
    assert_eq "$(json_get "$(ai_requests '?path_contains=/files/')" '[r["path"] for r in d]')" "['/files/snail.png']" "only the image"
    assert_eq "$(check_vision_request)" ok "vision request"
    # A message without an image: a clear answer at once (ephemeral) and no download.
    USER_ID=951 message_command "Analyze Snail Stats" '{"id":"991","content":"no pictures","author":{"id":"1","username":"someone"},"attachments":[]}'
    post_immediate_ephemeral
    assert_eq "$CONTENT" "⚠️ That message has no image attachment to analyze." "no image"
    assert_eq "$(file_requests)" 1 "no further download"
}

case_leaderboard_ranks_saved_analyses() {
    local url="$AI_URL/files/snail.png"
    USER_ID=961 analyze "$url"
    USER_ID=962 analyze "$url"
    USER_ID=964 GUILD=$(case_id 10) analyze "$url" # in another server: not on this board
    sleep 5.1 # part of the test: a second analysis by 961 (ranked first), once the 5 s cooldown is over
    USER_ID=961 analyze "$url"
    USER_ID=963 run_deferred leaderboard
    local board
    board=$(json_get "$REPLY" 'd["json"]["embeds"][0]["description"]')
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "🏆 Super Snail Leaderboard" "title"
    assert_contains "$board" "🥇 **1.** tester961 - 2 analyses (Last: <t:" "first place"
    assert_contains "$board" "🥈 **2.** tester962 - 1 analysis (Last: <t:" "second place"
    assert_not_contains "$board" "tester964" "other servers' analyses stay out"
}
