#!/usr/bin/env bash
# run.sh — set up (packages + build) and run the server on embedded defaults.
# Without DISCORD_PUBLIC_KEY (in the environment or .env) it starts in --dev mode with a local
# signing key under ./data and prints how to send a signed PING.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ -n "${DISCORD_PUBLIC_KEY:-}" ] || grep -qs '^DISCORD_PUBLIC_KEY=.' .env; then
    exec build/slimy serve "$@"
fi
exec build/slimy serve --dev "$@"
