#!/usr/bin/env bash
# run.sh — integration tests: real processes on loopback (the server, fake Discord), driven by
# curl. Usage: tests/integration/run.sh BUILD_DIR. Exits non-zero if any case fails.
# While iterating: PHASES="sqlite mariadb replicas" (any subset) runs only those phases, and
# CASES="case_a case_b" only those cases, SHUFFLE=1 runs each phase's cases in a random order
# (KEEP_WORK=1 keeps the work directory).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SLIMY="$BUILD/slimy"
SIGN="$BUILD/slimy-sign"
PROBE="$BUILD/deliver-probe"
WORK=$(mktemp -d /tmp/slimy-it.XXXXXX)
APP_ID=123456789012345678
FAKE_PID= SLIMY_PID= AI_PID= AI_URL= JSON_HELPER_PID=
cleanup() {
    [ -d "$WORK/mariadb" ] && "$ROOT/tests/tools/mariadb.sh" stop "$WORK/mariadb" >/dev/null 2>&1
    [ -n "$SLIMY_PID" ] && kill -TERM "$SLIMY_PID" 2>/dev/null && wait "$SLIMY_PID" 2>/dev/null
    declare -F stop_replicas >/dev/null && stop_replicas 5 >/dev/null 2>&1
    [ -d "$WORK/redis" ] && "$ROOT/tests/tools/redis.sh" stop "$WORK/redis" >/dev/null 2>&1
    [ -n "$FAKE_PID" ] && kill -TERM "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    [ -n "$AI_PID" ] && kill -TERM "$AI_PID" 2>/dev/null && wait "$AI_PID" 2>/dev/null
    [ -n "$JSON_HELPER_PID" ] && kill -TERM "$JSON_HELPER_PID" 2>/dev/null && wait "$JSON_HELPER_PID" 2>/dev/null
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP # so that cleanup runs on ^C too
. "$ROOT/tests/integration/lib.sh"

start_json_helper
PUBLIC_KEY=$("$SIGN" keygen --out "$WORK/keys")
"$SIGN" keygen --out "$WORK/other" >/dev/null
start_fake_discord || exit 1
start_fake_openai || exit 1
start_slimy || { cat "$SLIMY_LOG"; exit 1; }

passed=0 failed=0 failed_names=()
# run_cases LABEL FILE...: runs every case_* function of the files, in file order (or only those
# named in CASES, a space-separated list, when set: e.g. CASES="case_memory_lifecycle"; with
# SHUFFLE=1 in a random order, to check that no case depends on another). Each case gets fresh
# ids (case_ids) and empty fakes, and BEFORE_CASE (a function, if set) runs first.
# On failure it prints the tail of each log in FAILURE_LOGS (default: SLIMY_LOG).
FAILURE_LOGS=() BEFORE_CASE=
run_cases() {
    local label=$1 file case_name log names=()
    shift
    for file in "$@"; do
        . "$ROOT/tests/integration/$file"
        mapfile -t -O "${#names[@]}" names < <(grep -oE '^case_[a-z0-9_]+' "$ROOT/tests/integration/$file")
    done
    [ "${SHUFFLE:-0}" = 1 ] && mapfile -t names < <(printf '%s\n' "${names[@]}" | shuf)
    for case_name in "${names[@]}"; do
        [ -z "${CASES:-}" ] || [[ " $CASES " == *" $case_name "* ]] || continue
        CASE_FAILED=0
        case_ids
        fake_reset
        [ -z "$BEFORE_CASE" ] || "$BEFORE_CASE"
        "$case_name"
        if [ "$CASE_FAILED" = 0 ]; then
            passed=$((passed + 1)); echo "  ok   [$label] $case_name"
        else
            failed=$((failed + 1)); failed_names+=("$label $case_name"); echo "  FAIL [$label] $case_name"
            for log in "${FAILURE_LOGS[@]:-$SLIMY_LOG}"; do
                echo "--- $(basename "$log") (last 30 lines) ---"; tail -n 30 "$log"
            done
        fi
    done
}

# phase NAME: whether phase NAME is to run (PHASES unset: every phase).
phase() { [ -z "${PHASES:-}" ] || [[ " $PHASES " == *" $1 "* ]]; }

# Phase 1: the embedded defaults (SQLite); then the server must stop cleanly (exit status 0, which
# the sanitizers turn non-zero on a leak or an error).
if phase sqlite; then
    run_cases sqlite cases_endpoint.sh cases_commands.sh cases_interactive.sh cases_rest.sh cases_cli.sh cases_store.sh cases_stats.sh \
        cases_snail.sh cases_ai.sh cases_stream.sh cases_metrics.sh cases_ops.sh cases_http.sh cases_hostile.sh cases_faults.sh \
        cases_shutdown.sh
fi
stop_slimy || { failed=$((failed + 1)); failed_names+=("sqlite exit status"); }

# Phase 2: the same store cases against a real MariaDB, then an outage in the middle of a run.
DB_PORT=$(free_port)
if ! phase mariadb; then
    :
elif "$ROOT/tests/tools/mariadb.sh" start "$WORK/mariadb" "$DB_PORT" >"$WORK/mariadb.out" 2>&1; then
    start_slimy DB_HOST=127.0.0.1 DB_PORT="$DB_PORT" DB_USER=slimy DB_PASSWORD=slimy-test DB_NAME=slimy \
        DB_CONNECTION_LIMIT=4 || { cat "$SLIMY_LOG"; exit 1; }
    run_cases mariadb cases_store.sh cases_stats.sh cases_interactive.sh cases_mariadb_outage.sh
    stop_slimy || { failed=$((failed + 1)); failed_names+=("mariadb exit status"); }
    "$ROOT/tests/tools/mariadb.sh" stop "$WORK/mariadb" >/dev/null 2>&1
else
    cat "$WORK/mariadb.out"
    failed=$((failed + 1)); failed_names+=("mariadb did not start")
fi

# Phase 3: two replicas sharing a throwaway Redis (cooldowns, dedupe, /chat history, the job
# stream), one killed with -9 in the middle of a job, and Redis stopped and started again under
# them. Both use one SQLite file (WAL with a busy timeout: safe across processes).
REDIS_PORT=$(free_port)
if ! phase replicas; then
    :
elif "$ROOT/tests/tools/redis.sh" start "$WORK/redis" "$REDIS_PORT" >"$WORK/redis.out" 2>&1; then
    REPLICA_ENV=(REDIS_URL="redis://127.0.0.1:$REDIS_PORT" REDIS_KEY_PREFIX="slimy-it-$$-$(date +%s):"
        JOB_CLAIM_IDLE_MS=2000 DRAIN_TIMEOUT_S=5 SQLITE_PATH="$WORK/replicas.db")
    if start_replica A && start_replica B; then
        FAILURE_LOGS=("$REPLICA_LOG_A" "$REPLICA_LOG_B") BEFORE_CASE=replicas_ready
        run_cases replicas cases_replicas.sh
        FAILURE_LOGS=() BEFORE_CASE=
    else
        tail -n 30 "$WORK"/replica-*.log
        failed=$((failed + 1)); failed_names+=("replicas did not start")
    fi
    stop_replicas || { failed=$((failed + 1)); failed_names+=("replicas exit status"); }
    "$ROOT/tests/tools/redis.sh" stop "$WORK/redis" >/dev/null 2>&1
else
    cat "$WORK/redis.out"
    failed=$((failed + 1)); failed_names+=("redis did not start")
fi

# Phase 4: nginx (nginx/render.sh's configuration, a self-signed certificate made now) in front of
# two replicas with SQLite files of their own (no Redis), run unprivileged in the work directory.
if phase nginx; then
    REPLICA_ENV=(DRAIN_TIMEOUT_S=5)
    NGINX_PREV_TRAP=$(trap -p EXIT)
    trap 'stop_nginx >/dev/null 2>&1; cleanup' EXIT # nginx too, whatever happens from here
    if start_nginx_replica NGA && start_nginx_replica NGB &&
        nginx_setup "127.0.0.1:$REPLICA_PORT_NGA" "127.0.0.1:$REPLICA_PORT_NGB" && start_nginx; then
        FAILURE_LOGS=("$REPLICA_LOG_NGA" "$REPLICA_LOG_NGB" "$NGINX_ERROR_LOG" "$NGINX_ACCESS_LOG")
        BEFORE_CASE=nginx_replicas_ready
        run_cases nginx cases_nginx.sh
        FAILURE_LOGS=() BEFORE_CASE=
    else
        tail -n 30 "$WORK"/replica-NG*.log "$WORK/nginx/nginx.out" 2>/dev/null
        failed=$((failed + 1)); failed_names+=("nginx or its replicas did not start")
    fi
    stop_nginx || { failed=$((failed + 1)); failed_names+=("nginx did not stop"); }
    stop_replicas || { failed=$((failed + 1)); failed_names+=("nginx replicas exit status"); }
    eval "${NGINX_PREV_TRAP:-trap - EXIT}"
fi

echo "integration: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
    printf '  failed: %s\n' "${failed_names[@]}"
    exit 1
fi
