# throwaway_server.sh — what mariadb.sh and redis.sh share: the process handling of a test
# server that keeps everything under one directory and writes DIR/pid. Sourced; the caller sets
#   SERVER_NAME     its script name, for messages ("redis.sh")
#   SERVER_COMM     the server's /proc/PID/comm ("redis-server"), so only our own is signalled
#   SERVER_LOG      the log file under DIR shown when something fails ("redis.log")
#   STOP_TIMEOUT_S  how long stop waits for a clean shutdown before SIGKILL
# and defines cmd_start DIR PORT; throwaway_server_main "$@" then runs start or stop.

usage() {
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
}

# die MESSAGE [DIR]: prints the message, and the tail of DIR's log when there is one.
die() {
    echo "$SERVER_NAME: $1" >&2
    if [ -n "${2:-}" ] && [ -s "$2/$SERVER_LOG" ]; then
        echo "--- last lines of $2/$SERVER_LOG:" >&2
        tail -n 20 "$2/$SERVER_LOG" >&2
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

# server_pid DIR: prints the pid from DIR/pid if that process is alive and is our server.
server_pid() {
    local pid
    [ -s "$1/pid" ] || return 1
    pid=$(cat "$1/pid")
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    alive "$pid" || return 1
    # A stale pid file may name a recycled pid: only ever signal our own server.
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$SERVER_COMM" ] || return 1
    echo "$pid"
}

# prepare_dir DIR PORT: checks PORT, creates DIR and prints its absolute path; refuses a DIR
# whose server is still running.
prepare_dir() {
    local dir=$1 port=$2
    case "$port" in '' | *[!0-9]*) die "PORT must be a number, got '$port'" ;; esac
    mkdir -p "$dir" || die "cannot create $dir"
    dir=$(cd "$dir" && pwd)
    if server_pid "$dir" >/dev/null; then
        die "a server is already running on $dir (pid $(server_pid "$dir"))"
    fi
    echo "$dir"
}

cmd_stop() {
    local dir=$1 pid i
    [ -d "$dir" ] || die "no such directory: $dir"
    if ! pid=$(server_pid "$dir"); then
        echo "$SERVER_NAME: no server running on $dir" >&2
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
    die "$SERVER_COMM (pid $pid) did not stop within ${STOP_TIMEOUT_S}s; killed it" "$dir"
}

throwaway_server_main() {
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
}
