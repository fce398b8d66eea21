#!/usr/bin/env bash
# run.sh — integration tests: real processes on loopback (the server, fake Discord), driven by
# curl. Usage: tests/integration/run.sh BUILD_DIR. Exits non-zero if any case fails.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SLIMY="$BUILD/slimy"
SIGN="$BUILD/slimy-sign"
PROBE="$BUILD/deliver-probe"
WORK=$(mktemp -d /tmp/slimy-it.XXXXXX)
APP_ID=123456789012345678
FAKE_PID= SLIMY_PID=
cleanup() {
    [ -n "$SLIMY_PID" ] && kill -TERM "$SLIMY_PID" 2>/dev/null && wait "$SLIMY_PID" 2>/dev/null
    [ -n "$FAKE_PID" ] && kill -TERM "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
. "$ROOT/tests/integration/lib.sh"

PUBLIC_KEY=$("$SIGN" keygen --out "$WORK/keys")
"$SIGN" keygen --out "$WORK/other" >/dev/null
start_fake_discord || exit 1
start_slimy || { cat "$SLIMY_LOG"; exit 1; }

passed=0 failed=0 failed_names=()
# Case files in a fixed order; shutdown last because it stops the server.
for file in cases_endpoint.sh cases_commands.sh cases_rest.sh cases_cli.sh cases_shutdown.sh; do
    . "$ROOT/tests/integration/$file"
    for case_name in $(grep -oE '^case_[a-z0-9_]+' "$ROOT/tests/integration/$file"); do
        CASE_FAILED=0
        fake_reset
        "$case_name"
        if [ "$CASE_FAILED" = 0 ]; then
            passed=$((passed + 1)); echo "  ok   $case_name"
        else
            failed=$((failed + 1)); failed_names+=("$case_name"); echo "  FAIL $case_name"
        fi
    done
done
echo "integration: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
    echo "--- server log (last 40 lines) ---"; tail -n 40 "$SLIMY_LOG"
    exit 1
fi
