#!/usr/bin/env bash
# check-layers.sh — checks the include layering of src/. Every source file belongs to a room (the
# top-level folder of src/ it sits in; src/main.c is the room "main"), and may include its own
# room's headers, system and library headers (<...>), and the headers of the rooms listed for it
# below — nothing else. Prints one line per forbidden include (file:line: room X may not include
# room/Y.h) and exits 1, or prints "check-layers: ok".
# Usage: scripts/check-layers.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The layering, lowest room first: "room: rooms it may include" ("*" = any room). This table is
# the single source of truth. A room with no folder under src/ is simply empty.
LAYERS='
# the foundation: config, log, status, clock, buffers, the outbound HTTP engine
core:
# user data in SQLite/MariaDB
store:        core
# shared state: in-process or Redis
kv:           core
# the OpenAI-compatible client
ai:           core
# pure Super Snail logic
snail:        core
# pure channel-mode logic
modes:        core
# the personality file and prompt building
persona:      core modes
# the Discord side: interaction model, command API, dispatcher, Discord REST
interactions: core kv store jobs
# the worker pool and the job stream
jobs:         core kv
# command flows that drive AI, downloads and the store
flows:        core store kv ai snail modes persona interactions jobs
# one file per command
handlers:     core store kv ai snail modes persona interactions jobs flows
# the HTTP server (health, readiness, metrics and the interactions endpoint)
http:         core interactions kv store jobs
# command-line tools beside serve (slimy check)
cli:          core store kv ai interactions
# src/main.c: wires everything together
main:         *
'

# grep -n prints "file:line:text" for every quoted include; awk maps each file to its room and
# checks the included room against the table. One grep and one awk for the whole tree.
hits=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' src --include='*.c' --include='*.h' |
    awk -v layers="$LAYERS" '
    BEGIN {
        n = split(layers, lines, "\n")
        for (i = 1; i <= n; i++) {
            line = lines[i]
            if (line ~ /^[[:space:]]*(#|$)/) continue
            room = line; sub(/:.*/, "", room); gsub(/[[:space:]]/, "", room)
            allowed = line; sub(/^[^:]*:/, "", allowed)
            declared[room] = 1
            m = split(allowed, list, /[[:space:]]+/)
            for (j = 1; j <= m; j++) if (list[j] != "") may[room, list[j]] = 1
        }
    }
    {
        file = $0; sub(/:.*/, "", file)
        rest = substr($0, length(file) + 2)
        lineno = rest; sub(/:.*/, "", lineno)
        text = substr(rest, length(lineno) + 2)
        sub(/^[^"]*"/, "", text); sub(/".*/, "", text)   # the included path

        from = file; sub(/^src\//, "", from)
        if (from == "main.c") from = "main"
        else if (from ~ /\//) sub(/\/.*/, "", from)
        else from = "(top level)"

        to = text
        if (to ~ /\//) sub(/\/.*/, "", to); else to = ""

        if (!(from in declared)) {
            printf "%s:%s: room %s is not declared in scripts/check-layers.sh\n", file, lineno, from
        } else if (to == "") {
            printf "%s:%s: include \"%s\" must name its room (room/file.h)\n", file, lineno, text
        } else if (to != from && !((from, "*") in may) && !((from, to) in may)) {
            printf "%s:%s: room %s may not include %s\n", file, lineno, from, text
        }
    }' | sort -t: -k1,1 -k2,2n)

if [ -n "$hits" ]; then
    echo "$hits"
    exit 1
fi
echo "check-layers: ok"
