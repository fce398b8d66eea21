#!/usr/bin/env bash
# test.sh — set up and run every test: the build with -Werror, the unit tests (ctest, the store
# contract suite against SQLite and a throwaway MariaDB, the kv contract suite in process and
# against a throwaway Redis), the same under AddressSanitizer/UBSan,
# the integration tests (real processes on loopback against fake Discord, on SQLite and on
# MariaDB) and the backup round trip. Exits non-zero on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup and build (-Werror)"
SLIMY_SETUP_TEST_DEPS=1 CMAKE_ARGS="-DSLIMY_WERROR=ON" ./scripts/setup.sh
./scripts/checksrc.sh
./scripts/check-layers.sh

echo "== throwaway MariaDB and Redis for the store and kv contract tests"
DB_DIR=$(mktemp -d /tmp/slimy-test-db.XXXXXX)
REDIS_DIR=$(mktemp -d /tmp/slimy-test-redis.XXXXXX)
trap 'tests/tools/mariadb.sh stop "$DB_DIR" >/dev/null 2>&1; tests/tools/redis.sh stop "$REDIS_DIR" >/dev/null 2>&1
      rm -rf "$DB_DIR" "$REDIS_DIR"' EXIT
DB_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tests/tools/mariadb.sh start "$DB_DIR" "$DB_PORT"
export SLIMY_TEST_DB_HOST=127.0.0.1 SLIMY_TEST_DB_PORT="$DB_PORT" SLIMY_TEST_DB_USER=slimy \
    SLIMY_TEST_DB_PASSWORD=slimy-test SLIMY_TEST_DB_NAME=slimy
# Picked while MariaDB listens, so the two cannot be given the same port.
REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tests/tools/redis.sh start "$REDIS_DIR" "$REDIS_PORT"
export SLIMY_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

echo "== unit tests"
ctest --test-dir build --output-on-failure -j "$(nproc)"

echo "== sanitizer build (ASan + UBSan)"
BUILD_DIR=build-asan BUILD_TYPE=Debug CMAKE_ARGS="-DSLIMY_WERROR=ON -DSLIMY_SANITIZE=ON" ./scripts/setup.sh
echo "== unit tests under sanitizers"
ctest --test-dir build-asan --output-on-failure -j "$(nproc)"

echo "== valgrind (unit tests and one server run under memcheck, plain build)"
./scripts/valgrind.sh build

echo "== fuzzers (briefly)"
./scripts/fuzz.sh --brief

echo "== deployment files"
tests/deploy/check.sh

echo "== integration tests (sanitizer build)"
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" tests/integration/run.sh build-asan

echo "== backup and restore round trip"
tests/integration/backup_roundtrip.sh
echo "== all tests passed"
