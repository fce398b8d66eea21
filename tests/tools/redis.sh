#!/usr/bin/env bash
# redis.sh — a throwaway Redis server for tests, kept entirely under one directory and listening
# on 127.0.0.1 (and DIR/redis.sock) only; the system's Redis service and /etc/redis are never
# touched. Nothing is persisted, so every start begins empty.
#   redis.sh start DIR PORT   start the server, wait for it to answer PING, print "ready PORT"
#   redis.sh stop DIR         stop the server started on DIR and wait for it to exit
# Starting again on a stopped DIR works (the "Redis restarted mid-run" tests).
set -euo pipefail

START_TIMEOUT_S=10 # how long start waits for the server to answer a ping
STOP_TIMEOUT_S=10  # how long stop waits for a clean shutdown before SIGKILL

usage() {
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
}

# die MESSAGE [DIR]: prints the message, and the tail of DIR's log when there is one.
die() {
    echo "redis.sh: $1" >&2
    if [ -n "${2:-}" ] && [ -s "$2/redis.log" ]; then
        echo "--- last lines of $2/redis.log:" >&2
        tail -n 20 "$2/redis.log" >&2
    fi
    exit 1
}

# alive PID: the process exists and is not a zombie (an exited server whose parent, with no
# reaping init in a container, never collected it).
alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)
    [ "$state" != Z ]
}

# server_pid DIR: prints the pid from DIR/pid if that process is alive and is redis-server.
server_pid() {
    local pid
    [ -s "$1/pid" ] || return 1
    pid=$(cat "$1/pid")
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    alive "$pid" || return 1
    # A stale pid file may name a recycled pid: only ever signal our own server.
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = redis-server ] || return 1
    echo "$pid"
}

# pong DIR PORT: our server answers on its socket (so it is ours, not another on PORT) and on PORT.
pong() {
    [ "$(redis-cli -s "$1/redis.sock" ping 2>/dev/null)" = PONG ] &&
        [ "$(redis-cli -h 127.0.0.1 -p "$2" ping 2>/dev/null)" = PONG ]
}

cmd_start() {
    local dir=$1 port=$2 i
    case "$port" in '' | *[!0-9]*) die "PORT must be a number, got '$port'" ;; esac
    mkdir -p "$dir" || die "cannot create $dir"
    dir=$(cd "$dir" && pwd)
    if server_pid "$dir" >/dev/null; then
        die "a server is already running on $dir (pid $(server_pid "$dir"))"
    fi
    rm -f "$dir/pid" "$dir/redis.sock"

    # stdin/stdout/stderr away from the caller's, so $(redis.sh start …) does not hang on the
    # daemon holding the pipe open. The daemon writes DIR/pid itself.
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
        --daemonize yes --pidfile "$dir/pid" --logfile "$dir/redis.log" \
        --unixsocket "$dir/redis.sock" --unixsocketperm 700 \
        </dev/null >>"$dir/redis.out" 2>&1 || die "redis-server refused to start (see $dir/redis.out)" "$dir"

    for ((i = 0; i < START_TIMEOUT_S * 10; i++)); do
        pong "$dir" "$port" && break
        # Give the daemon a moment to write its pid file before concluding that it died.
        if ((i >= 10)) && ! server_pid "$dir" >/dev/null; then
            die "redis-server exited during start-up (port $port in use?)" "$dir"
        fi
        sleep 0.1
    done
    if ((i >= START_TIMEOUT_S * 10)); then
        (cmd_stop "$dir") >/dev/null 2>&1 || true
        die "redis-server did not answer a ping within ${START_TIMEOUT_S}s" "$dir"
    fi
    echo "ready $port"
}

cmd_stop() {
    local dir=$1 pid i
    [ -d "$dir" ] || die "no such directory: $dir"
    if ! pid=$(server_pid "$dir"); then
        echo "redis.sh: no server running on $dir" >&2
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    die "redis-server (pid $pid) did not stop within ${STOP_TIMEOUT_S}s; killed it" "$dir"
}

case "${1:-}" in
start)
    [ $# -eq 3 ] || usage
    cmd_start "$2" "$3"
    ;;
stop)
    [ $# -eq 2 ] || usage
    cmd_stop "$2"
    ;;
*) usage ;;
esac
