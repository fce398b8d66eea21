#!/usr/bin/env bash
# system-check.sh — set up (packages + build, like scripts/run.sh) and run `slimy check` from the
# repository root, so ./.env is the file serve would read. One line per check (PASS/WARN/FAIL);
# exits 1 when any check fails. The build's own output goes to stderr.
# Usage: scripts/system-check.sh [check options]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >&2
exec "${BUILD_DIR:-build}/slimy" check "$@"
