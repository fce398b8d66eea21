#!/usr/bin/env bash
# restore-database.sh — replace Slimy's database with a backup written by backup-database.sh.
# The file is checked before anything is touched (gzip -t; a complete MariaDB dump, or an SQLite
# database that passes PRAGMA integrity_check), then the operator confirms (or passes --yes).
# The target comes from the same configuration as the server: DB_HOST set → MariaDB, else SQLite.
set -euo pipefail
umask 077

PROG=restore-database

usage() {
    cat <<'EOF'
Usage: scripts/restore-database.sh FILE [--yes]

Replaces all data in Slimy's database with the backup FILE, as written by
scripts/backup-database.sh:
  slimy-mariadb-*.sql.gz  restored with `gunzip -c FILE | mariadb DB_NAME` (needs DB_HOST)
  slimy-sqlite-*.db.gz    decompressed next to SQLITE_PATH, checked, then moved over it
                          atomically; stale -wal/-shm/-journal files of the old database
                          are removed (needs DB_HOST unset)
The kind of backup must match the configured database, or nothing happens.

Stop Slimy (every replica) before restoring, and start it again afterwards; migrations that
are newer than the backup run again at start-up.

Asks "This replaces all data in <target>. Type 'yes' to continue:" unless --yes is given.
Configuration as for backup-database.sh: the environment, then .env in the current directory
(or ENV_FILE): DB_HOST, DB_PORT (3306), DB_USER (slimy), DB_PASSWORD, DB_NAME (slimy),
SQLITE_PATH (./data/slimy.db). On any failure it prints one error line and exits non-zero.
EOF
}

die() {
    echo "$PROG: error: $*" >&2
    exit 1
}

# ---- configuration: environment first, then .env (scripts/lib/db-config.sh) ----

# shellcheck source=lib/db-config.sh
. "$(dirname "$0")/lib/db-config.sh"

load_config() {
    load_db_config
}

need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found in PATH"
    done
}

first_line() {
    local line=""
    [ -s "$1" ] && IFS= read -r line <"$1"
    printf '%s' "${line:-no error output}"
}

TMP_FILES=() # removed on exit; a restored SQLite file has been renamed away by then
cleanup() {
    if [ ${#TMP_FILES[@]} -gt 0 ]; then rm -f -- "${TMP_FILES[@]}"; fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# confirm TARGET EXTRA: the prompt, unless --yes. Anything but "yes" (or end of input) aborts.
confirm() {
    local answer=""
    [ "$ASSUME_YES" = 1 ] && return 0
    [ -z "$2" ] || echo "$2" >&2
    printf "This replaces all data in %s. Type 'yes' to continue: " "$1" >&2
    IFS= read -r answer || true
    [ -t 0 ] || echo >&2 # the answer was not echoed: end the prompt line
    answer=${answer%$'\r'}
    [ "$answer" = yes ] || die "not confirmed; nothing was changed"
}

# ---- MariaDB ----

mariadb_client() { # ARGS...: the mariadb client with Slimy's settings; password in its env only
    MYSQL_PWD=$DB_PASSWORD mariadb --no-defaults --default-character-set=utf8mb4 \
        -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" "$@"
}

restore_mariadb() {
    local file=$1 head err target
    need_tools mariadb gzip
    head=$(gzip -dc -- "$file" | head -n 5) || true
    case "$head" in
    *"-- MariaDB dump"* | *"-- MySQL dump"*) ;;
    *) die "$file is not a MariaDB dump (no '-- MariaDB dump' or '-- MySQL dump' header)" ;;
    esac
    gzip -dc -- "$file" | tail -n 1 | grep -q '^-- Dump completed' ||
        die "$file is an incomplete dump (no '-- Dump completed' line at the end)"

    err=$(mktemp) || die "cannot create a temp file"
    TMP_FILES+=("$err")
    # Fail before the prompt if the database cannot be reached.
    mariadb_client -e 'SELECT 1' -- "$DB_NAME" </dev/null >/dev/null 2>"$err" ||
        die "cannot connect to MariaDB database '$DB_NAME' on $DB_HOST:$DB_PORT: $(first_line "$err")"

    target="MariaDB database '$DB_NAME' on $DB_HOST:$DB_PORT"
    confirm "$target" "Stop Slimy (every replica) before restoring. Tables in the backup are dropped and re-created."
    if ! gzip -dc -- "$file" | mariadb_client --batch -- "$DB_NAME" >/dev/null 2>"$err"; then
        die "restore into $target failed: $(first_line "$err")"
    fi
    echo "restored $file into $target"
}

# ---- SQLite ----

restore_sqlite() {
    local file=$1 dir tmp err check magic
    need_tools sqlite3 gzip od mv
    # SQLite keeps -wal/-shm next to the file a symlink points to; replace that file.
    if [ -L "$SQLITE_PATH" ]; then
        SQLITE_PATH=$(readlink -f -- "$SQLITE_PATH") || die "cannot resolve the symlink SQLITE_PATH"
    fi
    dir=$(dirname -- "$SQLITE_PATH")
    mkdir -p -- "$dir" 2>/dev/null || die "cannot create directory $dir for SQLITE_PATH"
    # Same directory as the database, so the final mv is an atomic rename. A dot name that
    # the server never opens.
    tmp=$(mktemp "$dir/.slimy-restore.XXXXXX") || die "cannot create a temp file in $dir"
    err=$(mktemp) || die "cannot create a temp file"
    TMP_FILES+=("$tmp" "$tmp-wal" "$tmp-shm" "$err")
    gzip -dc -- "$file" >"$tmp" 2>"$err" || die "cannot decompress $file into $dir: $(first_line "$err")"

    # An empty or foreign file can pass integrity_check, so check the 16-byte header first.
    magic=$(od -An -c -N 15 -- "$tmp" | tr -d ' \n')
    [ "$magic" = "SQLiteformat3" ] || die "$file does not hold an SQLite database"
    check=$(sqlite3 -batch -readonly "$tmp" "PRAGMA integrity_check" </dev/null 2>"$err") ||
        die "$file does not hold a usable SQLite database: $(first_line "$err")"
    [ "$check" = ok ] || die "$file fails PRAGMA integrity_check: ${check%%$'\n'*}"
    # A read-only open of a WAL-mode file leaves these behind.
    rm -f -- "$tmp-wal" "$tmp-shm"
    # Keep the old file's owner and mode, so a server running as another user can open it.
    if [ -e "$SQLITE_PATH" ]; then
        if ! chown --reference="$SQLITE_PATH" -- "$tmp" 2>/dev/null ||
            ! chmod --reference="$SQLITE_PATH" -- "$tmp" 2>/dev/null; then
            die "cannot give the restored file the owner and mode of $SQLITE_PATH"
        fi
    fi

    confirm "SQLite database $SQLITE_PATH" \
        "Stop Slimy first: it must not have $SQLITE_PATH open while it is replaced."
    # The old database's -wal/-journal would be replayed into the new file and corrupt it, so
    # they go before the rename; their contents belong to the data being replaced anyway.
    rm -f -- "$SQLITE_PATH-wal" "$SQLITE_PATH-shm" "$SQLITE_PATH-journal" ||
        die "cannot remove the old -wal/-shm/-journal files of $SQLITE_PATH"
    mv -f -- "$tmp" "$SQLITE_PATH" || die "cannot move the restored database to $SQLITE_PATH"
    echo "restored $file into SQLite database $SQLITE_PATH"
}

main() {
    local file="" arg kind
    ASSUME_YES=0
    for arg in "$@"; do
        case "$arg" in
        -h | --help)
            usage
            exit 0
            ;;
        --yes | -y) ASSUME_YES=1 ;;
        -*)
            echo "$PROG: error: unknown option '$arg' (see --help)" >&2
            exit 2
            ;;
        *)
            if [ -n "$file" ]; then
                echo "$PROG: error: only one FILE may be given (see --help)" >&2
                exit 2
            fi
            file=$arg
            ;;
        esac
    done
    if [ -z "$file" ]; then
        echo "$PROG: error: no backup FILE given (usage: $0 FILE [--yes])" >&2
        exit 2
    fi
    load_config
    need_tools gzip mktemp

    [ -e "$file" ] || die "no such backup file: $file"
    if [ ! -f "$file" ] || [ ! -r "$file" ]; then die "cannot read backup file $file"; fi
    case "$(basename -- "$file")" in
    slimy-mariadb-*.gz) kind=mariadb ;;
    slimy-sqlite-*.gz) kind=sqlite ;;
    *) die "cannot tell the kind of backup from the name of $file (expected slimy-mariadb-*.sql.gz or slimy-sqlite-*.db.gz)" ;;
    esac
    gzip -t -- "$file" 2>/dev/null || die "$file is corrupt or truncated (gzip -t failed)"

    if [ "$kind" = mariadb ] && [ -z "$DB_HOST" ]; then
        die "$file is a MariaDB backup but DB_HOST is not set (the target would be SQLite $SQLITE_PATH)"
    fi
    if [ "$kind" = sqlite ] && [ -n "$DB_HOST" ]; then
        die "$file is an SQLite backup but DB_HOST is set (the target would be MariaDB '$DB_NAME' on $DB_HOST)"
    fi
    "restore_$kind" "$file"
}

main "$@"
