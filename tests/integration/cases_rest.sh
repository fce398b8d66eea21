# cases_rest.sh — the REST client on its own (through tests/tools/deliver-probe): long text
# split into follow-ups of at most 2000 characters, and files sent as multipart.

# Each case's probe uses a token of its own (with the case's id) and looks only at its requests.

case_long_reply_is_split_into_followups() {
    local token="probe-$CASE_BASE-SECRET"
    # 4,500 characters of multi-byte text with newlines: three messages.
    json_get '' 'open(argv[0], "w", encoding="utf-8").write("".join("línea %04d — ünïcödé 🐌 text\n" % i for i in range(160)))' \
        "$WORK/long.txt" >/dev/null
    "$PROBE" "$FAKE_URL/api/v10" "$APP_ID" "$token" "$WORK/long.txt" --ephemeral >"$WORK/probe.out" 2>&1 ||
        fail "probe failed: $(cat "$WORK/probe.out")"
    local req
    req=$(fake_requests "?path_contains=$token")
    assert_eq "$(json_get "$req" '[r["method"] for r in d]')" "['PATCH', 'POST', 'POST']" "one edit, two follow-ups"
    assert_eq "$(json_get "$req" 'd[1]["path"]')" "/api/v10/webhooks/$APP_ID/$token" "follow-up path"
    assert_eq "$(json_get "$req" 'all(len(r["json"]["content"]) <= 2000 for r in d)')" True "each within 2000 characters"
    assert_eq "$(json_get "$req" '"".join(r["json"]["content"] for r in d) == open("'"$WORK/long.txt"'", encoding="utf-8").read()')" True "nothing lost or repeated"
    assert_eq "$(json_get "$req" '[r["json"].get("flags") for r in d]')" "[None, 64, 64]" "follow-ups keep ephemeral"
    assert_eq "$(json_get "$req" 'all(r["json"]["content"].endswith("\n") for r in d[:-1])')" True "cut at line ends"
}

case_files_go_as_multipart() {
    local token="probe-$CASE_BASE-SECRET"
    printf 'export says hi' >"$WORK/short.txt"
    head -c 3000 /dev/urandom >"$WORK/blob.bin"
    "$PROBE" "$FAKE_URL/api/v10" "$APP_ID" "$token" "$WORK/short.txt" --attach "$WORK/blob.bin" >"$WORK/probe.out" 2>&1 ||
        fail "probe failed: $(cat "$WORK/probe.out")"
    local req sha
    req=$(fake_requests "?path_contains=$token")
    sha=$(sha256sum "$WORK/blob.bin" | cut -d' ' -f1)
    assert_contains "$(json_get "$req" 'd[0]["headers"]["content-type"]')" "multipart/form-data" "multipart"
    assert_eq "$(json_get "$req" '[p["name"] for p in d[0]["parts"]]')" "['payload_json', 'files[0]']" "parts"
    assert_eq "$(json_get "$req" 'd[0]["parts"][1]["sha256"]')" "$sha" "file bytes intact"
    assert_eq "$(json_get "$req" 'd[0]["json"]["attachments"]')" "[{'id': 0, 'filename': 'blob.bin'}]" "attachments tie files[0]"
    assert_eq "$(json_get "$req" 'd[0]["json"]["content"]')" "export says hi" "content"
}

case_reply_dropped_at_deadline_on_persistent_5xx() {
    local token="probe-$CASE_BASE-SECRET"
    fake_script '{"method":"PATCH","path_contains":"'"$token"'","responses":[{"status":503},{"status":503},{"status":503},{"status":503},{"status":503}]}'
    printf 'x' >"$WORK/x.txt"
    # Backoff 0.5 s, then 1 s, then 2 s would pass a 2.5 s deadline: three attempts, then dropped.
    if "$PROBE" "$FAKE_URL/api/v10" "$APP_ID" "$token" "$WORK/x.txt" --deadline-ms 2500 >"$WORK/probe.out" 2>&1; then
        fail "probe should report failure"
    fi
    assert_contains "$(cat "$WORK/probe.out")" "status=timed out http=503 attempts=3" "backed off until the deadline"
    assert_contains "$(cat "$WORK/probe.out")" "reply dropped"
    assert_eq "$(fake_count "?path_contains=$token")" 3 "requests made"
}
