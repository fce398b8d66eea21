# cases_stream.sh — /chat's streamed answer end to end: fake OpenAI streams its reply slowly
# (tests/tools/fake_openai.py's "stream_delay_ms"), and fake Discord sees the deferred reply edited
# several times with a growing answer and the cursor, no two PATCHes of @original closer than
# STREAM_EDIT_INTERVAL_MS (300 ms here), then the complete reply. A server that ignores "stream"
# gives one PATCH with the whole answer; a stream broken off ends with the failure message, not
# retried. Each case runs a server of its own with the short interval.

STREAM_INTERVAL_MS=300
STREAM_ANSWER="Snails are slow. They carry their homes along. Rain is their favourite weather. The end."

# stream_problems(patches, head, answer, interval_s, final): what is wrong with the PATCHes of
# @original of one interaction, in order, or "ok". Every one but the last is an interim edit (head,
# a growing prefix of answer, the cursor); the last is `final` (the whole reply, or a text it must
# contain when it starts with "~"); consecutive ones are at least interval_s apart.
json_def <<'PY'
def stream_problems(patches, head, answer, interval_s, final):
    problems = []
    contents = [(p.get("json") or {}).get("content", "") for p in patches]
    if not contents:
        return "no PATCH of @original"
    shown = -1
    for i, c in enumerate(contents[:-1]):
        if not c.startswith(head) or not c.endswith("\u258c"):
            problems.append("edit %d is not framed with the cursor: %r" % (i, c[:120]))
            continue
        part = c[len(head):-1]
        if not answer.startswith(part):
            problems.append("edit %d shows %r, not a beginning of the answer" % (i, part))
        if len(part) <= shown:
            problems.append("edit %d does not show more than the one before" % i)
        shown = len(part)
    last = contents[-1]
    if final.startswith("~"):
        if final[1:] not in last or last.endswith("\u258c"):
            problems.append("final reply %r lacks %r" % (last[:200], final[1:]))
    elif last != final:
        problems.append("final reply %r, expected %r" % (last[:200], final))
    times = [p["time"] for p in patches]
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
    if any(g < interval_s for g in gaps):
        problems.append("PATCHes closer than %.3f s: gaps %r" % (interval_s, gaps))
    return "; ".join(problems) or "ok"
PY

# stream_patches: every PATCH of @original for INTERACTION_TOKEN so far (JSON array).
stream_patches() { fake_requests "?method=PATCH&path_contains=$INTERACTION_TOKEN"; }
# stream_final_seen: the last PATCH so far is not an interim edit (for wait_until).
stream_final_seen() {
    [ "$(json_get "$(stream_patches)" 'bool(d) and not d[-1]["json"]["content"].endswith("\u258c")')" = True ]
}
# stream_chat MESSAGE: posts /chat message:MESSAGE, checks it was deferred and waits (15 s) for the
# final reply; PATCHES holds every PATCH of @original.
stream_chat() {
    command_json chat "$(json_get '' 'json.dumps([{"name": "message", "type": 3, "value": argv[0]}])' "$1")"
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "deferred"
    wait_until 15 stream_final_seen || fail "no final reply: $(stream_patches | head -c 600)"
    sleep 0.4 # anything sent after the final reply would show by now
    PATCHES=$(stream_patches)
}

case_stream_chat_edits_the_reply_as_it_is_written() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG USER_ID=$((CASE_BASE + 11))
    start_private_slimy stream STREAM_EDIT_INTERVAL_MS=$STREAM_INTERVAL_MS ||
        { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; return; }
    # 12 pieces 250 ms apart: about 2.75 s of text, room for several edits at 300 ms.
    ai_script "$(json_get '' 'json.dumps({"path_contains": "chat/completions", "responses": [
        {"content": argv[0], "stream_pieces": 12, "stream_delay_ms": 250}]})' "$STREAM_ANSWER")"
    stream_chat "tell me about snails"
    local head="**tester$USER_ID:** tell me about snails"$'\n\n'"**slimy.ai:** "
    assert_eq "$(json_get "$PATCHES" 'stream_problems(d, argv[0], argv[1], float(argv[2]) / 1000, argv[0] + argv[1])' \
        "$head" "$STREAM_ANSWER" "$STREAM_INTERVAL_MS")" ok "the PATCHes of @original"
    local edits
    edits=$(json_get "$PATCHES" 'len(d) - 1')
    [ "$edits" -ge 3 ] || fail "expected at least 3 interim edits, saw $edits"
    [ "$edits" -le 10 ] || fail "expected at most 10 interim edits in ~2.75 s at 300 ms, saw $edits"
    assert_eq "$(fake_count "?method=POST&path_contains=$INTERACTION_TOKEN")" 0 "no follow-ups"
    assert_eq "$(json_get "$(ai_requests '?path_contains=chat/completions')" 'd[-1]["json"].get("stream")')" True "stream asked for"
    stop_slimy || fail "server exit status"
}

case_stream_chat_server_ignoring_stream() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG USER_ID=$((CASE_BASE + 12))
    start_private_slimy stream-plain STREAM_EDIT_INTERVAL_MS=$STREAM_INTERVAL_MS ||
        { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; return; }
    ai_script "$(json_get '' 'json.dumps({"path_contains": "chat/completions", "responses": [
        {"content": argv[0], "ignore_stream": True, "delay_ms": 1500}]})' "$STREAM_ANSWER")"
    stream_chat "tell me about snails"
    local final="**tester$USER_ID:** tell me about snails"$'\n\n'"**slimy.ai:** $STREAM_ANSWER"
    assert_eq "$(json_get "$PATCHES" 'len(d)')" 1 "one PATCH: the whole answer"
    assert_eq "$(json_get "$PATCHES" 'd[-1]["json"]["content"]')" "$final" "the reply"
    stop_slimy || fail "server exit status"
}

case_stream_chat_broken_stream_ends_with_the_failure() {
    local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG USER_ID=$((CASE_BASE + 13))
    start_private_slimy stream-broken STREAM_EDIT_INTERVAL_MS=$STREAM_INTERVAL_MS ||
        { fail "server did not start: $(tail -n 5 "$SLIMY_LOG")"; stop_slimy; return; }
    ai_script "$(json_get '' 'json.dumps({"path_contains": "chat/completions", "responses": [
        {"content": argv[0], "stream_pieces": 12, "stream_delay_ms": 250, "break_after": 6}]})' "$STREAM_ANSWER")"
    stream_chat "tell me about snails"
    local head="**tester$USER_ID:** tell me about snails"$'\n\n'"**slimy.ai:** "
    assert_eq "$(json_get "$PATCHES" 'stream_problems(d, argv[0], argv[1], float(argv[2]) / 1000, "~the answer was cut off")' \
        "$head" "$STREAM_ANSWER" "$STREAM_INTERVAL_MS")" ok "the PATCHes of @original"
    [ "$(json_get "$PATCHES" 'len(d)')" -ge 2 ] || fail "expected an interim edit before the failure"
    assert_contains "$(json_get "$PATCHES" 'd[-1]["json"]["content"]')" "couldn't get an answer" "the friendly failure"
    assert_not_contains "$(json_get "$PATCHES" 'd[-1]["json"]["content"]')" "Snails are slow" "no half answer"
    assert_eq "$(ai_count '?path_contains=chat/completions')" 1 "not retried once text was shown"
    stop_slimy || fail "server exit status"
}
