#!/usr/bin/env bash
# test.sh — set up and run every test: the build with -Werror, the unit tests (ctest), then the
# same under AddressSanitizer/UBSan together with the integration tests (real processes on
# loopback against fake Discord). Exits non-zero on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup and build (-Werror)"
SLIMY_SETUP_TEST_DEPS=1 CMAKE_ARGS="-DSLIMY_WERROR=ON" ./scripts/setup.sh

echo "== unit tests"
ctest --test-dir build --output-on-failure -j "$(nproc)"

echo "== sanitizer build (ASan + UBSan)"
BUILD_DIR=build-asan BUILD_TYPE=Debug CMAKE_ARGS="-DSLIMY_WERROR=ON -DSLIMY_SANITIZE=ON" ./scripts/setup.sh
echo "== unit tests under sanitizers"
ctest --test-dir build-asan --output-on-failure -j "$(nproc)"

echo "== integration tests (sanitizer build)"
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" tests/integration/run.sh build-asan
echo "== all tests passed"
