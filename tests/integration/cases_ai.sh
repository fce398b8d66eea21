# cases_ai.sh — the AI commands end to end through fake Discord and fake OpenAI: /chat (persona,
# modes, history, reset, image intent), /dream, "Ask Slimy", and OpenAI failures becoming a
# friendly message within the deadline.

# persona_line TITLE: the first bullet of a bot-personality.md section (a marker to find in prompts).
persona_line() {
    local line seen=0
    while IFS= read -r line; do
        if [ "$seen" = 1 ]; then
            [[ $line == "- "* ]] && { printf '%s\n' "$line"; return 0; }
        elif [ "$line" = "## $1" ]; then
            seen=1
        fi
    done <"$ROOT/bot-personality.md"
    echo "persona_line: no bullet under '## $1'" >&2
    return 1
}
last_chat_request() { json_get "$(ai_requests '?path_contains=chat/completions')" 'json.dumps(d[-1]["json"])'; }

case_chat_answers_with_persona_and_history() {
    local USER_ID=801 req
    run_deferred chat '[{"name":"message","type":3,"value":"hello there"}]'
    assert_eq "$BODY" '{"type":5}' "deferred public"
    assert_eq "$CONTENT" "$(printf '**tester801:** hello there\n\n**slimy.ai:** fake reply #1 to: hello there')" "framed reply"
    assert_eq "$(json_get "$REPLY" 'd["json"]["allowed_mentions"]')" "{'parse': []}" "no pings from model text"
    req=$(ai_requests '?path_contains=chat/completions')
    assert_eq "$(json_get "$req" 'd[0]["headers"]["authorization"]')" "Bearer sk-test-SECRET" "bearer key"
    req=$(last_chat_request)
    assert_eq "$(json_get "$req" 'd["model"]')" fake-chat "OPENAI_MODEL"
    assert_eq "$(json_get "$req" '[m["role"] for m in d["messages"]]')" "['system', 'user']" "first turn"
    assert_contains "$(json_get "$req" 'd["messages"][0]["content"]')" "$(persona_line 'Tone: PG-13')" "PG-13 is the default tone"
    assert_not_contains "$(json_get "$req" 'd["messages"][0]["content"]')" "$(persona_line 'Tone: Professional')" "not professional"
    assert_eq "$(json_get "$req" '(d["max_tokens"], d["temperature"])')" "(1000, 0.8)" "sampling"
    # Part of the test: the history is the same user's, so each turn waits out the 5 s /chat cooldown.
    sleep 5.1
    run_deferred chat '[{"name":"message","type":3,"value":"and again"}]'
    req=$(last_chat_request)
    assert_eq "$(json_get "$req" '[(m["role"], m["content"]) for m in d["messages"][1:]]')" \
        "[('user', 'hello there'), ('assistant', 'fake reply #1 to: hello there'), ('user', 'and again')]" "history sent"
    sleep 5.1 # the same user again, past the cooldown (see above)
    run_deferred chat '[{"name":"message","type":3,"value":"fresh start"},{"name":"reset","type":5,"value":true}]'
    assert_eq "$(json_get "$(last_chat_request)" '[m["role"] for m in d["messages"]]')" "['system', 'user']" "reset clears history"
    # The token and the API key never reach the logs.
    assert_not_contains "$(cat "$SLIMY_LOG" "$WORK"/logs/*.log)" "sk-test-SECRET" "API key in logs"
}

case_chat_cooldown_is_immediate() {
    local USER_ID=802
    run_deferred chat '[{"name":"message","type":3,"value":"one"}]'
    command_json chat '[{"name":"message","type":3,"value":"two"}]'
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 4 "answered at once"
    assert_eq "$(json_get "$BODY" 'd["data"]["flags"]')" 64 "ephemeral"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "Slow down" "cooldown text"
}

case_chat_prompt_follows_channel_modes() {
    local USER_ID=803 channel='"channel":{"id":"'$CASE_CHANNEL'","type":0}'
    MEMBER_PERMS=8 run_deferred mode '[{"name":"set","type":1,"options":[{"name":"profile","type":3,"value":"chat|no_personality|rating_pg13"}]}]' "$channel"
    run_deferred chat '[{"name":"message","type":3,"value":"status report"}]' "$channel"
    local system
    system=$(json_get "$(last_chat_request)" 'd["messages"][0]["content"]')
    assert_contains "$system" "$(persona_line 'Tone: Professional')" "professional layer"
    assert_not_contains "$system" "$(persona_line 'Catchphrases')" "no catchphrases"
    assert_contains "$CONTENT" "**slimy.ai (no personality):**" "persona name"
    MEMBER_PERMS=8 run_deferred mode '[{"name":"set","type":1,"options":[{"name":"profile","type":3,"value":"chat|personality|rating_unrated"}]}]' "$channel"
    # Another user of the channel (the first is still in their /chat cooldown): the modes are the channel's.
    USER_ID=813 run_deferred chat '[{"name":"message","type":3,"value":"say something"}]' "$channel"
    system=$(json_get "$(last_chat_request)" 'd["messages"][0]["content"]')
    assert_contains "$system" "$(persona_line 'Tone: Unrated')" "unrated layer"
    assert_not_contains "$system" "$(persona_line 'Tone: PG-13')" "not PG-13"
    assert_contains "$CONTENT" "**slimy.ai:**" "personality name"
}

case_chat_image_intent_makes_an_image() {
    local USER_ID=804
    run_deferred chat '[{"name":"message","type":3,"value":"draw a snail wearing a tiny hat"}]'
    assert_eq "$CONTENT" "🖼️ Prompt: draw a snail wearing a tiny hat" "image reply"
    assert_contains "$(json_get "$REPLY" 'd["parts"][1]["filename"]')" "slimy-auto-image-" "file name"
    assert_eq "$(json_get "$REPLY" 'd["parts"][1]["head_hex"][:16]')" "89504e470d0a1a0a" "a PNG"
    local req
    req=$(ai_requests '?path_contains=images/generations')
    assert_contains "$(json_get "$req" 'd[0]["json"]["prompt"]')" "general audience" "default rating guideline"
    assert_eq "$(ai_count '?path_contains=chat/completions')" 0 "no chat call"
}

case_dream_attaches_a_png() {
    local USER_ID=805
    run_deferred dream '[{"name":"prompt","type":3,"value":"  a snail  "},{"name":"style","type":3,"value":"neon"}]'
    assert_eq "$CONTENT" "$(printf '🌟 **Dream Created!**\n**Style:** Neon Dreams\n**Prompt:** a snail')" "dream reply"
    assert_contains "$(json_get "$REPLY" 'd["json"]["attachments"][0]["filename"]')" "dream-neon-" "file name"
    assert_eq "$(json_get "$REPLY" 'd["parts"][1]["head_hex"][:16]')" "89504e470d0a1a0a" "a PNG"
    local prompt
    prompt=$(json_get "$(ai_requests '?path_contains=images/generations')" 'd[0]["json"]["prompt"]')
    assert_contains "$prompt" "a snail" "prompt sent"
    assert_contains "$prompt" "neon" "style suffix"
    assert_eq "$(json_get "$(ai_requests '?path_contains=images/generations')" '(d[0]["json"]["model"], d[0]["json"]["response_format"])')" \
        "('fake-image', 'b64_json')" "IMAGE_MODEL and base64"
}

case_ask_slimy_answers_a_message() {
    local USER_ID=806
    command_json "Ask Slimy" "" '' '"target_id":"990","resolved":{"messages":{"990":{"id":"990","content":"what is a snail?","author":{"id":"1","username":"someone"}}}}'
    CMD=$(json_get "$CMD" 'json.dumps(d | {"data": d["data"] | {"type": 3}})') # data.type 3: a message command
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "deferred"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN"
    local content
    content=$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'd[0]["json"]["content"]')
    assert_contains "$content" "fake reply #1 to: what is a snail?" "answered the target message"
}

case_openai_429_is_retried_and_quota_is_not() {
    local USER_ID=807
    ai_script '{"path_contains":"chat/completions","responses":[{"status":429,"headers":{"Retry-After":"1"},"body":{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}}]}'
    run_deferred chat '[{"name":"message","type":3,"value":"patience"}]'
    assert_contains "$CONTENT" "fake reply #2 to: patience" "retried after Retry-After"
    local req
    req=$(ai_requests '?path_contains=chat/completions')
    assert_eq "$(json_get "$req" 'len(d)')" 2 "two attempts"
    assert_eq "$(json_get "$req" 'd[1]["time"] - d[0]["time"] >= 0.95')" True "waited Retry-After"
    ai_script '{"path_contains":"chat/completions","responses":[{"status":429,"body":{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}}]}'
    USER_ID=817 run_deferred chat '[{"name":"message","type":3,"value":"again"}]' # another user: 807 is in their /chat cooldown
    assert_contains "$CONTENT" "out of quota" "friendly quota message"
    assert_eq "$(ai_count '?path_contains=chat/completions')" 3 "quota is not retried"
}

case_openai_errors_become_friendly_messages() {
    local USER_ID=808
    ai_script '{"path_contains":"chat/completions","responses":[{"status":200,"raw":"{not json"}]}'
    run_deferred chat '[{"name":"message","type":3,"value":"x"}]'
    assert_contains "$CONTENT" "malformed JSON" "malformed answer"
    ai_script '{"path_contains":"images/generations","responses":[{"status":400,"body":{"object":"error","message":"bad prompt from vllm","type":"BadRequestError","param":null,"code":400}}]}'
    run_deferred dream '[{"name":"prompt","type":3,"value":"x"}]'
    assert_contains "$CONTENT" "bad prompt from vllm" "flat error shape"
    ai_script '{"path_contains":"chat/completions","responses":[{"status":500,"body":{"error":{"code":500,"message":"boom","type":"server_error"}}},{"status":500},{"status":500},{"status":500}]}'
    USER_ID=818 run_deferred chat '[{"name":"message","type":3,"value":"y"}]' # 808 is in their /chat cooldown
    assert_contains "$CONTENT" "couldn't get an answer" "5xx after retries"
    assert_eq "$(ai_count '?path_contains=chat/completions')" 5 "one try plus three retries (after the malformed one)"
}

case_openai_hang_ends_at_the_deadline() {
    local USER_ID=809 started
    ai_script '{"path_contains":"chat/completions","responses":[{"hang":true}]}'
    # Signed 14 min 24 s ago: the token has 36 s left, so the AI call must give up 30 s before that.
    command_json chat '[{"name":"message","type":3,"value":"are you there?"}]'
    started=$(date +%s)
    post_signed "$CMD" $((started - 864))
    assert_eq "$(json_get "$BODY" 'd["type"]')" 5 "deferred"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" 15 || return
    assert_contains "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'd[0]["json"]["content"]')" "took too long" "friendly timeout"
    assert_eq "$(( $(date +%s) - started <= 12 ))" 1 "within the deadline"
}
