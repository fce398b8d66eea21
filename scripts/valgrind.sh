#!/usr/bin/env bash
# valgrind.sh — the unit tests and one short server scenario under valgrind's memcheck.
# Usage: scripts/valgrind.sh [BUILD_DIR]   (default: build; a build WITHOUT sanitizers: valgrind
# and AddressSanitizer do not mix, so a -DSLIMY_SANITIZE=ON build is refused).
#
# 1. Every unit test program ctest knows runs under
#      valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
#               --errors-for-leak-kinds=definite --track-origins=no
#    with tests/valgrind.supp (known library noise only, each entry commented), VALGRIND_JOBS (2)
#    at a time. test_store_mariadb and test_kv_redis need SLIMY_TEST_DB_HOST and
#    SLIMY_TEST_REDIS_URL (scripts/test.sh exports both): without them they are skipped, and said
#    so; nothing else is ever skipped.
# 2. The server itself under memcheck on SQLite with the fake Discord and fake OpenAI
#    (tests/tools): a PING, an immediate command (/snail test), deferred commands delivered to the
#    fake Discord (/chat and /dream through the fake OpenAI, /remember after /consent), SIGTERM; the
#    exit status must be 0 and the valgrind log must show no error (no invalid access, no
#    definite leak).
# Exits 0 when everything is clean, 1 otherwise; each failure names its valgrind log (kept, with
# the whole work directory, whenever something failed; VALGRIND_KEEP=1 keeps it anyway).
# VALGRIND_ONLY="unit" or "server" runs one part; VALGRIND_TESTS="test_a test_b" only those programs.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd) || { echo "valgrind.sh: no build directory ${1:-build}" >&2; exit 1; }
JOBS=${VALGRIND_JOBS:-2}
SUPP="$ROOT/tests/valgrind.supp"

command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
if grep -q '^SLIMY_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "valgrind.sh: $BUILD is a sanitizer build; valgrind needs a plain one (e.g. build/)" >&2
    exit 1
fi
[ -x "$BUILD/slimy" ] || { echo "valgrind.sh: $BUILD/slimy not built" >&2; exit 1; }

VG_WORK=$(mktemp -d /tmp/slimy-valgrind.XXXXXX)
VG_ARGS=(--tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --track-origins=no --suppressions="$SUPP" --num-callers=30)
failures=0
started_all=$EPOCHSECONDS

# ---- 1. the unit tests ----
run_unit_tests() {
    local list="$VG_WORK/unit.list" name skip=()
    # name<TAB>working dir<TAB>command... (one line per test ctest knows)
    ctest --test-dir "$BUILD" --show-only=json-v1 | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tests"]:
    wd = next((p["value"] for p in t.get("properties", []) if p["name"] == "WORKING_DIRECTORY"), ".")
    print("\t".join([t["name"], wd] + t["command"]))' >"$list" || { echo "cannot list the unit tests" >&2; return 1; }
    if [ -z "${SLIMY_TEST_DB_HOST:-}" ]; then skip+=(test_store_mariadb); fi
    if [ -z "${SLIMY_TEST_REDIS_URL:-}" ]; then skip+=(test_kv_redis); fi
    for name in "${skip[@]}"; do
        echo "  skip $name (its server is not given: see scripts/test.sh)"
        sed -i "/^$name\t/d" "$list"
    done
    if [ -n "${VALGRIND_TESTS:-}" ]; then
        awk -F'\t' -v keep=" $VALGRIND_TESTS " 'index(keep, " " $1 " ")' "$list" >"$list.only" && mv "$list.only" "$list"
    fi
    echo "  $(wc -l <"$list") programs, $JOBS at a time"
    mkdir -p "$VG_WORK/unit"
    export VG_WORK
    export -f run_one_unit
    export VG_ARGS_STR="${VG_ARGS[*]}"
    # shellcheck disable=SC2016 # $1 is bash -c's
    tr '\n' '\0' <"$list" | xargs -0 -P "$JOBS" -I{} bash -c 'run_one_unit "$1"' _ {}
    local bad
    bad=$(cat "$VG_WORK"/unit/*.failed 2>/dev/null | sort)
    if [ -n "$bad" ]; then
        failures=$((failures + $(printf '%s\n' "$bad" | wc -l)))
        printf '%s\n' "$bad"
    fi
}
# run_one_unit LINE: runs one test program (a line of unit.list) under valgrind; prints its line
# of the report and, on failure, writes it to VG_WORK/unit/NAME.failed.
run_one_unit() {
    local name wd rc t0 cmd
    IFS=$'\t' read -r -a cmd <<<"$1"
    name=${cmd[0]} wd=${cmd[1]}
    cmd=("${cmd[@]:2}")
    local log="$VG_WORK/unit/$name.vg.log" out="$VG_WORK/unit/$name.out"
    t0=${EPOCHREALTIME/[.,]/}
    # shellcheck disable=SC2086 # VG_ARGS_STR holds no spaces inside an argument
    (cd "$wd" && exec valgrind $VG_ARGS_STR --log-file="$log" "${cmd[@]}") >"$out" 2>&1
    rc=$?
    local secs=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000000 ))
    if [ "$rc" = 0 ]; then
        printf '  ok   %-28s %4ss\n' "$name" "$secs"
    elif [ "$rc" = 99 ]; then
        printf '  FAIL %-28s %4ss  memcheck errors: %s\n' "$name" "$secs" "$log"
        grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|Source and destination|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' "$log" | sort | uniq -c | head -n 10
        echo "$name: memcheck errors ($log)" >"$VG_WORK/unit/$name.failed"
    else
        printf '  FAIL %-28s %4ss  exit status %s: %s\n' "$name" "$secs" "$rc" "$out"
        tail -n 15 "$out" | sed 's/^/       /'
        echo "$name: exit status $rc ($out)" >"$VG_WORK/unit/$name.failed"
    fi
}

# ---- 2. the server under valgrind ----
# Uses tests/integration/lib.sh (the fakes, signing, command_json, fetch_reply): SLIMY is a wrapper
# that runs the real binary under memcheck, so spawn_slimy starts it like the integration tests do.
run_server_scenario() {
    # shellcheck disable=SC2034,SC1007 # these are lib.sh's globals, set here for its helpers
    local WORK="$VG_WORK/server" SIGN="$BUILD/slimy-sign" APP_ID=123456789012345678
    # shellcheck disable=SC2034,SC1007
    local FAKE_PID= AI_PID= AI_URL= JSON_HELPER_PID= SLIMY_PID= SLIMY_PORT SLIMY_URL SLIMY_LOG
    local vg_log="$VG_WORK/server/slimy.vg.log" SLIMY="$VG_WORK/server/slimy-under-valgrind" rc
    mkdir -p "$WORK"
    # shellcheck source=../tests/integration/lib.sh
    . "$ROOT/tests/integration/lib.sh"
    printf '#!/bin/sh\nexec valgrind %s --log-file=%s %s "$@"\n' "${VG_ARGS[*]}" "$vg_log" "$BUILD/slimy" >"$SLIMY"
    chmod +x "$SLIMY"
    start_json_helper
    # shellcheck disable=SC2034 # read by spawn_slimy
    PUBLIC_KEY=$("$SIGN" keygen --out "$WORK/keys")
    start_fake_discord && start_fake_openai || { echo "  FAIL the fakes did not start"; server_cleanup; return 1; }
    SLIMY_PORT=$(free_port)
    SLIMY_URL="http://127.0.0.1:$SLIMY_PORT"
    SLIMY_LOG="$WORK/slimy.log"
    spawn_slimy "$SLIMY_PORT" "$SLIMY_LOG" "$WORK/logs" "$WORK/data" SQLITE_PATH="$WORK/slimy.db" \
        WORKER_THREADS=2 HTTP_THREADS=2 DRAIN_TIMEOUT_S=20
    SLIMY_PID=$SPAWNED_PID
    if ! wait_http "$SLIMY_URL/health" 60; then
        echo "  FAIL the server did not answer /health under valgrind"; tail -n 20 "$SLIMY_LOG" "$vg_log"
        server_cleanup; return 1
    fi
    CASE_FAILED=0
    case_ids
    post_signed '{"type":1}'
    assert_eq "$BODY" '{"type":1}' "PING"
    command_json snail '[{"name":"test","type":1}]'
    post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 4 "/snail test answered at once"
    local USER_ID=$((CASE_BASE + 50))
    command_json chat '[{"name":"message","type":3,"value":"hello under valgrind"}]'
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "/chat deferred"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" 60 &&
        assert_contains "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'd[0]["json"]["content"]')" \
            "fake reply #1 to: hello under valgrind" "/chat delivered"
    command_json dream '[{"name":"prompt","type":3,"value":"a snail under valgrind"}]'
    post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "/dream deferred"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" 60 &&
        assert_eq "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'd[0]["parts"][1]["head_hex"][:16]')" \
            "89504e470d0a1a0a" "/dream delivered a PNG"
    command_json consent '[{"name":"set","type":1,"options":[{"name":"allow","type":5,"value":true}]}]'
    post_signed "$CMD"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" 60
    command_json remember '[{"name":"note","type":3,"value":"kept under valgrind"}]'
    post_signed "$CMD"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" 60 &&
        assert_eq "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'd[0]["json"]["embeds"][0]["title"]')" \
            "📝 Memory Saved" "/remember delivered"
    rc=0
    kill -TERM "$SLIMY_PID"
    wait "$SLIMY_PID" || rc=$?
    SLIMY_PID=
    assert_eq "$rc" 0 "exit status after SIGTERM (99: memcheck errors)"
    if grep -qE '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|Source and destination)|definitely lost: [1-9]' "$vg_log"; then
        fail "memcheck errors in $vg_log"
        grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|Source and destination|.*definitely lost)' "$vg_log" | head -n 10
    fi
    grep -E 'ERROR SUMMARY|definitely lost:' "$vg_log" | sed 's/^==[0-9]*==/ /'
    server_cleanup
    [ "$CASE_FAILED" = 0 ]
}
server_cleanup() {
    [ -n "${SLIMY_PID:-}" ] && kill -KILL "$SLIMY_PID" 2>/dev/null && wait "$SLIMY_PID" 2>/dev/null
    [ -n "${FAKE_PID:-}" ] && kill -TERM "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    [ -n "${AI_PID:-}" ] && kill -TERM "$AI_PID" 2>/dev/null && wait "$AI_PID" 2>/dev/null
    [ -n "${JSON_HELPER_PID:-}" ] && { exec {JSON_IN}>&- {JSON_OUT}<&-; kill -TERM "$JSON_HELPER_PID" 2>/dev/null; wait "$JSON_HELPER_PID" 2>/dev/null; }
    FAKE_PID= AI_PID= JSON_HELPER_PID= SLIMY_PID=
}

trap 'server_cleanup >/dev/null 2>&1; exit 130' INT TERM HUP
if [ "${VALGRIND_ONLY:-unit}" = unit ] || [ -z "${VALGRIND_ONLY:-}" ]; then
    echo "-- unit tests under memcheck ($BUILD)"
    t0=$EPOCHSECONDS
    run_unit_tests || failures=$((failures + 1))
    echo "   unit tests: $((EPOCHSECONDS - t0)) s"
fi
if [ "${VALGRIND_ONLY:-server}" = server ] || [ -z "${VALGRIND_ONLY:-}" ]; then
    echo "-- the server under memcheck: PING, /snail test, /chat, /dream, /consent, /remember, SIGTERM"
    t0=$EPOCHSECONDS
    if run_server_scenario; then echo "  ok   server scenario"; else echo "  FAIL server scenario (logs in $VG_WORK/server)"; failures=$((failures + 1)); fi
    echo "   server scenario: $((EPOCHSECONDS - t0)) s"
fi
echo "valgrind: $((EPOCHSECONDS - started_all)) s, $failures failure(s)"
if [ "$failures" -gt 0 ] || [ "${VALGRIND_KEEP:-0}" = 1 ]; then
    echo "valgrind logs kept in $VG_WORK"
else
    rm -rf "$VG_WORK"
fi
[ "$failures" = 0 ]
