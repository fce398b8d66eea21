# cases_cli.sh — the slimy command line: version, commands, register, and config errors.

slimy_cli() { # runs build/slimy with a clean environment plus the given variables
    env -i PATH="$PATH" HOME="$WORK" ASAN_OPTIONS="${ASAN_OPTIONS:-}" ENV_FILE=/nonexistent \
        DISCORD_API_BASE="$FAKE_URL/api/v10" DISCORD_APPLICATION_ID="$APP_ID" "$@"
}

case_version_and_help() {
    assert_contains "$(slimy_cli "$SLIMY" version)" "slimy 0."
    assert_contains "$(slimy_cli "$SLIMY" --help)" "register [--guild ID]"
    slimy_cli "$SLIMY" frobnicate >/dev/null 2>&1 && fail "unknown command should fail"
    return 0
}

case_commands_prints_registration_json() {
    local out
    out=$(slimy_cli "$SLIMY" commands)
    assert_eq "$(json_get "$out" 'all(n in [c["name"] for c in d] for n in ["chat", "consent", "diag", "dream", "export", "forget", "mode", "personality-config", "remember", "snail", "leaderboard", "stats", "Ask Slimy", "Analyze Snail Stats"])')" True "commands"
    assert_eq "$(json_get "$out" '[c["type"] for c in d if c["name"]=="Ask Slimy"][0]')" 3 "Ask Slimy is a message command"
    assert_eq "$(json_get "$out" '[c["default_member_permissions"] for c in d if c["name"]=="mode"][0]')" "32" "mode needs Manage Guild"
    assert_eq "$(json_get "$out" '[o["name"] for o in [c for c in d if c["name"]=="snail"][0]["options"]]')" "['test', 'calc', 'analyze', 'sheet', 'sheet-setup']" "snail subcommands"
    assert_eq "$(json_get "$out" '[o["choices"] for o in [c for c in d if c["name"]=="snail"][0]["options"][1]["options"] if o["name"]=="tier"][0]')" \
        "[{'name': 'T5', 'value': 5}, {'name': 'T6', 'value': 6}, {'name': 'T7', 'value': 7}, {'name': 'T8', 'value': 8}]" "tier choices"
}

# The register cases look only at PUTs: a late reply of another case cannot be mistaken for one.
case_register_puts_commands() {
    local out n
    n=$(json_get "$(slimy_cli "$SLIMY" commands)" 'len(d)')
    out=$(slimy_cli DISCORD_TOKEN=bot-token-SECRET "$SLIMY" register 2>&1) || fail "register failed: $out"
    assert_contains "$out" "Registered $n global commands"
    local req
    req=$(fake_requests '?method=PUT')
    assert_eq "$(json_get "$req" 'd[0]["method"]')" PUT "method"
    assert_eq "$(json_get "$req" 'd[0]["path"]')" "/api/v10/applications/$APP_ID/commands" "global path"
    assert_eq "$(json_get "$req" 'd[0]["headers"]["authorization"]')" "Bot bot-token-SECRET" "bot auth"
    assert_contains "$(json_get "$req" 'd[0]["headers"]["user-agent"]')" "DiscordBot (" "user agent"
    assert_eq "$(json_get "$req" 'len(d[0]["json"])')" "$n" "body"

    out=$(slimy_cli DISCORD_TOKEN=bot-token-SECRET "$SLIMY" register --guild 4242 2>&1) || fail "guild register failed"
    assert_contains "$out" "in guild 4242"
    assert_eq "$(json_get "$(fake_requests '?method=PUT')" 'd[1]["path"]')" "/api/v10/applications/$APP_ID/guilds/4242/commands" "guild path"
}

case_register_reports_discord_errors() {
    local out rc
    fake_script '{"method":"PUT","responses":[{"status":401,"body":{"message":"401: Unauthorized","code":0}}]}'
    out=$(slimy_cli DISCORD_TOKEN=wrong "$SLIMY" register 2>&1) && fail "401 should fail"
    assert_contains "$out" "DISCORD_TOKEN is wrong"
    fake_script '{"method":"PUT","responses":[{"status":429,"headers":{"Retry-After":"7"},"body":{"message":"You are being rate limited.","retry_after":7.5,"global":false}}]}'
    out=$(slimy_cli DISCORD_TOKEN=t "$SLIMY" register 2>&1) && fail "429 should fail"
    assert_contains "$out" "try again in 7.5 s"
    fake_script '{"method":"PUT","responses":[{"status":400,"body":{"message":"Invalid Form Body","code":50035}}]}'
    out=$(slimy_cli DISCORD_TOKEN=t "$SLIMY" register 2>&1) && fail "400 should fail"
    assert_contains "$out" "Invalid Form Body (code 50035)"
    out=$(slimy_cli "$SLIMY" register 2>&1) && fail "missing token should fail"
    assert_contains "$out" "DISCORD_TOKEN is not set"
    return 0
}

case_bad_config_is_one_line_naming_the_variable() {
    local out lines
    for pair in "PORT=99999:PORT" "PORT=abc:PORT" "LOG_LEVEL=loud:LOG_LEVEL" "DISCORD_PUBLIC_KEY=abc:DISCORD_PUBLIC_KEY" \
        "SIGNATURE_MAX_AGE_S=-5:SIGNATURE_MAX_AGE_S" "BIND=localhost:BIND" "DISCORD_APPLICATION_ID=12ab:DISCORD_APPLICATION_ID" \
        "WORKER_THREADS=0:WORKER_THREADS" "DISCORD_API_BASE=ftp://x:DISCORD_API_BASE"; do
        out=$(slimy_cli DISCORD_PUBLIC_KEY="$PUBLIC_KEY" "${pair%%:*}" "$SLIMY" serve 2>&1) && fail "${pair%%:*} accepted"
        lines=$(printf '%s\n' "$out" | wc -l)
        assert_eq "$lines" 1 "one line for ${pair%%:*}"
        assert_contains "$out" "${pair##*:}" "names the variable"
    done
    out=$(slimy_cli "$SLIMY" serve 2>&1) && fail "missing key accepted"
    assert_contains "$out" "DISCORD_PUBLIC_KEY is not set"
}

case_dev_mode_creates_a_key_and_answers_signed_ping() {
    local port dir out pid code
    port=$(free_port)
    dir="$WORK/devhome"
    mkdir -p "$dir"
    # A permissive umask: the key must still be created owner-only.
    (cd "$dir" && umask 000 && exec env -i PATH="$PATH" HOME="$dir" ASAN_OPTIONS="${ASAN_OPTIONS:-}" PORT="$port" BIND=127.0.0.1 LOG_DIR= \
        "$SLIMY" serve --dev >"$dir/out" 2>&1) &
    pid=$!
    wait_http "http://127.0.0.1:$port/health" || { fail "dev server did not start: $(cat "$dir/out")"; return; }
    [ -f "$dir/data/dev-secret.key" ] || fail "no dev key under ./data"
    assert_eq "$(stat -c %a "$dir/data/dev-secret.key")" 600 "secret key mode"
    assert_contains "$(cat "$dir/out")" "slimy-sign headers --key" "prints how to sign"
    out=$("$SIGN" headers --key "$dir/data/dev-secret.key" --body '{"type":1}' |
        curl -s -H @- -H 'Content-Type: application/json' -d '{"type":1}' "http://127.0.0.1:$port/interactions")
    assert_eq "$out" '{"type":1}' "signed PING with the dev key"
    # No OPENAI_API_KEY and no OPENAI_BASE_URL: AI commands answer at once that AI is off.
    local chat='{"type":2,"id":"5","application_id":"1","token":"t","channel_id":"2","user":{"id":"3","username":"u"},"data":{"name":"chat","type":1,"options":[{"name":"message","type":3,"value":"hi"}]}}'
    out=$("$SIGN" headers --key "$dir/data/dev-secret.key" --body "$chat" |
        curl -s -H @- -H 'Content-Type: application/json' -d "$chat" "http://127.0.0.1:$port/interactions")
    assert_eq "$(json_get "$out" '(d["type"], d["data"]["flags"])')" "(4, 64)" "immediate ephemeral"
    assert_contains "$(json_get "$out" 'd["data"]["content"]')" "AI is not configured" "AI off"
    kill -TERM "$pid"
    code=0
    wait "$pid" || code=$?
    assert_eq "$code" 0 "exit status"
}

# A symbolic link where the dev key goes (dangling, or to a real file) is refused with a clear
# error: the key is never written through it, nor read from it.
case_dev_mode_refuses_a_symlinked_key() {
    local dir="$WORK/devlink" code
    mkdir -p "$dir/data"
    ln -s "$dir/elsewhere.key" "$dir/data/dev-secret.key"
    code=0
    (cd "$dir" && exec env -i PATH="$PATH" HOME="$dir" ASAN_OPTIONS="${ASAN_OPTIONS:-}" PORT="$(free_port)" \
        BIND=127.0.0.1 LOG_DIR= timeout 20 "$SLIMY" serve --dev >"$dir/out" 2>&1) || code=$?
    assert_eq "$code" 1 "exit status with a dangling link"
    assert_contains "$(cat "$dir/out")" "not a regular file" "says why"
    [ ! -e "$dir/elsewhere.key" ] || fail "the key was written through the link"
    # A link to a file holding a valid key is refused too.
    printf '%s\n' "$(printf '%0128d' 0)" >"$dir/elsewhere.key"
    code=0
    (cd "$dir" && exec env -i PATH="$PATH" HOME="$dir" ASAN_OPTIONS="${ASAN_OPTIONS:-}" PORT="$(free_port)" \
        BIND=127.0.0.1 LOG_DIR= timeout 20 "$SLIMY" serve --dev >"$dir/out" 2>&1) || code=$?
    assert_eq "$code" 1 "exit status with a link to a key"
    assert_contains "$(cat "$dir/out")" "not a regular file" "says why"
}

# ---- slimy check ----
# slimy_check DIR [ENV=VALUE ...]: runs `slimy check` in DIR (created; outside any git checkout)
# with the suite's settings (the test key, the running server's SQLite file, the fake OpenAI), the
# given variables winning; sets CHECK_OUT to its output and CHECK_RC to its exit status.
slimy_check() {
    local dir=$1
    shift
    mkdir -p "$dir"
    CHECK_RC=0
    CHECK_OUT=$(cd "$dir" && slimy_cli DISCORD_PUBLIC_KEY="$PUBLIC_KEY" DISCORD_TOKEN=bot-token-SECRET \
        OPENAI_BASE_URL="$AI_URL/v1" OPENAI_API_KEY=sk-test-SECRET SQLITE_PATH="$WORK/data/slimy.db" \
        "$@" "$SLIMY" check 2>&1) || CHECK_RC=$?
}
# check_line NAME: the line of check NAME in CHECK_OUT ("" when there is none).
check_line() { printf '%s\n' "$CHECK_OUT" | grep -E "^(PASS|WARN|FAIL)  $1 " | head -n 1; }

case_check_passes_with_the_suite_environment() {
    slimy_check "$WORK/check-pass"
    assert_eq "$CHECK_RC" 0 "exit status (output: $CHECK_OUT)"
    assert_not_contains "$CHECK_OUT" $'\nFAIL' "no FAIL line"
    [[ "$CHECK_OUT" == FAIL* ]] && fail "first line FAILs: $CHECK_OUT"
    assert_eq "$(printf '%s\n' "$CHECK_OUT" | grep -cE '^(PASS|WARN|FAIL)  ')" 8 "one line per check"
    assert_contains "$(check_line database)" "PASS  database    sqlite: reachable, all" "store migrated"
    assert_contains "$(check_line openai)" "PASS  openai" "the fake OpenAI answers"
    assert_contains "$(check_line redis)" "not configured (state in memory" "no Redis"
    assert_contains "$(check_line git)" "not a git checkout" "outside git"
    assert_contains "$(check_line '\.env mode')" "PASS" "no .env"
    assert_not_contains "$CHECK_OUT" $'\033' "no colour escape when stdout is not a terminal"
    assert_not_contains "$CHECK_OUT" "SECRET" "no secret printed"
    local req
    req=$(ai_requests '?path_contains=models')
    assert_eq "$(json_get "$req" '(d[-1]["method"], d[-1]["path"], d[-1]["headers"].get("authorization"))')" \
        "('GET', '/v1/models', 'Bearer sk-test-SECRET')" "GET /models with the key"
}

case_check_fails_on_an_unreachable_database() {
    local port line
    port=$(free_port)
    slimy_check "$WORK/check-db" DB_HOST=127.0.0.1 DB_PORT="$port" DB_PASSWORD=db-pw-SECRET
    assert_eq "$CHECK_RC" 1 "exit status (output: $CHECK_OUT)"
    line=$(check_line database)
    assert_contains "$line" "FAIL  database    database unreachable: cannot connect to MariaDB at 127.0.0.1:$port" "store line"
    assert_not_contains "$CHECK_OUT" "SECRET" "no password printed"
    assert_contains "$(check_line openai)" "PASS" "the other checks still run"
}

case_check_fails_when_redis_is_unreachable() {
    local port
    port=$(free_port)
    slimy_check "$WORK/check-redis" REDIS_URL="redis://:redis-pw-SECRET@127.0.0.1:$port"
    assert_eq "$CHECK_RC" 1 "exit status (output: $CHECK_OUT)"
    assert_contains "$(check_line redis)" "FAIL  redis       Redis at 127.0.0.1:$port" "redis line"
    assert_not_contains "$CHECK_OUT" "SECRET" "no password printed"
}

case_check_warns_about_pending_migrations() {
    local dir=$WORK/check-migrations
    mkdir -p "$dir"
    : >"$dir/empty.db"
    slimy_check "$dir" SQLITE_PATH="$dir/empty.db"
    assert_eq "$CHECK_RC" 0 "a WARN does not fail (output: $CHECK_OUT)"
    assert_contains "$(check_line database)" "WARN  database    sqlite: reachable," "pending"
    assert_contains "$(check_line database)" "run \`slimy migrate\`" "says what to do"
    slimy_check "$dir" SQLITE_PATH="$dir/missing.db"
    assert_contains "$(check_line database)" "does not exist yet" "missing file"
    [ -e "$dir/missing.db" ] && fail "check created the SQLite file"
    return 0
}

case_check_fails_when_openai_is_unreachable() {
    local port
    port=$(free_port)
    slimy_check "$WORK/check-ai" OPENAI_BASE_URL="http://user:pw-SECRET@127.0.0.1:$port/v1"
    assert_eq "$CHECK_RC" 1 "exit status (output: $CHECK_OUT)"
    assert_contains "$(check_line openai)" "FAIL  openai      cannot reach http://127.0.0.1:$port/v1" "AI line"
    assert_not_contains "$CHECK_OUT" "SECRET" "no credentials printed"
}

case_check_reports_a_refused_openai_key() {
    ai_script '{"method":"GET","path_contains":"models","responses":[{"status":401}]}'
    slimy_check "$WORK/check-ai-401"
    assert_eq "$CHECK_RC" 1 "exit status (output: $CHECK_OUT)"
    assert_contains "$(check_line openai)" "FAIL  openai      OPENAI_API_KEY refused" "401"
    assert_not_contains "$CHECK_OUT" "SECRET" "the key is not printed"
    ai_script '{"method":"GET","path_contains":"models","responses":[{"status":503}]}'
    slimy_check "$WORK/check-ai-503"
    assert_contains "$(check_line openai)" "answered HTTP 503" "other status"
}

case_check_warns_about_an_open_env_file() {
    local dir=$WORK/check-env
    mkdir -p "$dir"
    printf 'DISCORD_GUILD_ID=4242\n' >"$dir/.env"
    chmod 644 "$dir/.env"
    slimy_check "$dir" ENV_FILE= # the default: ./.env
    assert_eq "$CHECK_RC" 0 "a WARN does not fail (output: $CHECK_OUT)"
    assert_contains "$(check_line config)" "valid (the environment and .env)" "reads ./.env"
    assert_contains "$(check_line '\.env mode')" "WARN  .env mode   .env is open to group or others (mode 644): chmod 600 .env"
    chmod 600 "$dir/.env"
    slimy_check "$dir" ENV_FILE=
    assert_contains "$(check_line '\.env mode')" "PASS  .env mode   .env is private (mode 600)"
}

case_check_fails_on_secrets_tracked_by_git() {
    local dir=$WORK/check-git
    mkdir -p "$dir/data"
    printf 'DISCORD_TOKEN=t\n' >"$dir/.env"
    chmod 600 "$dir/.env"
    printf 'key\n' >"$dir/data/dev-secret.key"
    (cd "$dir" && git init -q . && git add .env data/dev-secret.key) || { fail "git setup"; return; }
    slimy_check "$dir" ENV_FILE=
    assert_eq "$CHECK_RC" 1 "exit status (output: $CHECK_OUT)"
    assert_contains "$(check_line git)" "FAIL  git         tracked by git: .env, data/*.key" "tracked"
    (cd "$dir" && git rm -q --cached .env data/dev-secret.key) || fail "git rm"
    slimy_check "$dir" ENV_FILE=
    assert_contains "$(check_line git)" "PASS  git         no .env or data/*.key tracked by git" "untracked"
}

case_check_names_a_bad_variable() {
    slimy_check "$WORK/check-config" PORT=abc
    assert_eq "$CHECK_RC" 1 "exit status (output: $CHECK_OUT)"
    assert_contains "$(check_line config)" "FAIL  config      PORT" "names the variable"
    assert_contains "$(check_line database)" "WARN  database    not checked" "dependent checks skipped"
    slimy_check "$WORK/check-config" DISCORD_PUBLIC_KEY= DISCORD_TOKEN=
    assert_eq "$CHECK_RC" 1 "no public key fails"
    assert_contains "$(check_line 'public key')" "FAIL  public key  DISCORD_PUBLIC_KEY is not set"
    assert_contains "$(check_line register)" "WARN  register    DISCORD_TOKEN not set"
}
