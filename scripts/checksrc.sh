#!/usr/bin/env bash
# checksrc.sh — source checks that the compiler does not make. Prints one line per finding
# (file:line: message) and exits 1, or prints "checksrc: ok".
#   1. Banned calls, in src/ and tests/: the unbounded string functions (sprintf, vsprintf, strcpy,
#      strcat, gets), strtok (hidden static state) and atoi/atol (no error reporting, undefined on
#      overflow). Use snprintf, memcpy with a known length, strtok_r, strtol/strtoll instead.
#   2. Needlessly exported functions: a non-static function defined in a src/ .c file that no
#      other file uses — no other src/ file and no tests/ file (a function exported for its unit
#      test is legitimate). Make it static. main is exempt.
#   3. Long functions in src/: more than MAX_FUNC_LINES lines from the opening "{" to the closing
#      "}", both of which sit alone at column 0 in this code base (a function body is the only
#      thing that opens with "{" at column 0). Split it.
# A use is a mention outside comments and string literals; in a header only function bodies
# (static inline) and #define lines count, so a prototype is not a use.
# Usage: scripts/checksrc.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

MAX_FUNC_LINES=80

# Deliberate exceptions, one per line: "file:function: reason". Keep the reason honest.
ALLOW='
'

# --- 1. banned calls: grep finds the candidate lines, awk drops the mentions in comments and
# string literals (single-line ones; a line inside a block comment starts with "*") and names them.
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\('
findings=$(grep -rnE "$banned" src tests --include='*.c' --include='*.h' |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' |
    awk '{
        loc = $0; sub(/:.*/, "", loc); rest = substr($0, length(loc) + 2)
        ln = rest; sub(/:.*/, "", ln); code = substr(rest, length(ln) + 2)
        gsub(/"([^"\\]|\\.)*"/, "\"\"", code); gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, " ", code); sub(/\/\/.*/, "", code)
        names = ""
        while (match(code, /(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\(/)) {
            call = substr(code, RSTART, RLENGTH); code = substr(code, RSTART + RLENGTH)
            sub(/^[^A-Za-z_]/, "", call); sub(/[[:space:]]*\($/, "", call)
            names = names (names == "" ? "" : ", ") call "()"
        }
        if (names != "") printf "%s:%s: banned call %s (use snprintf, memcpy, strtok_r, strtol...)\n", loc, ln, names
    }')

# --- 2 and 3: one awk pass over every source file.
# Per line: strip comments and string/char literals, track column-0 function bodies, collect
# every identifier used (per file, deduplicated), and record each src/ function definition.
files=$(find src tests -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
# shellcheck disable=SC2086
findings2=$(awk -v max="$MAX_FUNC_LINES" -v allow="$ALLOW" '
    FNR == 1 {
        in_comment = 0; in_body = 0; in_define = 0; sig = ""; sig_line = 0
        is_header = (FILENAME ~ /\.h$/)
        in_src = (FILENAME ~ /^src\//)
    }
    {
        raw = $0
        # strip block/line comments (block comments may span lines) and literals
        line = ""; s = raw
        while (s != "") {
            if (in_comment) {
                e = index(s, "*/")
                if (e == 0) { s = ""; break }
                s = substr(s, e + 2); in_comment = 0; line = line " "
                continue
            }
            if (match(s, /\/\*|\/\/|"|\047/) == 0) { line = line s; break }
            tok = substr(s, RSTART, RLENGTH)
            line = line substr(s, 1, RSTART - 1)
            s = substr(s, RSTART + RLENGTH)
            if (tok == "/*") { in_comment = 1 }
            else if (tok == "//") { s = "" }
            else {                                   # a string or char literal: skip to its end
                while (s != "") {
                    c = substr(s, 1, 1)
                    if (c == "\\") { s = substr(s, 3); continue }
                    s = substr(s, 2)
                    if (c == tok) break
                }
                line = line tok tok
            }
        }

        # function bodies: "{" at column 0 opens one, "}" at column 0 closes it
        if (line ~ /^\{/) {
            in_body = 1; body_start = FNR
            name = sig; sub(/\(.*/, "", name); sub(/.*[^A-Za-z0-9_]/, "", name)
            is_static = (sig ~ /^(static|inline static|static inline)[[:space:]]/)
            fname = name; fline = sig_line
        } else if (in_body && line ~ /^\}/) {
            in_body = 0
            n = FNR - body_start + 1
            if (in_src && n > max)
                long[++nlong] = FILENAME ":" fline ":" fname ":" n
            if (in_src && !is_header && !is_static && fname != "main" && fname != "") {
                ndef++; def_file[ndef] = FILENAME; def_line[ndef] = fline; def_name[ndef] = fname
            }
        } else if (!in_body) {
            if (line ~ /^[A-Za-z_]/) { sig = line; sig_line = FNR }
            else if (line ~ /^[[:space:]]+[^[:space:]]/ && sig != "") sig = sig " " line
        }

        # which lines count as uses
        is_define = in_define || (line ~ /^[[:space:]]*#[[:space:]]*define[[:space:]]/)
        in_define = is_define && (raw ~ /\\$/)
        if (is_header && !in_body && !is_define) next
        s = line
        while (match(s, /[A-Za-z_][A-Za-z0-9_]*/)) {
            id = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
            if (!((id, FILENAME) in seen)) { seen[id, FILENAME] = 1; nfiles[id]++ }
        }
    }
    END {
        n = split(allow, lines, "\n")
        for (i = 1; i <= n; i++) {
            if (lines[i] ~ /^[[:space:]]*(#|$)/) continue
            split(lines[i], parts, ":"); gsub(/[[:space:]]/, "", parts[1]); gsub(/[[:space:]]/, "", parts[2])
            allowed[parts[1], parts[2]] = 1
        }
        for (i = 1; i <= ndef; i++) {
            f = def_file[i]; nm = def_name[i]
            if ((f, nm) in allowed) continue
            if (nfiles[nm] - ((nm, f) in seen) == 0)
                printf "%s:%d: %s() is exported but used in this file only: make it static\n", f, def_line[i], nm
        }
        for (i = 1; i <= nlong; i++) {
            split(long[i], p, ":")
            if ((p[1], p[3]) in allowed) continue
            printf "%s:%s: %s() is %s lines long (max %d): split it\n", p[1], p[2], p[3], p[4], max
        }
    }' $files)

all=$(printf '%s\n%s\n' "$findings" "$findings2" | grep -v '^$' | LC_ALL=C sort -t: -k1,1 -k2,2n)
if [ -n "$all" ]; then
    echo "$all"
    exit 1
fi
echo "checksrc: ok"
