#!/usr/bin/env bash
# checksrc.sh — fails on C calls the project bans (STYLE.md §8): unbounded string functions and
# atoi, which hide overflows and errors. Run by scripts/test.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\('
hits=$(grep -rnE "$banned" src tests --include='*.c' --include='*.h' | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)')
if [ -n "$hits" ]; then
    echo "checksrc: banned calls (use snprintf, memcpy, strtol...):"
    echo "$hits"
    exit 1
fi
echo "checksrc: ok"
