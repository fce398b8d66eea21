#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang in build-fuzz and run
# each one for a while on a copy of its seed corpus (tests/fuzz/corpus/<target>/), one at a time.
#
#   scripts/fuzz.sh [--brief] [--merge] [SECONDS] [TARGET...]
#
#   SECONDS  how long each target runs (default 60)
#   TARGET   fuzz_request, fuzz_interaction, ... (default: every tests/fuzz/fuzz_*.c)
#   --brief  a few seconds per target (what scripts/test.sh runs)
#   --merge  afterwards, add the inputs that found new coverage to the repository's corpus
#
# Prints the executions and executions per second of each target (libFuzzer's final stats) and
# exits non-zero on any crash, sanitizer report, leak or timeout; the input that did it is saved
# under tests/fuzz/crashes/ (rerun it with build-fuzz/<target> <file>). The working corpus is a
# temporary copy: the repository's corpus grows only with --merge.
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_ARGS (more libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
merge=0
targets=()
for arg in "$@"; do
    case "$arg" in
    --brief) seconds=4 ;;
    --merge) merge=1 ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) seconds=$arg ;;
    fuzz_*) targets+=("$arg") ;;
    *) echo "fuzz.sh: unknown argument: $arg (see --help)" >&2; exit 2 ;;
    esac
done
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

# The longest input each target gets: big enough for a real request or answer, small enough that
# every execution stays fast (each HTTP answer goes through curl and a local socket).
max_len() {
    case "$1" in
    fuzz_request | fuzz_openai_response) echo 16384 ;;
    fuzz_interaction | fuzz_discord_response | fuzz_multipart) echo 8192 ;;
    fuzz_sse) echo 1024 ;; # cut into 1-byte pieces, the reply is checked at each: cost grows with the square
    *) echo 4096 ;;
    esac
}

BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
if ! command -v clang >/dev/null; then
    echo "fuzz.sh: clang is needed for libFuzzer (apt-get install clang)" >&2
    exit 1
fi
echo "fuzz: building $BUILD_DIR (clang, libFuzzer + ASan + UBSan)"
CC=clang cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLIMY_FUZZ=ON -DSLIMY_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" --target fuzz -j "$(nproc)" >/dev/null

mkdir -p tests/fuzz/crashes
work_root=$(mktemp -d /tmp/slimy-fuzz.XXXXXX)
trap 'rm -rf "$work_root"' EXIT
failed=()
printf '%-24s %12s %10s %8s  %s\n' target executions exec/s seconds result
for t in "${targets[@]}"; do
    bin="$BUILD_DIR/$t"
    [ -x "$bin" ] || { echo "fuzz.sh: no target $t in $BUILD_DIR" >&2; exit 2; }
    work="$work_root/$t"
    mkdir -p "$work/corpus"
    [ -d "tests/fuzz/corpus/$t" ] && cp -r "tests/fuzz/corpus/$t/." "$work/corpus/"
    dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    start=$(date +%s)
    rc=0
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
        "$bin" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="tests/fuzz/crashes/$t-" "${dict[@]}" ${FUZZ_ARGS:-} \
        "$work/corpus" >"$work/log" 2>&1 || rc=$?
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
    execs=${execs:-0}
    rate=$((execs / (took > 0 ? took : 1)))
    if [ "$rc" -eq 0 ]; then
        printf '%-24s %12s %10s %8s  %s\n' "$t" "$execs" "$rate" "$took" ok
    else
        printf '%-24s %12s %10s %8s  %s\n' "$t" "$execs" "$rate" "$took" "FAILED (exit $rc)"
        grep -E "^==[0-9]+==ERROR|runtime error|SUMMARY|Test unit written|^ +#[0-9]+ " "$work/log" | head -40 >&2 || true
        cp "$work/log" "tests/fuzz/crashes/$t-last.log"
        echo "  full log: tests/fuzz/crashes/$t-last.log; rerun: $bin tests/fuzz/crashes/$t-<file>" >&2
        failed+=("$t")
    fi
    if [ "$merge" = 1 ] && [ "$rc" -eq 0 ]; then
        mkdir -p "tests/fuzz/corpus/$t"
        "$bin" -merge=1 -max_len="$(max_len "$t")" "tests/fuzz/corpus/$t" "$work/corpus" >"$work/merge.log" 2>&1
        echo "  merged: $(grep -o 'added [0-9]* new units' "$work/merge.log" | tail -1 || echo 'nothing new')"
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (inputs under tests/fuzz/crashes/)" >&2
    exit 1
fi
echo "fuzz: all targets ran clean"
