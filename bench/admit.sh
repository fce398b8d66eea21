#!/usr/bin/env bash
# admit.sh — does Redis cost Slimy admission throughput? One run on this machine answers:
#   "with Redis on loopback, the rate of acknowledged application commands stays within 20 % of
#    the in-process rate, and PING is unaffected".
# Builds Slimy in Release (build-release/), starts a throwaway Redis, and measures with wrk, in each
# mode (in-process state; REDIS_URL), PING and a deferred `/consent status` whose every request
# has a fresh interaction id and user id (so each one is admitted and queued). Each measurement gets
# a fresh `slimy serve`, a fresh fake Discord and an emptied Redis, after a short warm-up. The modes
# take turns in ABBA order (in-process, Redis, Redis, in-process with the default two rounds), so a
# drift in the machine's speed hits both alike. Prints one table; everything runs on loopback in a
# temp dir and is stopped on exit. See bench/README.md.
#
# Settings (environment): BENCH_ROUNDS (2), BENCH_DURATION (s, 10), BENCH_WARMUP (s, 2),
# BENCH_THREADS (wrk -t, 2), BENCH_CONNECTIONS (wrk -c, 16), BENCH_BODIES (signed command bodies
# for each measured run, 300000), BENCH_WARM_BODIES (for each warm-up, 60000), BENCH_RETRIES (2:
# how often a measurement is redone when wrk's connections landed unevenly on the server's HTTP
# threads), BENCH_MODES ("inproc redis"), BENCH_KEEP=1 keeps the temp dir (logs, wrk output).
# Exit status: 0 the claim holds, 3 it does not, 1 the run failed or a measurement was invalid
# (socket errors, non-2xx, answers that are not acknowledgements, command bodies sent twice, no
# reply delivered, commands admitted from memory in Redis mode).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
BODIES=${BENCH_BODIES:-300000}
WARM_BODIES=${BENCH_WARM_BODIES:-60000}
RETRIES=${BENCH_RETRIES:-2}
MODES=${BENCH_MODES:-"inproc redis"}
ROUNDS=${BENCH_ROUNDS:-2}
BUILD_DIR=build-release
CMD_RATIO_MIN=0.80  # Redis/in-process rate of acknowledged commands: "within 20 %"
PING_RATIO_MIN=0.90 # PING "unaffected": within 10 % (the noise between passes here is a few %)
APP_ID=123456789012345678

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
for mode in $MODES; do
    case "$mode" in inproc | redis) ;; *) die "unknown mode $mode (inproc, redis)" ;; esac
done

# ---- tools ----
command -v wrk >/dev/null || apt_install wrk
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || apt_install redis-server redis-tools
command -v python3 >/dev/null || apt_install python3
[ -x /usr/bin/time ] || apt_install time

build_release "$BUILD_DIR"

# ---- temp dir and cleanup ----
WORK=$(mktemp -d /tmp/slimy-bench.XXXXXX)
SLIMY_PID="" FAKE_PID="" WRK_PIDS="" REDIS_STARTED=0 OK=0
trap 'bench_cleanup "$SLIMY_PID" "$FAKE_PID"' EXIT
trap 'exit 130' INT TERM


# ---- signed bodies ----
say "generating signed bodies in $WORK"
cc -O2 -o "$WORK/gen_bodies" "$ROOT/bench/gen_bodies.c" -lsodium || die "cannot compile bench/gen_bodies.c"
"$SIGN" keygen --out "$WORK/keys" >/dev/null
PUBLIC_KEY=$(cat "$WORK/keys/dev-public.key")
TS=$(date +%s) # SIGNATURE_MAX_AGE_S=900 covers the whole run
"$WORK/gen_bodies" "$WORK/keys/dev-secret.key" "$TS" ping >"$WORK/ping.txt"
# Every measurement starts from empty state (a fresh process, an emptied Redis), so all use the
# same bodies; the warm-up and the measured run use disjoint sets.
WARM_FIRST=100000000
"$WORK/gen_bodies" "$WORK/keys/dev-secret.key" "$TS" consent "$WARM_BODIES" "$WARM_FIRST" >"$WORK/cmd-warm.txt"
"$WORK/gen_bodies" "$WORK/keys/dev-secret.key" "$TS" consent "$BODIES" 0 >"$WORK/cmd.txt"
for f in cmd-warm cmd; do # one file per wrk thread (admit.lua)
    awk -v n="$THREADS" -v f="$WORK/$f.txt" '{print > (f "." (NR - 1) % n)}' "$WORK/$f.txt"
    rm "$WORK/$f.txt"
done

# ---- Redis ----
REDIS_PORT=$(free_port)
"$ROOT/tests/tools/redis.sh" start "$WORK/redis" "$REDIS_PORT" >/dev/null || die "redis.sh start failed"
REDIS_STARTED=1
REDIS_PID=$(cat "$WORK/redis/pid")

# ---- CPU accounting ----
machine_ticks() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat; } # total idle
# http_ticks: "tid ticks" of each libmicrohttpd worker thread of the server, one a line.
http_ticks() {
    local t
    for t in /proc/"$SLIMY_PID"/task/*; do
        case "$(cat "$t/comm" 2>/dev/null)" in MHD-worker | MHD-single) ;; *) continue ;; esac
        echo "${t##*/} $(sed 's/^.*) //' "$t/stat" | awk '{print $12 + $13}')"
    done
}

# ---- the processes under test ----
start_fake() { # TAG
    local port
    port=$(free_port)
    python3 "$ROOT/tests/tools/fake_discord.py" --port "$port" >"$WORK/$1-fake_discord.out" 2>&1 &
    FAKE_PID=$!
    FAKE_URL=http://127.0.0.1:$port
    for _ in $(seq 1 100); do
        curl -s -o /dev/null --max-time 1 "$FAKE_URL/_control/health" && return 0
        sleep 0.05
    done
    die "the fake Discord did not start (see $WORK/$1-fake_discord.out)"
}
start_slimy() { # TAG MODE: logs to $WORK/TAG-slimy.log, data in $WORK/TAG/
    local tag=$1 mode=$2 extra=() i out=""
    [ "$mode" = redis ] && extra=(REDIS_URL="redis://127.0.0.1:$REDIS_PORT")
    # shellcheck disable=SC2206 # BENCH_SLIMY_ENV is a list of VAR=VALUE words
    extra+=(${BENCH_SLIMY_ENV:-})
    SLIMY_PORT=$(free_port)
    SLIMY_URL=http://127.0.0.1:$SLIMY_PORT
    SLIMY_LOG=$WORK/$tag-slimy.log
    mkdir -p "$WORK/$tag"
    env -i PATH="$PATH" HOME="$WORK" ENV_FILE=/nonexistent \
        DISCORD_PUBLIC_KEY="$PUBLIC_KEY" DISCORD_APPLICATION_ID="$APP_ID" \
        DISCORD_API_BASE="$FAKE_URL/api/v10" PORT="$SLIMY_PORT" BIND=127.0.0.1 \
        SIGNATURE_MAX_AGE_S=900 LOG_LEVEL=warn LOG_DIR= JOB_QUEUE_MAX=1000000 DRAIN_TIMEOUT_S=2 \
        SQLITE_PATH="$WORK/$tag/slimy.db" DATA_DIR="$WORK/$tag" PERSONALITY_FILE="$ROOT/bot-personality.md" \
        "${extra[@]}" "$SLIMY" serve >"$SLIMY_LOG" 2>&1 &
    SLIMY_PID=$!
    for i in $(seq 1 200); do
        out=$(curl -s --max-time 1 -w ' %{http_code}' "$SLIMY_URL/ready" || true)
        case "$out" in *' 200') break ;; esac
        alive "$SLIMY_PID" || break
        sleep 0.05
    done
    case "$out" in
    *' 200') ;;
    *)
        tail -n 20 "$SLIMY_LOG" >&2
        die "slimy serve ($mode) is not ready: /ready answered [$out]" ;;
    esac
    if [ "$mode" = redis ]; then
        case "$out" in *'"redis":"up"'*) ;; *)
            tail -n 20 "$SLIMY_LOG" >&2
            die "slimy serve with REDIS_URL is not using Redis: /ready answered [$out]" ;;
        esac
    fi
}

# split_of BEFORE AFTER (http_ticks outputs): each HTTP thread's share of their work in between,
# in %, busiest first ("?" when no thread was found). balanced SPLIT: the least busy thread did at
# least half of an even share. libmicrohttpd keeps a connection on the thread that accepted it;
# when wrk's connections all land on one thread, the server does its HTTP work on one core
# whatever the mode, so such a run measures that, not the mode.
split_of() {
    local out
    [ -n "$1" ] && [ -n "$2" ] || { echo "?"; return; }
    out=$(join <(echo "$1" | sort) <(echo "$2" | sort) | awk '{d[NR] = $3 - $2; s += d[NR]} END {
        for (i = 1; i <= NR; i++) print (s ? sprintf("%.0f", d[i] / s * 100) : 0)}' | sort -rn | paste -sd/)
    echo "${out:-?}"
}
balanced() {
    [ "$1" = "?" ] && return 0
    echo "$1" | tr '/' '\n' | awk '{n++; if (NR == 1 || $1 < m) m = $1} END {exit !(n && m >= 50 / n)}'
}

# run_wrk KEY FILE SHARE SECONDS [measured [early]]: one wrk run against the server (admit.lua).
# Its RESULT fields go to R[KEY/field]; when measured also the CPU use and the split of the work
# between the server's HTTP threads. CPU counters are sampled once every wrk thread has loaded
# its bodies (admit.lua's marker file) and again when wrk has exited. With "early", the split is
# checked after 1.5 s and an uneven run is stopped there (R[KEY/aborted]=1) to be done again.
declare -A R
run_wrk() {
    local key=$1 file=$2 share=$3 secs=$4 measure=${5:-} early=${6:-}
    local out="$WORK/${key//\//-}-wrk.txt" marker="$WORK/wrk.marker"
    local tpid wpid i s0 r0 f0 w0 m0 h0 hm s1 r1 f1 m1 h1 t0 t1 line kv rc=0
    R[$key/aborted]=0
    rm -f "$marker"
    /usr/bin/time -f '%U %S' -o "$out.time" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency \
        -s "$ROOT/bench/admit.lua" "$SLIMY_URL" -- "$file" "$share" "$THREADS" "$marker" >"$out" 2>&1 &
    tpid=$!
    WRK_PIDS=$tpid
    for ((i = 0; i < 6000; i++)); do
        [ -f "$marker" ] && [ "$(wc -l <"$marker")" -ge "$THREADS" ] && break
        alive "$tpid" || break
        sleep 0.01
    done
    wpid=$(pgrep -P "$tpid" -x wrk || true)
    WRK_PIDS="$wpid $tpid"
    t0=$EPOCHREALTIME w0=$(cpu_ticks "$wpid") h0=$(http_ticks)
    s0=$(cpu_ticks "$SLIMY_PID") r0=$(cpu_ticks "$REDIS_PID") f0=$(cpu_ticks "$FAKE_PID") m0=$(machine_ticks)
    if [ -n "$early" ]; then
        sleep 1.5
        hm=$(http_ticks)
        R[$key/split]=$(split_of "$h0" "$hm")
        if ! balanced "${R[$key/split]}"; then
            kill -TERM "$wpid" 2>/dev/null || true
            wait "$tpid" 2>/dev/null || true
            WRK_PIDS=""
            R[$key/aborted]=1
            return 0
        fi
    fi
    wait "$tpid" || rc=$?
    WRK_PIDS=""
    s1=$(cpu_ticks "$SLIMY_PID") r1=$(cpu_ticks "$REDIS_PID") f1=$(cpu_ticks "$FAKE_PID") m1=$(machine_ticks)
    t1=$EPOCHREALTIME h1=$(http_ticks)
    [ "$rc" = 0 ] || { cat "$out" >&2; die "wrk failed (status $rc)"; }
    line=$(grep '^RESULT ' "$out") || { cat "$out" >&2; die "no RESULT line from wrk"; }
    say "  ${measure:-warm-up} ${line#RESULT }"
    for kv in ${line#RESULT }; do R[$key/${kv%%=*}]=${kv#*=}; done
    grep '^FIRST_OTHER ' "$out" >&2 || true
    [ -n "$measure" ] || return 0
    # CPU used while wrk was sending, in % of one core; "busy" is the whole machine (all cores).
    pct() { awk -v a="$1" -v b="$2" -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN{printf "%.0f", (b-a)/hz/(t1-t0)*100}'; }
    R[$key/cpu_slimy]=$(pct "$s0" "$s1")
    R[$key/cpu_redis]=$(pct "$r0" "$r1")
    R[$key/cpu_fake]=$(pct "$f0" "$f1")
    R[$key/cpu_wrk]=$(awk -v w0="$w0" -v hz="$HZ" -v t0="$t0" -v t1="$t1" '{printf "%.0f", ($1+$2-w0/hz)/(t1-t0)*100}' "$out.time")
    read -r mt0 mi0 <<<"$m0"
    read -r mt1 mi1 <<<"$m1"
    R[$key/busy]=$(awk -v t="$((mt1 - mt0))" -v i="$((mi1 - mi0))" -v n="$(nproc)" 'BEGIN{printf "%.0f", (t > 0) ? (t-i)/t*100*n : 0}')
    # Whatever else ran on the machine meanwhile (other jobs, kernel threads, ...). The loopback
    # networking done in softirqs is already in the processes' figures (charged to the process
    # that was running), so it is not here.
    R[$key/cpu_rest]=$((R[$key/busy] - R[$key/cpu_slimy] - R[$key/cpu_redis] - R[$key/cpu_fake] - R[$key/cpu_wrk]))
    R[$key/split]=$(split_of "$h0" "$h1")
    R[$key/balanced]=$(balanced "${R[$key/split]}" && echo 1 || echo 0)
}

# delivered PREFIX: of the 100 interactions whose tokens start with PREFIX, how many got their
# reply PATCHed to the fake Discord (waits up to 15 s for the first): the jobs behind the
# acknowledgements really ran. The fake is far slower than admission, so not all are done yet.
delivered() {
    local n=0 i
    for i in $(seq 1 150); do
        n=$(curl -s --max-time 5 "$FAKE_URL/_control/requests?method=PATCH&path_contains=/$1" |
            python3 -c 'import json,sys; print(len({r["path"] for r in json.load(sys.stdin) if r["status"] == 200}))' 2>/dev/null) || n=0
        [ "$n" -gt 0 ] && break
        sleep 0.1
    done
    echo "$n"
}

# measure PASS MODE SCENARIO: warm-up and measured run on a fresh server, fake Discord and Redis;
# started again (up to RETRIES times) when wrk's connections land unevenly on the HTTP threads.
measure() {
    local p=$1 mode=$2 scen=$3 attempt tag early key=$1/$3
    for ((attempt = 1; attempt <= RETRIES + 1; attempt++)); do
        tag=p$p-$mode-$scen-$attempt
        early=$([ "$attempt" -le "$RETRIES" ] && echo early || true)
        [ "$mode" = redis ] && { redis-cli -p "$REDIS_PORT" flushall >/dev/null || die "redis FLUSHALL failed"; }
        start_fake "$tag"
        start_slimy "$tag" "$mode"
        say "pass $p ($mode) $scen, attempt $attempt: server on $SLIMY_URL"
        if [ "$scen" = ping ]; then
            run_wrk "$key/warm" "$WORK/ping.txt" 1 "$WARMUP"
            run_wrk "$key" "$WORK/ping.txt" 1 "$DURATION" measured "$early"
        else
            run_wrk "$key/warm" "$WORK/cmd-warm.txt" "$THREADS" "$WARMUP"
            run_wrk "$key" "$WORK/cmd.txt" "$THREADS" "$DURATION" measured "$early"
            [ "${R[$key/aborted]}" = 1 ] || R[$key/delivered]=$(delivered "bench-$TS-${WARM_FIRST%00}") # warm-up bodies 0..99
        fi
        # Under load the server may find Redis slow (250 ms timeout), mark it down and admit from
        # its own memory for a while: count what Redis really admitted (one adm:<id> key each).
        if [ "$mode" = redis ]; then
            R[$key/in_redis]=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'slimy:adm:*' | wc -l)
            R[$key/fallbacks]=$(grep -c 'Redis unreachable' "$SLIMY_LOG" || true)
        fi
        stop_pid "$SLIMY_PID" 5
        SLIMY_PID=""
        stop_pid "$FAKE_PID" 3
        FAKE_PID=""
        R[$key/attempts]=$attempt
        [ "${R[$key/aborted]}" = 1 ] || break
        say "  wrk's connections landed unevenly on the server's HTTP threads (work split ${R[$key/split]} %): again"
    done
}

say "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
# Passes in ABBA order: the modes as given in odd rounds, reversed in even ones.
declare -A MODE_OF ROUND_OF
NP=0
for ((round = 1; round <= ROUNDS; round++)); do
    order=$MODES
    ((round % 2)) || order=$(echo "$MODES" | tr ' ' '\n' | tac | tr '\n' ' ')
    for mode in $order; do
        NP=$((NP + 1))
        MODE_OF[$NP]=$mode ROUND_OF[$NP]=$round
        measure "$NP" "$mode" ping
        measure "$NP" "$mode" cmd
    done
done

# ---- report ----
ms() { awk -v us="$1" 'BEGIN{printf "%.2f", us/1000}'; }
valid=1 notes=()
echo
echo "Slimy admission benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted changes in src/')"
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s after a ${WARMUP}s warm-up; a fresh server for each row; passes in ABBA order"
printf '%-4s %-6s %-4s %8s %7s %7s %13s %4s %6s %7s %6s %5s %30s %5s\n' pass mode scen 'req/s' 'p50 ms' 'p99 ms' 'ok/other' err reused deliv split tries 'cpu% slimy/redis/fake/wrk/rest' busy
for ((p = 1; p <= NP; p++)); do
    mode=${MODE_OF[$p]}
    for scen in ping cmd; do
        k=$p/$scen
        if [ "$scen" = ping ]; then good=${R[$k/pongs]}; else good=${R[$k/acks]}; fi
        printf '%-4s %-6s %-4s %8.0f %7s %7s %13s %4s %6s %7s %6s %5s %30s %4s%%\n' "$p" "$mode" "$scen" "${R[$k/rps]}" \
            "$(ms "${R[$k/p50_us]}")" "$(ms "${R[$k/p99_us]}")" "$good/${R[$k/other]}" \
            "$((R[$k/errors] + R[$k/non2xx]))" "$([ "$scen" = ping ] && echo - || echo "${R[$k/reused]}")" \
            "$([ "$scen" = cmd ] && echo "${R[$k/delivered]}/100" || echo -)" "${R[$k/split]}" "${R[$k/attempts]}" \
            "${R[$k/cpu_slimy]}/${R[$k/cpu_redis]}/${R[$k/cpu_fake]}/${R[$k/cpu_wrk]}/${R[$k/cpu_rest]}" "${R[$k/busy]}"
        # Valid: every answer is the expected one, nothing failed, no command body sent twice,
        # jobs behind the acknowledgements were delivered, and in Redis mode Redis admitted them.
        [ "${R[$k/other]}" = 0 ] && [ "${R[$k/errors]}" = 0 ] && [ "${R[$k/non2xx]}" = 0 ] && [ "$good" -gt 0 ] || valid=0
        if [ "$scen" = cmd ]; then
            [ "${R[$k/reused]}" = 0 ] && [ "${R[$k/delivered]}" -gt 0 ] || valid=0
            if [ "$mode" = redis ]; then
                # One adm: key per admitted command (plus the few answered after wrk stopped
                # counting); fewer keys than acknowledgements: some were admitted from memory.
                [ "${R[$k/in_redis]}" -ge $((R[$k/warm/acks] + R[$k/acks])) ] || valid=0
                notes+=("pass $p cmd: Redis holds ${R[$k/in_redis]} adm: keys for $((R[$k/warm/acks] + R[$k/acks])) acknowledged commands (warm-up + run)")
            fi
        fi
        [ "$mode" != redis ] || [ "${R[$k/fallbacks]}" = 0 ] ||
            notes+=("pass $p $scen: the server logged \"Redis unreachable\" (fell back to memory) ${R[$k/fallbacks]} time(s) although Redis was running")
        [ "${R[$k/balanced]}" = 1 ] || notes+=("pass $p $scen: connections still uneven on the HTTP threads after ${R[$k/attempts]} attempts")
        [ "${R[$k/cpu_rest]}" -lt 25 ] || notes+=("pass $p $scen: other work used ${R[$k/cpu_rest]} % of a core meanwhile (disturbed)")
    done
done
cat <<EOF
ok = 200 {"type":1} for ping, 200 {"type":5,"data":{"flags":64}} (acknowledged) for cmd; err = socket errors +
non-2xx; reused = command bodies sent twice; deliv = replies of the first 100 warm-up commands already delivered
to the fake Discord; split = work of each server HTTP thread, %; tries = runs needed for an even split; cpu% =
% of one core used while wrk ran by slimy, redis, the fake Discord, wrk and the rest of the machine (other
work; loopback networking is in the processes' figures); busy = whole machine (max $(($(nproc) * 100))%).
EOF
for n in "${notes[@]}"; do echo "- $n"; done

# rate MODE SCENARIO [ROUND]: pooled rate over the mode's passes (of one round if given): answered
# PINGs, or acknowledged commands, per second of measured time.
rate() {
    local q n=0 us=0 f
    f=$([ "$2" = ping ] && echo pongs || echo acks)
    for ((q = 1; q <= NP; q++)); do
        [ "${MODE_OF[$q]}" = "$1" ] && { [ -z "${3:-}" ] || [ "${ROUND_OF[$q]}" = "$3" ]; } || continue
        n=$((n + R[$q/$2/$f])) us=$((us + R[$q/$2/duration_us]))
    done
    awk -v n="$n" -v us="$us" 'BEGIN{printf "%.0f", (us > 0) ? n / us * 1e6 : 0}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", (b > 0) ? a / b : 0}'; }

status=0
if [[ " $MODES " == *" inproc "* && " $MODES " == *" redis "* ]]; then
    echo
    printf '%-22s %13s %10s %8s   %s\n' '' 'in-process/s' 'redis/s' ratio 'ratio per round'
    for scen in ping cmd; do
        a=$(rate redis "$scen") b=$(rate inproc "$scen") per=""
        for ((round = 1; round <= ROUNDS; round++)); do
            per="$per $(ratio "$(rate redis "$scen" "$round")" "$(rate inproc "$scen" "$round")")"
        done
        printf '%-22s %13s %10s %8s  %s\n' "$([ "$scen" = ping ] && echo PING || echo 'acknowledged commands')" "$b" "$a" "$(ratio "$a" "$b")" "$per"
        printf -v "${scen}_ratio" '%s' "$(ratio "$a" "$b")"
    done
    cmd_ok=$(awk -v r="$cmd_ratio" -v m="$CMD_RATIO_MIN" 'BEGIN{print (r >= m) ? "yes" : "NO"}')
    ping_ok=$(awk -v r="$ping_ratio" -v m="$PING_RATIO_MIN" 'BEGIN{print (r >= m) ? "yes" : "NO"}')
    echo "commands: Redis/in-process $cmd_ratio, claim >= $CMD_RATIO_MIN (within 20 %): $cmd_ok"
    echo "PING:     Redis/in-process $ping_ratio, claim >= $PING_RATIO_MIN (unaffected, within 10 %): $ping_ok"
    if [ "$valid" != 1 ]; then
        echo "VERDICT: INVALID MEASUREMENT (see ok/other, err, reused, deliv and the notes above; logs in $WORK)"
        status=1
    elif [ "$cmd_ok" = yes ] && [ "$ping_ok" = yes ]; then
        echo "VERDICT: the claim holds on this machine"
    else
        echo "VERDICT: the claim does NOT hold on this machine"
        status=3
    fi
else
    [ "$valid" = 1 ] || { echo "INVALID MEASUREMENT (logs in $WORK)"; status=1; }
fi
[ "$status" = 1 ] || OK=1
exit "$status"
