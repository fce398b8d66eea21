#!/usr/bin/env bash
# callgrind.sh — instructions per request of Slimy's request path, a figure that does not depend
# on how busy the machine is. Starts `slimy serve` (from BUILD_DIR, default build-release) under
# valgrind's callgrind with instrumentation off, sends a warm-up, switches instrumentation on, sends signed
# requests with wrk for a few seconds, switches it off, and divides the instructions of the whole
# process (every thread) by the requests answered meanwhile. Prints one line per scenario:
#   CALLGRIND scenario=ping requests=N ir=TOTAL ir_per_request=R verify_per_request=V rest_per_request=R-V
# and keeps the callgrind output in the temp dir (BENCH_KEEP=1) for callgrind_annotate.
#   bench/callgrind.sh [BUILD_DIR]       scenarios from CALLGRIND_SCENARIOS ("ping calc")
# Scenarios: ping (valid PING), calc (the immediate `/snail calc`, about 1.5 KB), consent (the
# deferred `/consent status`: admission and acknowledgement; its jobs run too). Everything on
# 127.0.0.1 in a temp dir removed on exit. Settings: CALLGRIND_SECONDS (3), CALLGRIND_CONNECTIONS (4).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${1:-build-release}
SCENARIOS=${CALLGRIND_SCENARIOS:-"ping calc"}
SECONDS_RUN=${CALLGRIND_SECONDS:-3}
CONNECTIONS=${CALLGRIND_CONNECTIONS:-4}
APP_ID=123456789012345678
SLIMY=$ROOT/$BUILD_DIR/slimy
[ -x "$SLIMY" ] || { echo "callgrind.sh: no $SLIMY (build it first)" >&2; exit 1; }
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null && command -v wrk >/dev/null ||
    { echo "callgrind.sh: needs valgrind and wrk" >&2; exit 1; }

WORK=$(mktemp -d /tmp/slimy-callgrind.XXXXXX)
SLIMY_PID="" FAKE_PID=""
cleanup() {
    set +e
    [ -n "$SLIMY_PID" ] && kill -TERM "$SLIMY_PID" 2>/dev/null && wait "$SLIMY_PID" 2>/dev/null
    [ -n "$FAKE_PID" ] && kill -TERM "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cc -O2 -o "$WORK/gen_bodies" "$ROOT/bench/gen_bodies.c" -lsodium
"$ROOT/$BUILD_DIR/slimy-sign" keygen --out "$WORK/keys" >/dev/null
TS=$(date +%s)
"$WORK/gen_bodies" "$WORK/keys/dev-secret.key" "$TS" ping >"$WORK/ping.txt"
"$WORK/gen_bodies" "$WORK/keys/dev-secret.key" "$TS" calc 20000 0 >"$WORK/calc.txt"
"$WORK/gen_bodies" "$WORK/keys/dev-secret.key" "$TS" consent 20000 0 >"$WORK/consent.txt"

FAKE_PORT=$(free_port)
python3 "$ROOT/tests/tools/fake_discord.py" --port "$FAKE_PORT" >"$WORK/fake.out" 2>&1 &
FAKE_PID=$!

for scen in $SCENARIOS; do
    [ -f "$WORK/$scen.txt" ] || { echo "callgrind.sh: unknown scenario $scen" >&2; exit 1; }
    port=$(free_port)
    out=$WORK/callgrind.$scen.out
    env -i PATH="$PATH" HOME="$WORK" ENV_FILE=/nonexistent DISCORD_PUBLIC_KEY="$(cat "$WORK/keys/dev-public.key")" \
        DISCORD_APPLICATION_ID=$APP_ID DISCORD_API_BASE="http://127.0.0.1:$FAKE_PORT/api/v10" PORT="$port" \
        BIND=127.0.0.1 SIGNATURE_MAX_AGE_S=900 LOG_LEVEL=warn LOG_DIR= JOB_QUEUE_MAX=1000000 DRAIN_TIMEOUT_S=1 \
        SQLITE_PATH="$WORK/$scen.db" DATA_DIR="$WORK" PERSONALITY_FILE="$ROOT/bot-personality.md" \
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" "$SLIMY" serve \
        >"$WORK/$scen.log" 2>&1 &
    SLIMY_PID=$!
    for _ in $(seq 1 300); do
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/health" && break
        sleep 0.1
    done
    # Warm-up (first connections, caches), then the measured run on bodies not sent yet.
    head -n 200 "$WORK/$scen.txt" >"$WORK/$scen.warm"
    tail -n +201 "$WORK/$scen.txt" >"$WORK/$scen.run"
    [ -s "$WORK/$scen.run" ] || cp "$WORK/$scen.txt" "$WORK/$scen.run" # PING: one body for both
    : >"$WORK/marker"
    wrk -t1 -c"$CONNECTIONS" -d1s -s "$ROOT/bench/admit.lua" "http://127.0.0.1:$port" -- "$WORK/$scen.warm" 1 1 \
        "$WORK/marker" >/dev/null
    callgrind_control -i on "$SLIMY_PID" >/dev/null
    : >"$WORK/marker"
    wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" -s "$ROOT/bench/admit.lua" "http://127.0.0.1:$port" -- \
        "$WORK/$scen.run" 1 1 "$WORK/marker" >"$WORK/$scen.wrk"
    callgrind_control -i off "$SLIMY_PID" >/dev/null
    kill -TERM "$SLIMY_PID"
    wait "$SLIMY_PID" || true
    SLIMY_PID=""
    line=$(grep '^RESULT ' "$WORK/$scen.wrk")
    good=$(echo "$line" | tr ' ' '\n' | awk -F= '$1 == "acks" || $1 == "pongs" || $1 == "imm" {n += $2} END {print n + 0}')
    other=$(echo "$line" | tr ' ' '\n' | awk -F= '$1 == "other" {print $2}')
    ir=$(cat "$out"* | awk '/^(summary|totals):/ {if ($2 > s) s = $2} END {print s + 0}')
    # The verification's share, apart: its cost varies by a few % with the signature (Ed25519's
    # verification is not constant-time), so "rest" is what compares between two builds.
    verify=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
        awk '/:crypto_sign_verify_detached / {gsub(",", "", $1); print $1; exit}')
    verify=${verify:-0}
    n=$((good > 0 ? good : 1))
    echo "CALLGRIND scenario=$scen requests=$good other=$other ir=$ir ir_per_request=$((ir / n))" \
        "verify_per_request=$((verify / n)) rest_per_request=$(((ir - verify) / n))"
done
