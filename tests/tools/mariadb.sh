#!/usr/bin/env bash
# mariadb.sh — a throwaway MariaDB server for tests, kept entirely under one directory and
# listening on 127.0.0.1 only; the system's MariaDB service and /etc/mysql are never touched.
#   mariadb.sh start DIR PORT   initialise DIR/data (unless it exists), start the server, create
#                               database `slimy` and user slimy@127.0.0.1 (password slimy-test),
#                               print "ready PORT"
#   mariadb.sh stop DIR         stop the server started on DIR and wait for it to exit
# Starting again on a stopped DIR reuses its data (the "MariaDB restarted mid-run" tests).
set -euo pipefail

START_TIMEOUT_S=30 # how long start waits for the server to answer a ping
STOP_TIMEOUT_S=30  # how long stop waits for a clean shutdown before SIGKILL

SERVER_NAME=mariadb.sh SERVER_COMM=mariadbd SERVER_LOG=error.log
. "$(dirname "$0")/throwaway_server.sh"

admin_sql() {
    mariadb --no-defaults -uroot --socket="$1/sock" -e "$2"
}

cmd_start() {
    local dir=$1 port=$2 pid i
    dir=$(prepare_dir "$dir" "$port") || exit 1
    rm -f "$dir/pid" "$dir/sock"

    if [ ! -d "$dir/data" ]; then
        if ! mariadb-install-db --no-defaults --datadir="$dir/data" --user=root \
            --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1; then
            tail -n 20 "$dir/install.log" >&2
            rm -rf "$dir/data"
            die "mariadb-install-db failed for $dir/data (log: $dir/install.log)"
        fi
    fi

    # stdin/stdout/stderr away from the caller's, so $(mariadb.sh start …) does not hang on
    # the server holding the pipe open.
    mariadbd --no-defaults --datadir="$dir/data" --user=root --port="$port" --bind-address=127.0.0.1 \
        --socket="$dir/sock" --pid-file="$dir/pid" --skip-name-resolve --log-error="$dir/error.log" \
        </dev/null >>"$dir/mariadbd.out" 2>&1 &
    pid=$!

    for ((i = 0; i < START_TIMEOUT_S * 10; i++)); do
        if mariadb-admin --no-defaults -uroot --socket="$dir/sock" ping >/dev/null 2>&1; then
            break
        fi
        alive "$pid" || die "mariadbd exited during start-up (port $port in use?)" "$dir"
        sleep 0.1
    done
    if ((i >= START_TIMEOUT_S * 10)); then
        kill "$pid" 2>/dev/null || true
        die "mariadbd did not answer a ping within ${START_TIMEOUT_S}s" "$dir"
    fi

    # Idempotent, so a restart on existing data runs it again harmlessly. GET_LOCK, used by
    # the migration runner, needs no privilege of its own.
    admin_sql "$dir" "
        CREATE DATABASE IF NOT EXISTS slimy CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
        CREATE USER IF NOT EXISTS 'slimy'@'127.0.0.1' IDENTIFIED BY 'slimy-test';
        GRANT ALL PRIVILEGES ON slimy.* TO 'slimy'@'127.0.0.1';
        FLUSH PRIVILEGES;" || die "cannot create database slimy and user slimy" "$dir"
    echo "ready $port"
}


throwaway_server_main "$@"
