#!/usr/bin/env bash
# flood.sh — what a flood of unsigned connections costs a replica: its memory, and the time it
# takes meanwhile to answer /health and a signed PING (Discord waits 3 s).
# Usage: bench/flood.sh [BUILD_DIR]   (default: build; needs BUILD_DIR/slimy and slimy-sign)
# Settings: FLOOD_CONNS (400), FLOOD_SECONDS (20), FLOOD_MODE (body: unsigned POST /interactions
# announcing 1 MiB and sending all of it but the last byte; or headers, stall, slowloris: see
# tests/tools/raw_http.py). Loopback only; everything stops by itself and lives in a temp dir.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd) || exit 2
CONNS=${FLOOD_CONNS:-400} SECONDS_=${FLOOD_SECONDS:-20} MODE=${FLOOD_MODE:-body}
TMP=$(mktemp -d /tmp/slimy-flood.XXXXXX)
PID= FLOOD_PID=
cleanup() {
    [ -n "$FLOOD_PID" ] && kill "$FLOOD_PID" 2>/dev/null
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
KEY=$("$BUILD/slimy-sign" keygen --out "$TMP/keys")
env -i PATH="$PATH" HOME="$TMP" DISCORD_PUBLIC_KEY="$KEY" DISCORD_APPLICATION_ID=123456789012345678 \
    DISCORD_API_BASE=http://127.0.0.1:1/api/v10 PORT="$PORT" BIND=127.0.0.1 \
    PERSONALITY_FILE="$ROOT/bot-personality.md" SIGNATURE_MAX_AGE_S=900 LOG_LEVEL=warn LOG_DIR= \
    DATA_DIR="$TMP/data" SQLITE_PATH="$TMP/slimy.db" ENV_FILE=/nonexistent \
    "$BUILD/slimy" serve >"$TMP/slimy.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null --max-time 1 "$URL/health" && break; sleep 0.1; done

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status"; }
# probe: prints "health_s ping_s" (3.000 when no 200 came within 3 s).
probe() {
    local h p
    h=$(curl -s -o /dev/null --max-time 3 -w '%{http_code} %{time_total}' "$URL/health")
    printf '{"type":1}' >"$TMP/ping"
    "$BUILD/slimy-sign" headers --key "$TMP/keys/dev-secret.key" --body-file "$TMP/ping" >"$TMP/ping.hdr"
    p=$(curl -s -o /dev/null --max-time 3 -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' \
        -H @"$TMP/ping.hdr" --data-binary @"$TMP/ping" "$URL/interactions")
    [ "${h%% *}" = 200 ] && h=${h#* } || h=3.000
    [ "${p%% *}" = 200 ] && p=${p#* } || p=3.000
    echo "$h $p"
}

before=$(rss_mib)
python3 "$ROOT/tests/tools/raw_http.py" flood "$PORT" --conns "$CONNS" --seconds "$SECONDS_" --mode "$MODE" \
    >"$TMP/flood.json" &
FLOOD_PID=$!
peak=$before
: >"$TMP/probes"
while kill -0 "$FLOOD_PID" 2>/dev/null; do
    probe >>"$TMP/probes"
    r=$(rss_mib)
    peak=$(awk -v a="$peak" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
    sleep 0.5
done
wait "$FLOOD_PID"
FLOOD_PID=
sleep 1
after=$(rss_mib)
echo "flood: $CONNS connections, $SECONDS_ s, mode $MODE: $(cat "$TMP/flood.json")"
echo "RSS MiB: before $before, peak during $peak, after $after"
awk '{ h[NR] = $1; p[NR] = $2; if ($1 > hm) hm = $1; if ($2 > pm) pm = $2; if ($1 >= 3) hf++; if ($2 >= 3) pf++ }
    END { n = asort(h); asort(p)
          printf "/health: %d probes, median %.4f s, max %.4f s, no answer in 3 s: %d\n", n, h[int((n + 1) / 2)], hm, hf
          printf "PING:    %d probes, median %.4f s, max %.4f s, no answer in 3 s: %d\n", n, p[int((n + 1) / 2)], pm, pf }' \
    "$TMP/probes"
