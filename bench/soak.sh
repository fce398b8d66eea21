#!/usr/bin/env bash
# soak.sh — a bounded mixed-load run against one `slimy serve` with the fake Discord and the fake
# OpenAI (tests/tools), sampling the server's memory (VmRSS) and open descriptors every few
# seconds: do they stay flat?
#
#   bench/soak.sh [BUILD_DIR]      (default: build; see bench/README.md)
#
# Load (loopback only, stops by itself after SOAK_DURATION seconds, default 180): SOAK_CLIENTS
# (4) keep-alive clients send signed requests at SOAK_RATE (40) requests/s in all, in a fixed
# mix: PING 40 %, `/snail test` (immediate) 20 %, and deferred commands 40 %: `/chat` (through the
# fake OpenAI, users of a pool of 200, each past its cooldown), `/consent set` (a store write, a new
# user each time) and `/remember` (a store write, users of a consenting pool of 200). Every deferred
# reply must reach the fake Discord.
# SOAK_REDIS=1 runs the server with a throwaway Redis (tests/tools/redis.sh) as its shared state, so
# the in-process tables that keep every interaction id for 15 minutes (dedupe) are not in the
# server's memory; without it they are, and RSS grows with them until the first ids expire.
# Samples every SOAK_INTERVAL (5) seconds: VmRSS and VmHWM from /proc/PID/status, the number of
# entries of /proc/PID/fd. Prints the table, first/last/max, the growth after the first third of
# the run (the warm-up) in kB/min and per deferred command, and a verdict: flat when RSS grew by at
# most SOAK_RSS_SLACK_KB (1024) and the descriptors by at most SOAK_FD_SLACK (4) after the warm-up.
# Exit status: 0 flat, 3 not flat, 1 the run failed (an unexpected answer or an undelivered reply).
# Needs python3 with the cryptography module (Debian: python3-cryptography) to sign requests.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd) || { echo "soak: no build directory" >&2; exit 1; }
DURATION=${SOAK_DURATION:-180}
INTERVAL=${SOAK_INTERVAL:-5}
RATE=${SOAK_RATE:-40}
CLIENTS=${SOAK_CLIENTS:-4}
RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-1024}
FD_SLACK=${SOAK_FD_SLACK:-4}
APP_ID=123456789012345678
[ -x "$BUILD/slimy" ] && [ -x "$BUILD/slimy-sign" ] || { echo "soak: build $BUILD first (./scripts/setup.sh)" >&2; exit 1; }
python3 -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null ||
    { echo "soak: python3 cryptography missing (apt-get install python3-cryptography)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/slimy-soak.XXXXXX)
FAKE_PID= AI_PID= SLIMY_PID= LOAD_PID= REDIS_ENV=
cleanup() {
    local p
    for p in $LOAD_PID $SLIMY_PID $FAKE_PID $AI_PID; do kill -TERM "$p" 2>/dev/null; done
    for p in $LOAD_PID $SLIMY_PID $FAKE_PID $AI_PID; do wait "$p" 2>/dev/null; done
    [ -d "$WORK/redis" ] && "$ROOT/tests/tools/redis.sh" stop "$WORK/redis" >/dev/null 2>&1
    if [ "${SOAK_KEEP:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { local i; for i in $(seq 100); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done; return 1; }

PUBLIC_KEY=$("$BUILD/slimy-sign" keygen --out "$WORK/keys") || exit 1
FAKE_PORT=$(free_port)
python3 "$ROOT/tests/tools/fake_discord.py" --port "$FAKE_PORT" >"$WORK/fake_discord.out" 2>&1 &
FAKE_PID=$!
AI_PORT=$(free_port)
python3 "$ROOT/tests/tools/fake_openai.py" --port "$AI_PORT" >"$WORK/fake_openai.out" 2>&1 &
AI_PID=$!
wait_http "http://127.0.0.1:$FAKE_PORT/_control/health" && wait_http "http://127.0.0.1:$AI_PORT/_control/health" ||
    { echo "soak: the fakes did not start" >&2; exit 1; }
if [ "${SOAK_REDIS:-0}" = 1 ]; then
    REDIS_PORT=$(free_port)
    "$ROOT/tests/tools/redis.sh" start "$WORK/redis" "$REDIS_PORT" >"$WORK/redis.out" 2>&1 ||
        { echo "soak: redis did not start" >&2; cat "$WORK/redis.out" >&2; exit 1; }
    REDIS_ENV="REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
fi
PORT=$(free_port)
env -i PATH="$PATH" HOME="$WORK" DISCORD_PUBLIC_KEY="$PUBLIC_KEY" DISCORD_APPLICATION_ID="$APP_ID" \
    DISCORD_API_BASE="http://127.0.0.1:$FAKE_PORT/api/v10" PORT="$PORT" BIND=127.0.0.1 \
    OPENAI_BASE_URL="http://127.0.0.1:$AI_PORT/v1" OPENAI_API_KEY=sk-soak OPENAI_MODEL=fake-chat IMAGE_MODEL=fake-image \
    PERSONALITY_FILE="$ROOT/bot-personality.md" SIGNATURE_MAX_AGE_S=900 LOG_LEVEL=info LOG_DIR="$WORK/logs" \
    DATA_DIR="$WORK/data" SQLITE_PATH="$WORK/data/slimy.db" ENV_FILE=/nonexistent $REDIS_ENV ${SOAK_SLIMY_ENV:-} \
    "$BUILD/slimy" serve >"$WORK/slimy.out" 2>&1 &
SLIMY_PID=$!
wait_http "http://127.0.0.1:$PORT/health" || { echo "soak: slimy did not start" >&2; tail "$WORK/slimy.out" >&2; exit 1; }

# ---- the load: one python process, CLIENTS threads with keep-alive connections ----
cat >"$WORK/load.py" <<'EOF'
import http.client, json, sys, threading, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
key_file, port, app_id, duration, rate, clients, out = sys.argv[1:8]
port, duration, rate, clients = int(port), float(duration), float(rate), int(clients)
sk = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(open(key_file).read().strip())[:32])
GUILD, CHANNEL = "7000000000000001", "7000000000000002"
lock = threading.Lock()
seq = [0]
counts = {}          # kind -> {"ok": n, "other": n}
deferred_tokens = []  # tokens of acknowledged deferred commands
POOL = ["71%05d" % i for i in range(200)]  # /remember users (consent given at start)
CHAT_POOL = ["75%05d" % i for i in range(200)]  # /chat users: bounded history
pool_next = [0]
chat_next = [0]
stop_at = time.time() + duration

def next_seq():
    with lock:
        seq[0] += 1
        return seq[0]

def command(name, user, options=None):
    n = next_seq()
    body = {"type": 2, "id": "9%d%06d" % (int(time.time()), n), "application_id": app_id,
            "token": "soak-%d-%d" % (int(time.time() * 1000), n), "version": 1,
            "guild_id": GUILD, "channel_id": CHANNEL,
            "member": {"user": {"id": user, "username": "soak%s" % user}, "permissions": "2147483647"},
            "data": {"id": "9", "name": name, "type": 1}}
    if options:
        body["data"]["options"] = options
    return body

def kind_body(kind):
    if kind == "ping":
        return {"type": 1}
    if kind == "snail":
        return command("snail", "72%d" % next_seq(), [{"name": "test", "type": 1}])
    if kind == "chat":
        with lock:
            user = CHAT_POOL[chat_next[0] % len(CHAT_POOL)]
            chat_next[0] += 1
        return command("chat", user, [{"name": "message", "type": 3, "value": "soak %d" % next_seq()}])
    if kind == "consent":
        return command("consent", "74%d" % next_seq(),
                       [{"name": "set", "type": 1, "options": [{"name": "allow", "type": 5, "value": True}]}])
    if kind == "remember":
        with lock:
            user = POOL[pool_next[0] % len(POOL)]
            pool_next[0] += 1
        return command("remember", user, [{"name": "note", "type": 3, "value": "soak note %d" % next_seq()}])
    raise ValueError(kind)

def expected(kind, answer):
    if kind == "ping":
        return answer == {"type": 1}
    if kind == "snail":
        return answer.get("type") == 4
    return answer.get("type") == 5

def send(conn, kind, body):
    raw = json.dumps(body, separators=(",", ":")).encode()
    ts = str(int(time.time()))
    sig = sk.sign(ts.encode() + raw).hex()
    conn.request("POST", "/interactions", raw, {"Content-Type": "application/json",
                 "X-Signature-Ed25519": sig, "X-Signature-Timestamp": ts})
    resp = conn.getresponse()
    data = resp.read()
    try:
        answer = json.loads(data)
    except ValueError:
        answer = {}
    ok = resp.status == 200 and expected(kind, answer)
    with lock:
        c = counts.setdefault(kind, {"ok": 0, "other": 0})
        c["ok" if ok else "other"] += 1
        if ok and kind not in ("ping", "snail"):
            deferred_tokens.append(body["token"])
    return ok

# 10 slots: 4 PING, 2 /snail test, 2 /chat, 1 /consent, 1 /remember
MIX = ["ping", "snail", "ping", "chat", "consent", "ping", "snail", "chat", "ping", "remember"]

def client(i):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    period = clients / rate
    t, k = time.time() + i * period / clients, i
    while t < stop_at:
        now = time.time()
        if t > now:
            time.sleep(t - now)
        kind = MIX[k % len(MIX)]
        k += 1
        try:
            send(conn, kind, kind_body(kind))
        except (OSError, http.client.HTTPException):
            with lock:
                counts.setdefault(kind, {"ok": 0, "other": 0})["other"] += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        t += period

# Consent for the /remember pool first (one round, not counted in the mix).
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for user in POOL:
    send(conn, "setup", command("consent", user,
         [{"name": "set", "type": 1, "options": [{"name": "allow", "type": 5, "value": True}]}]))
    time.sleep(0.01)
conn.close()
with lock:
    setup = counts.pop("setup", {})
    deferred_tokens.clear()
print("load: started", flush=True)
threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
for th in threads:
    th.start()
for th in threads:
    th.join()
json.dump({"counts": counts, "setup": setup, "deferred_tokens": deferred_tokens}, open(out, "w"))
print("load: done", flush=True)
EOF
python3 "$WORK/load.py" "$WORK/keys/dev-secret.key" "$PORT" "$APP_ID" "$DURATION" "$RATE" "$CLIENTS" \
    "$WORK/load.json" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
for _ in $(seq 300); do grep -q started "$WORK/load.out" && break; kill -0 "$LOAD_PID" 2>/dev/null || break; sleep 0.1; done
grep -q started "$WORK/load.out" || { echo "soak: the load did not start" >&2; cat "$WORK/load.out" >&2; exit 1; }

# ---- sampling ----
sample() { # prints "elapsed_s rss_kb hwm_kb fds"
    local rss hwm fds
    rss=$(awk '/^VmRSS:/{print $2}' "/proc/$SLIMY_PID/status" 2>/dev/null) || return 1
    hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$SLIMY_PID/status" 2>/dev/null)
    fds=$(ls "/proc/$SLIMY_PID/fd" 2>/dev/null | wc -l)
    [ -n "$rss" ] && echo "$(( EPOCHSECONDS - START )) $rss $hwm $fds"
}
START=$EPOCHSECONDS
echo "soak: ${DURATION}s of mixed load at ${RATE}/s (${CLIENTS} clients) against pid $SLIMY_PID; a sample every ${INTERVAL}s"
printf '%8s %10s %10s %6s\n' t_s rss_kb hwm_kb fds
: >"$WORK/samples.txt"
while kill -0 "$LOAD_PID" 2>/dev/null; do
    kill -0 "$SLIMY_PID" 2>/dev/null || { echo "soak: slimy died" >&2; tail "$WORK/slimy.out" >&2; exit 1; }
    sample | tee -a "$WORK/samples.txt" | awk '{printf "%8s %10s %10s %6s\n", $1, $2, $3, $4}'
    sleep "$INTERVAL"
done
wait "$LOAD_PID" 2>/dev/null
LOAD_PID=
sleep 2 # the last replies
sample | tee -a "$WORK/samples.txt" | awk '{printf "%8s %10s %10s %6s   (after the load)\n", $1, $2, $3, $4}'

# ---- results ----
echo "SQLite files at the end: $(du -ck "$WORK"/data/slimy.db* 2>/dev/null | awk 'END{print $1}') kB (its page cache, 2 MiB at most by default, grows with them)"
python3 - "$WORK/samples.txt" "$WORK/load.json" "http://127.0.0.1:$FAKE_PORT" "$RSS_SLACK_KB" "$FD_SLACK" "$DURATION" <<'EOF'
import json, sys, urllib.request
samples_file, load_file, fake, rss_slack, fd_slack, duration = sys.argv[1:7]
rows = [list(map(int, l.split())) for l in open(samples_file) if l.strip()]
load = json.load(open(load_file))
reqs = json.load(urllib.request.urlopen(fake + "/_control/requests?method=PATCH"))
delivered = {r["path"].split("/")[-3] for r in reqs if r.get("status") == 200}
tokens = load["deferred_tokens"]
missing = [t for t in tokens if t not in delivered]
total = sum(c["ok"] + c["other"] for c in load["counts"].values())
print()
print("requests: %d in %ss (%.1f/s)" % (total, duration, total / float(duration)))
for kind, c in sorted(load["counts"].items()):
    print("  %-9s ok %6d  other %d" % (kind, c["ok"], c["other"]))
print("deferred replies delivered to the fake Discord: %d of %d" % (len(tokens) - len(missing), len(tokens)))
warm = max(1, len(rows) // 3)  # the first third is the warm-up
verdict = True
n_deferred = max(1, len(tokens))
for name, col, slack, unit in (("RSS", 1, int(rss_slack), " kB"), ("fds", 3, int(fd_slack), "")):
    vals = [r[col] for r in rows]
    base, t0 = vals[warm - 1], rows[warm - 1][0]
    grown = max(vals[warm - 1:]) - base
    minutes = max(1e-9, (rows[-1][0] - t0) / 60.0)
    flat = grown <= slack
    verdict &= flat
    extra = ""
    if col == 1:
        share = (len(rows) - warm) / max(1, len(rows) - 1)  # the part of the deferred commands after the warm-up
        extra = ", %.0f kB/min, %.0f bytes per deferred command" % (
            (vals[-1] - base) / minutes, (vals[-1] - base) * 1024.0 / (n_deferred * share))
    print("%-4s first %d%s, last %d%s, max %d%s; after the warm-up (t=%ds: %d%s) grew by %d%s (%d allowed)%s: %s"
          % (name, vals[0], unit, vals[-1], unit, max(vals), unit, t0, base, unit, grown, unit, slack, extra,
             "flat" if flat else "GROWING"))
others = sum(c["other"] for c in load["counts"].values())
if others or missing:
    print("RUN FAILED: %d unexpected answers, %d deferred replies not delivered" % (others, len(missing)))
    sys.exit(1)
print("verdict: " + ("flat" if verdict else "NOT flat"))
sys.exit(0 if verdict else 3)
EOF
rc=$?
[ "$rc" = 1 ] && SOAK_KEEP=1
exit $rc
