# lib.sh — helpers for the integration tests: start real processes on loopback, sign and send
# interactions, query the fake Discord, and assert. Sourced by run.sh; every case is a function
# named case_* in a cases_*.sh file, run in order with its own pass/fail line.

# ---- assertions: each failure prints what differed and marks the current case failed ----
CASE_FAILED=0
fail() { echo "    FAIL: $*" >&2; CASE_FAILED=1; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: expected [$2], got [$1]"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "${3:-missing text}: [$2] not in [${1:0:400}]";; esac; }
assert_not_contains() { case "$1" in *"$2"*) fail "${3:-unexpected text}: [$2] found";; *) ;; esac; }

# ---- JSON: one long-running helper, not an interpreter per lookup ----
# start_json_helper: starts tests/integration/json_eval.py in the background (JSON_HELPER_PID),
# talking through two FIFOs held open on JSON_IN and JSON_OUT; run.sh calls it first and kills it
# on exit. Every JSON question of the run goes through it. Not a bash coproc: its descriptors are
# closed in subshells (pipelines, ( ... )), these are inherited everywhere.
start_json_helper() {
    mkfifo "$WORK/json.in" "$WORK/json.out"
    python3 "$ROOT/tests/integration/json_eval.py" <"$WORK/json.in" >"$WORK/json.out" &
    JSON_HELPER_PID=$!
    # Opened in the helper's order (its stdin, then its stdout): each open waits for the other end.
    exec {JSON_IN}>"$WORK/json.in" {JSON_OUT}<"$WORK/json.out"
}
# json_ask MODE EXPR DOC [ARG...]: one request to the helper (protocol in json_eval.py); prints the
# answer, or prints the error on stderr and returns 1.
json_ask() {
    local mode=$1 expr=$2 doc=$3 out
    shift 3
    printf '%s\0' "$mode" "$expr" "$doc" $# "$@" >&"$JSON_IN" || { echo "json helper gone" >&2; return 1; }
    IFS= read -r -d '' -u "$JSON_OUT" out || { echo "json helper gone" >&2; return 1; }
    if [ "${out:0:1}" != 0 ]; then
        echo "json_get: ${out:1}" >&2
        return 1
    fi
    printf '%s\n' "${out:1}"
}
# json_get JSON EXPR [ARG...]: evaluates a python expression on the parsed document `d` (JSON "" is
# None), the ARGs as the list `argv`; prints str() of the value.
json_get() { json_ask e "$2" "$1" "${@:3}"; }
# json_def [CODE]: runs python statements (CODE, or stdin when not given) in the helper, to define
# functions that later json_get expressions call.
json_def() {
    local code
    if [ $# -gt 0 ]; then code=$1; else IFS= read -r -d '' code || true; fi
    json_ask x "$code" "" >/dev/null
}

free_port() { json_get '' 'free_port()'; }

# wait_until SECONDS COMMAND...: runs COMMAND every 50 ms until it succeeds (returns 0), for at most
# SECONDS (may be fractional); returns 1 on time out. Says nothing: callers report what they awaited.
wait_until() {
    local whole=${1%.*} frac=000000 end
    case $1 in *.*) frac=${1#*.}000000 ;; esac
    shift
    end=$(( ${EPOCHREALTIME/[.,]/} + ${whole:-0} * 1000000 + 10#${frac:0:6} ))
    while :; do
        "$@" && return 0
        [ "${EPOCHREALTIME/[.,]/}" -lt "$end" ] || return 1
        sleep 0.05
    done
}
# log_has FILE TEXT: FILE contains the fixed string TEXT (for wait_until).
log_has() { grep -qF -- "$2" "$1" 2>/dev/null; }
# process_gone PID: PID has exited (or is a zombie waiting to be reaped), for wait_until.
process_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

wait_http() { # URL [SECONDS]: wait until something answers
    wait_until "${2:-5}" curl -s -o /dev/null --max-time 1 "$1" && return 0
    echo "timed out waiting for $1" >&2
    return 1
}

# ---- fake Discord ----
start_fake_discord() {
    FAKE_PORT=$(free_port)
    python3 "$ROOT/tests/tools/fake_discord.py" --port "$FAKE_PORT" >"$WORK/fake_discord.out" 2>&1 &
    FAKE_PID=$!
    FAKE_URL="http://127.0.0.1:$FAKE_PORT"
    wait_http "$FAKE_URL/_control/health"
}
fake_reset() {
    curl -s -X POST "$FAKE_URL/_control/reset" >/dev/null
    [ -n "${AI_URL:-}" ] && curl -s -X POST "$AI_URL/_control/reset" >/dev/null
    return 0
}
fake_script() { curl -s -X POST -H 'Content-Type: application/json' -d "$1" "$FAKE_URL/_control/script" >/dev/null; }
fake_requests() { curl -s "$FAKE_URL/_control/requests${1:-}"; }
# fake_count [QUERY]: how many recorded requests match (e.g. "?method=PATCH&path_contains=TOKEN"),
# counted by the fake itself (GET /_control/count answers a plain number).
fake_count() { curl -s "$FAKE_URL/_control/count${1:-}"; }
# fake_count_tokens QUERY TOKEN...: how many recorded requests matching QUERY have any TOKEN in their path.
fake_count_tokens() {
    local query=$1
    shift
    json_get "$(fake_requests "$query")" 'sum(any(t in r["path"] for t in argv) for r in d)' "$@"
}
# count_at_least COUNTER N QUERY: COUNTER QUERY (fake_count, ai_count) is a number >= N.
count_at_least() {
    local n
    n=$("$1" "$3")
    [ -n "$n" ] && [ "$n" -ge "$2" ] 2>/dev/null
}
# wait_count COUNTER WHAT N [QUERY] [SECONDS]: wait (10 s by default) until COUNTER QUERY reaches N.
wait_count() {
    local counter=$1 what=$2 want=$3 query=${4:-}
    wait_until "${5:-10}" count_at_least "$counter" "$want" "$query" && return 0
    fail "expected $want $what matching '$query', saw $("$counter" "$query")"
    return 1
}
# wait_requests N [QUERY] [SECONDS]: wait until at least N matching requests were recorded
wait_requests() { wait_count fake_count requests "$@"; }

# ---- fake OpenAI ----
start_fake_openai() {
    AI_PORT=$(free_port)
    python3 "$ROOT/tests/tools/fake_openai.py" --port "$AI_PORT" >"$WORK/fake_openai.out" 2>&1 &
    AI_PID=$!
    AI_URL="http://127.0.0.1:$AI_PORT"
    wait_http "$AI_URL/_control/health"
}
ai_script() { curl -s -X POST -H 'Content-Type: application/json' -d "$1" "$AI_URL/_control/script" >/dev/null; }
ai_requests() { curl -s "$AI_URL/_control/requests${1:-}"; }
ai_count() { curl -s "$AI_URL/_control/count${1:-}"; }
# ai_wait_requests N [QUERY] [SECONDS]: wait until the fake OpenAI recorded at least N matching requests.
ai_wait_requests() { wait_count ai_count "OpenAI requests" "$@"; }

# ---- the server ----
# spawn_slimy PORT LOG LOG_DIR DATA_DIR [ENV=VALUE ...]: starts build/slimy serve in the background
# with the test key, the fakes and the test settings (ENV arguments win), its output appended to
# LOG; sets SPAWNED_PID. Does not wait for it.
spawn_slimy() {
    local port=$1 log=$2 log_dir=$3 data_dir=$4
    shift 4
    env -i PATH="$PATH" HOME="$WORK" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
        DISCORD_PUBLIC_KEY="$PUBLIC_KEY" DISCORD_APPLICATION_ID="$APP_ID" \
        DISCORD_API_BASE="$FAKE_URL/api/v10" PORT="$port" BIND=127.0.0.1 \
        OPENAI_BASE_URL="$AI_URL/v1" OPENAI_API_KEY=sk-test-SECRET OPENAI_MODEL=fake-chat IMAGE_MODEL=fake-image \
        PERSONALITY_FILE="$ROOT/bot-personality.md" SIGNATURE_MAX_AGE_S=900 \
        LOG_LEVEL=debug LOG_DIR="$log_dir" DATA_DIR="$data_dir" SQLITE_PATH="$WORK/data/slimy.db" \
        ATTACHMENT_HOSTS="http://127.0.0.1:$AI_PORT" \
        ENV_FILE=/nonexistent "$@" \
        "$SLIMY" serve >>"$log" 2>&1 &
    SPAWNED_PID=$!
}
# start_slimy [ENV=VALUE ...]: starts the server the cases talk to (SLIMY_URL, SLIMY_PID, SLIMY_LOG).
start_slimy() {
    SLIMY_PORT=$(free_port)
    SLIMY_URL="http://127.0.0.1:$SLIMY_PORT"
    SLIMY_LOG="$WORK/slimy-$SLIMY_PORT.log"
    : >"$SLIMY_LOG"
    spawn_slimy "$SLIMY_PORT" "$SLIMY_LOG" "$WORK/logs" "$WORK/data" "$@"
    SLIMY_PID=$SPAWNED_PID
    wait_http "$SLIMY_URL/health"
}
# start_private_slimy NAME [ENV=VALUE ...]: a server of the case's own (own port, log, LOG_DIR,
# DATA_DIR and SQLite file), for cases that need fresh process-wide state or stop the server. The
# case declares `local SLIMY_PORT SLIMY_URL SLIMY_PID SLIMY_LOG` first, so the shared server is
# left alone, and stops it with stop_slimy before returning.
start_private_slimy() {
    local name=$1
    shift
    SLIMY_PORT=$(free_port)
    SLIMY_URL="http://127.0.0.1:$SLIMY_PORT"
    SLIMY_LOG="$WORK/$name-$SLIMY_PORT.log"
    : >"$SLIMY_LOG"
    spawn_slimy "$SLIMY_PORT" "$SLIMY_LOG" "$WORK/logs-$name" "$WORK/data-$name" SQLITE_PATH="$WORK/$name.db" "$@"
    SLIMY_PID=$SPAWNED_PID
    wait_http "$SLIMY_URL/health" 10
}
stop_slimy() { # waits for exit and returns its status
    kill -TERM "$SLIMY_PID" 2>/dev/null
    local rc=0
    wait "$SLIMY_PID" || rc=$?
    SLIMY_PID=
    return $rc
}

# ready_state: GETs SLIMY_URL/ready; sets READY_CODE, READY_BODY and READY_REDIS (its "redis" field,
# "?" when missing or not JSON).
ready_state() {
    local out
    out=$(curl -s --max-time 2 -w '\n%{http_code}' "$SLIMY_URL/ready")
    READY_CODE=${out##*$'\n'}
    READY_BODY=${out%$'\n'*}
    READY_REDIS=$(json_get "$READY_BODY" 'd.get("redis", "?")' 2>/dev/null) || READY_REDIS='?'
}

# ---- several servers (replicas) ----
# Each replica NAME (letters/digits) has REPLICA_PORT_NAME, REPLICA_URL_NAME, REPLICA_PID_NAME (empty
# while stopped), REPLICA_LOG_NAME ($WORK/replica-NAME.log, appended to across restarts) and its own
# LOG_DIR and DATA_DIR. Every replica gets the settings in the array REPLICA_ENV, then its own.
REPLICAS=() REPLICA_ENV=()
# start_replica NAME [ENV=VALUE ...]: starts (or restarts, on the same port) replica NAME and waits
# until it answers /health.
start_replica() {
    local name=$1 port_var="REPLICA_PORT_$1" port
    shift
    port=${!port_var:-}
    if [ -z "$port" ]; then
        port=$(free_port)
        REPLICAS+=("$name")
    fi
    printf -v "REPLICA_PORT_$name" '%s' "$port"
    printf -v "REPLICA_URL_$name" 'http://127.0.0.1:%s' "$port"
    printf -v "REPLICA_LOG_$name" '%s' "$WORK/replica-$name.log"
    echo "---- start $(date +%T.%N) ----" >>"$WORK/replica-$name.log"
    spawn_slimy "$port" "$WORK/replica-$name.log" "$WORK/logs-$name" "$WORK/data-$name" "${REPLICA_ENV[@]}" "$@"
    printf -v "REPLICA_PID_$name" '%s' "$SPAWNED_PID"
    wait_http "http://127.0.0.1:$port/health" 10
}
replica_url() { local v="REPLICA_URL_$1"; echo "${!v}"; }
replica_pid() { local v="REPLICA_PID_$1"; echo "${!v:-}"; }
replica_log() { local v="REPLICA_LOG_$1"; echo "${!v}"; }
# on_replica NAME COMMAND...: runs a helper (post_signed, run_deferred, ...) against replica NAME.
on_replica() {
    local SLIMY_URL
    SLIMY_URL=$(replica_url "$1")
    shift
    "$@"
}
# kill_replica NAME [SIGNAL]: signals replica NAME (TERM by default), waits for it to exit and
# returns its exit status.
kill_replica() {
    local pid rc=0
    pid=$(replica_pid "$1")
    [ -n "$pid" ] || return 0
    kill -"${2:-TERM}" "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || rc=$? # 2>/dev/null: no "Killed" notice from the shell
    printf -v "REPLICA_PID_$1" '%s' ""
    return $rc
}
# replicas_gone: every replica has exited (for wait_until).
replicas_gone() {
    local name pid
    for name in "${REPLICAS[@]}"; do
        pid=$(replica_pid "$name")
        [ -z "$pid" ] || process_gone "$pid" || return 1
    done
}
# stop_replicas [TIMEOUT_S]: SIGTERM to every running replica, SIGKILL to those still running after
# TIMEOUT_S (10); returns non-zero if any had to be killed or exited non-zero.
stop_replicas() {
    local name pid rc=0 status
    for name in "${REPLICAS[@]}"; do
        pid=$(replica_pid "$name")
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
    done
    wait_until "${1:-10}" replicas_gone
    for name in "${REPLICAS[@]}"; do
        pid=$(replica_pid "$name")
        [ -n "$pid" ] || continue
        if ! process_gone "$pid"; then
            echo "replica $name (pid $pid) did not stop; killing it" >&2
            kill -KILL "$pid" 2>/dev/null
            rc=1
        fi
        status=0
        wait "$pid" 2>/dev/null || status=$?
        [ "$status" = 0 ] || { echo "replica $name exited with status $status" >&2; rc=1; }
        printf -v "REPLICA_PID_$name" '%s' ""
    done
    return $rc
}

# ---- interactions ----
# post_raw BODY_FILE [curl args...]: POST with whatever headers are given; sets HTTP_CODE, CTYPE, BODY.
post_raw() {
    local file=$1; shift
    local out
    out=$(curl -s -o "$WORK/resp" -w '%{http_code} %{content_type}' -H 'Content-Type: application/json' \
        --data-binary @"$file" "$@" "$SLIMY_URL/interactions")
    HTTP_CODE=${out%% *}
    CTYPE=${out#* }
    BODY=$(cat "$WORK/resp")
}
# post_signed JSON [TIMESTAMP]: signs like Discord and POSTs.
post_signed() {
    printf '%s' "$1" >"$WORK/req"
    local ts=${2:-$(date +%s)}
    local sig
    sig=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "$ts" --body-file "$WORK/req" | head -n 1)
    post_raw "$WORK/req" -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp: $ts"
}
# sign_to FILE JSON [TIMESTAMP]: writes JSON to FILE and its Discord signature headers to FILE.hdr,
# for post_async.
sign_to() {
    printf '%s' "$2" >"$1"
    "$SIGN" headers --key "$WORK/keys/dev-secret.key" --timestamp "${3:-$(date +%s)}" --body-file "$1" >"$1.hdr"
}
# post_async URL FILE OUT: POSTs FILE (signed by sign_to) to URL/interactions in the background;
# the answer's body goes to OUT and its HTTP status to OUT.code. The curl's pid is added to
# ASYNC_PIDS; wait_async waits for them all.
ASYNC_PIDS=()
post_async() {
    curl -s --max-time 10 -o "$3" -w '%{http_code}' -H 'Content-Type: application/json' -H @"$2.hdr" \
        --data-binary @"$2" "$1/interactions" >"$3.code" &
    ASYNC_PIDS+=($!)
}
wait_async() {
    [ ${#ASYNC_PIDS[@]} -eq 0 ] || wait "${ASYNC_PIDS[@]}"
    ASYNC_PIDS=()
}

# ---- per-case ids ----
# Every case gets its own guild, channel, DM channel and default user (run_cases calls case_ids
# before each case), so that no case sees rows, cooldowns, modes or counters left by another and
# cases can run in any order. case_id N (N = 10..99) gives the case more ids of its own (another
# server, a category, a target user...). Users a case names explicitly (USER_ID=601) are unique to
# that case too.
CASE_SEQ=0
case_ids() {
    CASE_SEQ=$((CASE_SEQ + 1))
    CASE_BASE=$((1000000 + CASE_SEQ * 100))
    CASE_GUILD=$((CASE_BASE + 1)) CASE_CHANNEL=$((CASE_BASE + 2)) CASE_DM_CHANNEL=$((CASE_BASE + 3))
    CASE_USER=$((CASE_BASE + 4))
}
case_id() { echo $((CASE_BASE + $1)); }
case_ids

# command_json NAME [OPTIONS_JSON] [EXTRA_TOP_LEVEL_FIELDS] [EXTRA_DATA_FIELDS]: sets CMD to an
# APPLICATION_COMMAND interaction, and INTERACTION_ID / INTERACTION_TOKEN to its id and token
# (unique in the run). USER_ID (CASE_USER), MEMBER_PERMS (2147483647: every permission), GUILD
# (CASE_GUILD) and CHANNEL (CASE_CHANNEL) shape the invoker;
# GUILD= (empty) makes it a DM in channel DM_CHANNEL (CASE_DM_CHANNEL) with `user` at the top level.
SEQ=0
command_json() {
    SEQ=$((SEQ + 1))
    INTERACTION_ID="11${EPOCHSECONDS}$SEQ"
    INTERACTION_TOKEN="tok-${EPOCHREALTIME/[.,]/}-$SEQ-SECRET"
    local who user=${USER_ID:-$CASE_USER}
    if [ -n "${GUILD-$CASE_GUILD}" ]; then
        who=$(printf '"guild_id":"%s","channel_id":"%s","member":{"user":{"id":"%s","username":"tester%s"},"permissions":"%s"}' \
            "${GUILD-$CASE_GUILD}" "${CHANNEL:-$CASE_CHANNEL}" "$user" "$user" "${MEMBER_PERMS:-2147483647}")
    else
        who=$(printf '"channel_id":"%s","user":{"id":"%s","username":"tester%s"},"context":1' \
            "${DM_CHANNEL:-$CASE_DM_CHANNEL}" "$user" "$user")
    fi
    CMD=$(printf '{"type":2,"id":"%s","application_id":"%s","token":"%s","version":1,%s,"data":{"id":"9","name":"%s","type":1%s%s}%s}' \
        "$INTERACTION_ID" "$APP_ID" "$INTERACTION_TOKEN" "$who" "$1" "${2:+,\"options\":$2}" "${4:+,$4}" "${3:+,$3}")
}

# fetch_reply: waits for the first request to fake Discord for INTERACTION_TOKEN and sets REPLY to
# it (JSON) and CONTENT to its content.
fetch_reply() {
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" || { REPLY='{}'; CONTENT=; return 1; }
    REPLY=$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'json.dumps(d[0])')
    CONTENT=$(json_get "$REPLY" 'd["json"]["content"]')
}
# post_deferred: posts CMD (built with command_json, maybe edited), checks it was deferred and
# sets REPLY and CONTENT from its PATCH.
post_deferred() {
    post_signed "$CMD"
    [ "$(json_get "$BODY" 'd["type"]')" = 5 ] || { fail "not deferred: $BODY"; REPLY='{}'; CONTENT=; return 1; }
    fetch_reply
}
# run_deferred NAME [OPTIONS] [EXTRA] [DATA_EXTRA]: posts a command that must be deferred, waits for
# its PATCH and sets REPLY to that request (JSON) and CONTENT to its content.
run_deferred() {
    command_json "$@"
    post_deferred
}

# ---- nginx in front of replicas (phase nginx) ----
# The stack: a self-signed certificate for NGINX_HOST, nginx/render.sh's configuration in
# NGINX_DIR, and nginx run unprivileged (`-p NGINX_DIR -c NGINX_CONF`, daemon off, in the
# background: NGINX_PID) on 127.0.0.1:NGINX_PORT. Requests go to NGINX_URL with --resolve and
# --cacert, so curl checks the certificate like Discord would.
NGINX_PID= NGINX_HOST=slimy.test NGINX_RENDER_ENV=()
# nginx_make_cert DIR: a self-signed P-256 certificate for NGINX_HOST: DIR/cert.pem, DIR/key.pem.
nginx_make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=$NGINX_HOST" -addext "subjectAltName=DNS:$NGINX_HOST" \
        -keyout "$1/key.pem" -out "$1/cert.pem" >"$1/openssl.out" 2>&1
}
# nginx_render OUT [VAR=VALUE ...]: runs nginx/render.sh with only NGINX_RENDER_ENV and the given
# settings in its environment (nothing of the caller's leaks in); its status is the script's.
nginx_render() {
    local out=$1
    shift
    env -i PATH="$PATH" "${NGINX_RENDER_ENV[@]}" "$@" "$ROOT/nginx/render.sh" "$out"
}
# nginx_setup UPSTREAM...: the work directory, the certificate, the settings (NGINX_RENDER_ENV:
# metrics only from 127.0.0.2/32) and the rendered NGINX_CONF; does not start nginx.
nginx_setup() {
    NGINX_DIR="$WORK/nginx"
    NGINX_CONF="$NGINX_DIR/nginx.conf"
    NGINX_ACCESS_LOG="$NGINX_DIR/logs/access.log"
    NGINX_ERROR_LOG="$NGINX_DIR/logs/error.log"
    NGINX_PORT=$(free_port)
    NGINX_URL="https://$NGINX_HOST:$NGINX_PORT"
    mkdir -p "$NGINX_DIR/logs" "$NGINX_DIR/tmp" "$NGINX_DIR/tls"
    nginx_make_cert "$NGINX_DIR/tls" || { cat "$NGINX_DIR/tls/openssl.out" >&2; return 1; }
    NGINX_RENDER_ENV=(SLIMY_SERVER_NAME="$NGINX_HOST" SLIMY_TLS_CERT="$NGINX_DIR/tls/cert.pem"
        SLIMY_TLS_KEY="$NGINX_DIR/tls/key.pem" SLIMY_UPSTREAMS="$*" SLIMY_METRICS_ALLOW=127.0.0.2/32
        SLIMY_LISTEN_ADDR=127.0.0.1 SLIMY_LISTEN_PORT="$NGINX_PORT" SLIMY_WORKER_PROCESSES=1
        SLIMY_PID_FILE="$NGINX_DIR/nginx.pid" SLIMY_TEMP_DIR="$NGINX_DIR/tmp"
        SLIMY_ACCESS_LOG="$NGINX_ACCESS_LOG" SLIMY_ERROR_LOG="$NGINX_ERROR_LOG")
    # As root the workers would run as nobody, who cannot enter the 0700 work directory.
    [ "$(id -u)" != 0 ] || NGINX_RENDER_ENV+=(SLIMY_NGINX_USER="$(id -un)")
    nginx_render "$NGINX_CONF"
}
# nginx_cmd ARG...: nginx with the test prefix, configuration and error log (-e: not the packaged
# /var/log/nginx/error.log, even before the configuration is read).
nginx_cmd() { nginx -p "$NGINX_DIR" -c "$NGINX_CONF" -e "$NGINX_ERROR_LOG" "$@"; }
# start_nginx: starts nginx in the foreground of a background job (NGINX_PID) and waits until it
# answers over HTTPS.
start_nginx() {
    # nginx itself, not nginx_cmd: a function run with & would be a subshell, and its pid not nginx's.
    nginx -p "$NGINX_DIR" -c "$NGINX_CONF" -e "$NGINX_ERROR_LOG" -g 'daemon off;' >>"$NGINX_DIR/nginx.out" 2>&1 &
    NGINX_PID=$!
    wait_until 5 curl -s -o /dev/null --max-time 1 --cacert "$NGINX_DIR/tls/cert.pem" \
        --resolve "$NGINX_HOST:$NGINX_PORT:127.0.0.1" "$NGINX_URL/health" && return 0
    echo "nginx did not answer on $NGINX_URL" >&2
    cat "$NGINX_DIR/nginx.out" >&2
    tail -n 20 "$NGINX_ERROR_LOG" >&2
    return 1
}
# stop_nginx: graceful stop (QUIT), KILL after 5 s; returns non-zero if it had to be killed.
stop_nginx() {
    [ -n "$NGINX_PID" ] || return 0
    local rc=0
    kill -QUIT "$NGINX_PID" 2>/dev/null
    wait_until 5 process_gone "$NGINX_PID" || { kill -KILL "$NGINX_PID" 2>/dev/null; rc=1; }
    wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=
    return $rc
}
# nginx_curl ARG...: curl to the test nginx, trusting only its certificate; ARGs end with the URL.
nginx_curl() {
    curl -s --max-time 10 --cacert "$NGINX_DIR/tls/cert.pem" --resolve "$NGINX_HOST:$NGINX_PORT:127.0.0.1" "$@"
}
# nginx_request METHOD PATH [curl args...]: one request through nginx, tagged with a unique
# User-Agent (NGINX_TAG). Sets HTTP_CODE, BODY and HEADERS (the answer's header lines).
NGINX_SEQ=0
nginx_request() {
    local method=$1 path=$2 out
    shift 2
    NGINX_SEQ=$((NGINX_SEQ + 1))
    NGINX_TAG="slimy-it-nginx-$$-$NGINX_SEQ"
    out=$(nginx_curl -o "$WORK/nginx-resp" -D "$WORK/nginx-hdr" -w '%{http_code}' -A "$NGINX_TAG" \
        -X "$method" "$@" "$NGINX_URL$path")
    HTTP_CODE=$out
    BODY=$(cat "$WORK/nginx-resp" 2>/dev/null)
    HEADERS=$(tr -d '\r' <"$WORK/nginx-hdr" 2>/dev/null)
}
# nginx_post_signed JSON [curl args...]: signs JSON like Discord and POSTs it to /interactions
# through nginx (nginx_request).
nginx_post_signed() {
    local json=$1 ts sig
    shift
    printf '%s' "$json" >"$WORK/nginx-req"
    ts=$(date +%s)
    sig=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "$ts" --body-file "$WORK/nginx-req" | head -n 1)
    nginx_request POST /interactions -H 'Content-Type: application/json' -H "X-Signature-Ed25519: $sig" \
        -H "X-Signature-Timestamp: $ts" --data-binary @"$WORK/nginx-req" "$@"
}
# nginx_log [TAG]: waits (2 s) for the access-log line of the request tagged TAG (NGINX_TAG) and
# sets NGINX_LOG to it (JSON) and NGINX_UPSTREAM to its "upstream" ("" when nginx answered
# itself); returns 1 when no line came.
nginx_log() {
    local tag=${1:-$NGINX_TAG}
    NGINX_LOG= NGINX_UPSTREAM=
    wait_until 2 log_has "$NGINX_ACCESS_LOG" "\"user_agent\":\"$tag\"" || return 1
    NGINX_LOG=$(grep -F -- "\"user_agent\":\"$tag\"" "$NGINX_ACCESS_LOG" | tail -n 1)
    NGINX_UPSTREAM=$(json_get "$NGINX_LOG" '"" if d["upstream"] == "-" else d["upstream"]')
}
# nginx_reached_slimy WHAT: the last request (NGINX_TAG) was passed to a replica (its access-log
# line names an upstream); nginx_stayed_at_nginx WHAT: it was not.
nginx_reached_slimy() {
    nginx_log || { fail "$1: no access-log line for $NGINX_TAG"; return 1; }
    [ -n "$NGINX_UPSTREAM" ] || fail "$1: nginx answered without a replica ($NGINX_LOG)"
}
nginx_stayed_at_nginx() {
    nginx_log || { fail "$1: no access-log line for $NGINX_TAG"; return 1; }
    [ -z "$NGINX_UPSTREAM" ] || fail "$1: reached a replica ($NGINX_UPSTREAM): $NGINX_LOG"
}
# start_nginx_replica NAME: starts (or restarts) replica NAME for the nginx phase: SQLite of its
# own ($WORK/nginx-NAME.db), no Redis.
start_nginx_replica() { start_replica "$1" SQLITE_PATH="$WORK/nginx-$1.db"; }
# nginx_replicas_ready: the nginx phase's BEFORE_CASE: both replicas (NGA, NGB) run, whatever an
# earlier case stopped.
nginx_replicas_ready() {
    local name
    for name in NGA NGB; do
        [ -n "$(replica_pid "$name")" ] || start_nginx_replica "$name" || fail "replica $name did not start"
    done
}

# ---- helpers for the fault cases (cases_faults.sh) ----
# json_true JSON EXPR [ARG...]: EXPR (as for json_get) is True on JSON (for wait_until).
json_true() { [ "$(json_get "$@" 2>/dev/null)" = True ]; }
# health_code: the HTTP status of SLIMY_URL/health now ("000" when nothing answers).
health_code() { curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$SLIMY_URL/health"; }
# assert_health WHAT: the server still answers /health with 200.
assert_health() { assert_eq "$(health_code)" 200 "/health ${1:-}"; }

# ---- hostile input (cases_hostile.sh) ----
# The raw-socket side is tests/tools/hostile.py, loaded into the JSON helper (one process for the
# whole run; its listener threads live as long as the run). Every call there is bounded.
HOSTILE_READY=
hostile_init() {
    [ -n "$HOSTILE_READY" ] && return 0
    json_def 'import hostile' && HOSTILE_READY=1
}
# jstr TEXT: TEXT as a JSON string literal (for SPECs built in bash).
jstr() { json_get '' 'json.dumps(argv[0])' "$1"; }
# hraw SPEC: one raw connection to the server (hostile.raw; "port" defaults to SLIMY_PORT). Sets H
# (the JSON answer), H_STATUS (the first response's status, "none" without one), H_STATUSES (all,
# space-separated), H_CLOSED (True/False), H_FIRST_MS and H_CLOSE_MS (None when not seen).
hraw() {
    hostile_init || { fail "hostile.py not loaded"; return 1; }
    H=$(json_get '' 'hostile.raw(argv[0], int(argv[1]))' "$1" "$SLIMY_PORT") || { fail "hraw: $1"; H='{}'; }
    local line
    line=$(json_get "$H" '" ".join([str((d.get("statuses") or ["none"])[0]), str(d.get("closed")),
        str(d.get("first_ms")), str(d.get("close_ms"))] + [str(s) for s in d.get("statuses", [])])') || line="none False None None"
    read -r H_STATUS H_CLOSED H_FIRST_MS H_CLOSE_MS H_STATUSES <<<"$line"
}
# hhold SPEC: many connections at once (hostile.hold); sets H.
hhold() {
    hostile_init || { fail "hostile.py not loaded"; return 1; }
    H=$(json_get '' 'hostile.hold(argv[0], int(argv[1]))' "$1" "$SLIMY_PORT") || { fail "hhold: $1"; H='{}'; }
}
# h_within MS: the last hraw got its first response, or saw the close, within MS milliseconds.
h_within() {
    local t=$H_FIRST_MS
    [ "$t" = None ] && t=$H_CLOSE_MS
    [ "$t" != None ] && [ "$t" -le "$1" ]
}
# h_refused WHAT [MS]: the last hraw was refused within MS (2000) ms: its first response a 4xx, or
# no response at all and the connection closed. A 2xx, 3xx or 5xx, or silence, fails.
h_refused() {
    local what=$1 ms=${2:-2000}
    case $H_STATUS in
    4??) h_within "$ms" || fail "$what: the $H_STATUS came after ${H_FIRST_MS} ms (> $ms)" ;;
    none) [ "$H_CLOSED" = True ] && h_within "$ms" ||
        fail "$what: no answer and not closed within $ms ms (closed=$H_CLOSED after ${H_CLOSE_MS} ms)" ;;
    *) fail "$what: answered $H_STATUS, expected a 4xx or a close (statuses: $H_STATUSES)" ;;
    esac
}
# h_status_and_close WHAT STATUS_GLOB MS: the first response matches STATUS_GLOB (e.g. "4??") and
# the connection was closed, both within MS ms.
h_status_and_close() {
    local what=$1 glob=$2 ms=$3
    # shellcheck disable=SC2053
    [[ $H_STATUS == $glob ]] || fail "$what: expected status $glob, got $H_STATUS (statuses: $H_STATUSES)"
    [ "$H_CLOSED" = True ] && [ "$H_CLOSE_MS" != None ] && [ "$H_CLOSE_MS" -le "$ms" ] ||
        fail "$what: connection not closed within $ms ms (closed=$H_CLOSED after ${H_CLOSE_MS} ms)"
}

# hsign BODY [TIMESTAMP]: sets HSIG and HTS, Discord's signature headers for BODY (test key).
hsign() {
    printf '%s' "$1" >"$WORK/hsign.body"
    HTS=${2:-$(date +%s)}
    HSIG=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "$HTS" --body-file "$WORK/hsign.body" | head -n 1)
}
# hpost_signed JSON [TIMESTAMP]: post_signed with a time limit (10 s): a hung server fails the case
# instead of the run. Sets HTTP_CODE, CTYPE, BODY; the answer's bytes stay in $WORK/resp.
hpost_signed() {
    printf '%s' "$1" >"$WORK/hreq"
    hpost_signed_file "$WORK/hreq" "${2:-}"
}
# hpost_signed_file FILE [TIMESTAMP]: the same with the body in FILE (bytes bash cannot hold: NUL).
hpost_signed_file() {
    local ts=${2:-$(date +%s)} sig
    sig=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "$ts" --body-file "$1" | head -n 1)
    : >"$WORK/resp"
    post_raw "$1" --max-time 10 -H "X-Signature-Ed25519: $sig" -H "X-Signature-Timestamp: $ts"
}
# resp_utf8_ok: the last answer's bytes ($WORK/resp) are valid UTF-8.
resp_utf8_ok() { [ "$(json_get '' 'hostile.utf8_file_ok(argv[0])' "$WORK/resp")" = True ]; }

# harmless_send WHAT: posts CMD (signed) and checks the answer is harmless: a 400, or a 200 whose
# valid UTF-8 body is a type-4 message with content or embeds, or a type 5 (then its token joins
# HARMLESS_PENDING for harmless_wait). Anything else (5xx, no answer, other types) fails.
HARMLESS_PENDING=()
harmless_send() {
    local what=$1 t
    hostile_init
    hpost_signed "$CMD"
    case $HTTP_CODE in
    400) return 0 ;;
    200) ;;
    *) fail "$what: HTTP $HTTP_CODE ($BODY)"; return 1 ;;
    esac
    resp_utf8_ok || { fail "$what: the answer is not valid UTF-8"; return 1; }
    t=$(json_get "$BODY" 'd["type"] if d.get("type") != 4 else (4 if (d.get("data") or {}).get("content") or (d.get("data") or {}).get("embeds") else "empty 4")') ||
        { fail "$what: the answer is not JSON: $BODY"; return 1; }
    case $t in
    4) ;;
    5) HARMLESS_PENDING+=("$INTERACTION_TOKEN|$what") ;;
    *) fail "$what: answer of type $t: ${BODY:0:300}" ;;
    esac
}
# harmless_wait [SECONDS]: every deferred answer of harmless_send got its reply (15 s), and each
# request it made to Discord was valid UTF-8 JSON with content or embeds.
harmless_wait() {
    local entry tok what
    for entry in "${HARMLESS_PENDING[@]}"; do
        tok=${entry%%|*} what=${entry#*|}
        wait_until "${1:-15}" count_at_least fake_count 1 "?path_contains=$tok" ||
            { fail "$what: no reply reached Discord"; continue; }
        assert_eq "$(json_get "$(fake_requests "?path_contains=$tok")" \
            'all(isinstance(r["json"], dict) and bool(r["json"].get("content") or r["json"].get("embeds")) for r in d)')" \
            True "$what: reply is valid UTF-8 JSON with content"
    done
    HARMLESS_PENDING=()
}

# hostile_healthy: the end of every hostile case: the server process is alive, /health answers
# 200 and a signed PING gets {"type":1}, each within 3 s.
hostile_healthy() {
    local code
    kill -0 "$SLIMY_PID" 2>/dev/null || { fail "after the case: the server process is gone"; return 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$SLIMY_URL/health")
    [ "$code" = 200 ] || fail "after the case: /health answered $code"
    printf '%s' '{"type":1,"id":"1","application_id":"'"$APP_ID"'","token":"t","version":1}' >"$WORK/hping"
    local ts sig out
    ts=$(date +%s)
    sig=$("$SIGN" sign --key "$WORK/keys/dev-secret.key" --timestamp "$ts" --body-file "$WORK/hping" | head -n 1)
    out=$(curl -s --max-time 3 -w ' %{http_code}' -H 'Content-Type: application/json' -H "X-Signature-Ed25519: $sig" \
        -H "X-Signature-Timestamp: $ts" --data-binary @"$WORK/hping" "$SLIMY_URL/interactions")
    [ "$out" = '{"type":1} 200' ] || fail "after the case: signed PING answered [$out]"
}
# cmd_set PATH JSON_VALUE / cmd_del PATH: edits CMD (an interaction built by command_json) at the
# dotted PATH ("member.permissions", "data.options.0.value").
cmd_set() { hostile_init; CMD=$(json_get "$CMD" 'json.dumps(hostile.setp(d, argv[0], json.loads(argv[1])), ensure_ascii=False)' "$1" "$2"); }
cmd_del() { hostile_init; CMD=$(json_get "$CMD" 'json.dumps(hostile.delp(d, argv[0]), ensure_ascii=False)' "$1"); }
