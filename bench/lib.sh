# lib.sh — what the bench scripts share (sourced by admit.sh and perf.sh): messages, installing
# what is missing, the Release build, stopping processes and cleaning up, free ports, CPU ticks
# from /proc.
# Expects ROOT (the repository) to be set by the script that sources it.

say() { echo "[$(date +%T)] $*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
    say "installing $* with apt-get"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
        { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

# build_release DIR: Slimy in Release into DIR (scripts/setup.sh), quiet unless it fails; sets
# SLIMY and SIGN to the binaries.
build_release() {
    say "building Slimy (Release) into $1"
    local log
    log=$(mktemp /tmp/slimy-bench-build.XXXXXX)
    if ! BUILD_DIR=$1 BUILD_TYPE=Release "$ROOT/scripts/setup.sh" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "build failed (full log: $log)"
    fi
    rm -f "$log"
    SLIMY=$ROOT/$1/slimy
    SIGN=$ROOT/$1/slimy-sign
}

alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
stop_pid() { # PID GRACE_S: SIGTERM, SIGKILL after GRACE_S, reap
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < $2 * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        say "pid $pid still running after ${2}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# bench_cleanup SERVER_PID [OTHER_PID...]: what the EXIT trap does: stop wrk (WRK_PIDS), then the
# server (5 s to stop) and the others (3 s each), the throwaway Redis (REDIS_STARTED), and remove
# WORK unless BENCH_KEEP=1 or the run did not finish (OK).
bench_cleanup() {
    set +e
    local pid server=$1
    shift
    for pid in $WRK_PIDS; do kill -TERM "$pid" 2>/dev/null; done # wrk (or /usr/bin/time around it)
    for pid in $WRK_PIDS; do wait "$pid" 2>/dev/null; done
    stop_pid "$server" 5
    for pid in "$@"; do stop_pid "$pid" 3; done
    [ "$REDIS_STARTED" = 1 ] && "$ROOT/tests/tools/redis.sh" stop "$WORK/redis" >/dev/null 2>&1
    if [ "$OK" = 1 ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
        rm -rf "$WORK"
    else
        say "logs kept in $WORK"
    fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

HZ=$(getconf CLK_TCK)
cpu_ticks() { # PID: utime+stime of the whole process (all threads), 0 if gone
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
