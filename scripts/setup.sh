#!/usr/bin/env bash
# setup.sh — install the Debian packages Slimy builds and tests with, then build it.
# Safe to run any number of times: packages already present are not touched, and
# the build is incremental. Called by scripts/run.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build tools and libraries (see CMakeLists.txt), plus what the tests start:
# python3 runs the fake Discord server, curl drives the integration tests.
PACKAGES=(
    build-essential cmake pkg-config git curl ca-certificates python3 procps
    libmicrohttpd-dev libsodium-dev libcurl4-openssl-dev libcjson-dev libcmocka-dev
    libsqlite3-dev sqlite3 libmariadb-dev libhiredis-dev
)
# The tests also start throwaway MariaDB, Redis and nginx servers (never the system services),
# make a self-signed certificate with openssl, lint metrics and the Prometheus config with
# promtool (package prometheus), validate the compose file with docker-compose (no engine), build
# the fuzz targets with clang (libFuzzer) and run the unit tests under valgrind.
if [ "${SLIMY_SETUP_TEST_DEPS:-0}" = 1 ]; then
    PACKAGES+=(mariadb-server mariadb-client redis-server redis-tools nginx openssl prometheus docker-compose
        clang valgrind)
fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
