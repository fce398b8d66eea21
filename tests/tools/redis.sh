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

SERVER_NAME=redis.sh SERVER_COMM=redis-server SERVER_LOG=redis.log
. "$(dirname "$0")/throwaway_server.sh"

# pong DIR PORT: our server answers on its socket (so it is ours, not another on PORT) and on PORT.
pong() {
    [ "$(redis-cli -s "$1/redis.sock" ping 2>/dev/null)" = PONG ] &&
        [ "$(redis-cli -h 127.0.0.1 -p "$2" ping 2>/dev/null)" = PONG ]
}

cmd_start() {
    local dir=$1 port=$2 i
    dir=$(prepare_dir "$dir" "$port") || exit 1
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


throwaway_server_main "$@"
