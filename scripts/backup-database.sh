#!/usr/bin/env bash
# backup-database.sh — write one verified, gzipped backup of Slimy's database to BACKUP_DIR,
# then delete this script's own backups older than BACKUP_RETENTION_DAYS. MariaDB when DB_HOST
# is set (mariadb-dump), otherwise the SQLite file at SQLITE_PATH (online .backup). Run by hand
# or from cron; scripts/restore-database.sh reads what it writes. See --help.
set -euo pipefail
umask 077 # backups hold user data: 0700 directory, 0600 files

PROG=backup-database

usage() {
    cat <<'EOF'
Usage: scripts/backup-database.sh [--help]

Writes one gzipped backup of Slimy's database and prints its path:
  MariaDB (DB_HOST set):  BACKUP_DIR/slimy-mariadb-YYYYmmdd-HHMMSS.sql.gz   (mariadb-dump)
  SQLite (otherwise):     BACKUP_DIR/slimy-sqlite-YYYYmmdd-HHMMSS.db.gz     (online .backup)
Each backup is checked before it gets its final name (gzip -t; a complete dump, or an SQLite
copy that passes PRAGMA integrity_check). After a successful backup, this script's own backup
files in BACKUP_DIR older than BACKUP_RETENTION_DAYS days are deleted; nothing else is touched.
On any failure it prints one error line, exits non-zero and deletes nothing.

Configuration comes from the environment and from .env in the current directory (or the file
named by ENV_FILE); the environment wins. Slimy's own variables:
  DB_HOST, DB_PORT (3306), DB_USER (slimy), DB_PASSWORD, DB_NAME (slimy)
  SQLITE_PATH (./data/slimy.db)
and two of its own:
  BACKUP_DIR (./backups)            created if missing, mode 0700
  BACKUP_RETENTION_DAYS (7)         passed to find -mtime +N
The password is handed to mariadb-dump in its environment, never on the command line.

Restore with scripts/restore-database.sh FILE.

Example cron line (daily at 03:17, from the directory that holds Slimy's .env):
  17 3 * * * cd /opt/slimy && scripts/backup-database.sh >>logs/backup.log 2>&1
EOF
}

die() {
    echo "$PROG: error: $*" >&2
    exit 1
}

# ---- configuration: environment first, then .env (scripts/lib/db-config.sh) ----

# shellcheck source=lib/db-config.sh
. "$(dirname "$0")/lib/db-config.sh"
CONFIG_VARS+=(BACKUP_DIR BACKUP_RETENTION_DAYS)

load_config() {
    load_db_config
    BACKUP_DIR=${BACKUP_DIR:-./backups}
    BACKUP_RETENTION_DAYS=${BACKUP_RETENTION_DAYS:-7}
    [[ "$BACKUP_RETENTION_DAYS" =~ ^[0-9]+$ ]] ||
        die "BACKUP_RETENTION_DAYS must be a whole number of days, got '$BACKUP_RETENTION_DAYS'"
}

need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found in PATH"
    done
}

# first_line FILE: the first line of a tool's error output, for a one-line error message.
first_line() {
    local line=""
    [ -s "$1" ] && IFS= read -r line <"$1"
    printf '%s' "${line:-no error output}"
}

# ---- backups ----

WORK_DIR="" # private temp dir inside BACKUP_DIR; removed on exit, success or not
cleanup() {
    if [ -n "$WORK_DIR" ]; then rm -rf -- "$WORK_DIR"; fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# publish TMP FINAL: gives a verified file its final name (same filesystem: an atomic rename).
publish() {
    [ ! -e "$2" ] || die "$2 already exists (another backup in the same second?)"
    mv -- "$1" "$2" || die "cannot move the backup to $2"
}

backup_mariadb() {
    local final=$1 tmp="$WORK_DIR/dump.sql.gz" err="$WORK_DIR/dump.err" head
    need_tools mariadb-dump gzip
    # --no-defaults: use exactly Slimy's settings, as the server does, not ~/.my.cnf.
    # MYSQL_PWD is set for mariadb-dump alone, so the password is never in `ps` output.
    if ! MYSQL_PWD=$DB_PASSWORD mariadb-dump --no-defaults --single-transaction --routines --triggers \
        --default-character-set=utf8mb4 -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -- "$DB_NAME" \
        2>"$err" | gzip -c >"$tmp"; then
        die "mariadb-dump of '$DB_NAME' on $DB_HOST:$DB_PORT failed: $(first_line "$err")"
    fi
    gzip -t "$tmp" 2>/dev/null || die "the compressed dump failed gzip -t"
    # A dump is only usable if it is complete: the header near the top, the trailer at the end.
    head=$(gzip -dc "$tmp" | head -n 5) || true
    case "$head" in
    *"-- MariaDB dump"* | *"-- MySQL dump"*) ;;
    *) die "mariadb-dump produced an empty or unrecognised dump" ;;
    esac
    gzip -dc "$tmp" | tail -n 1 | grep -q '^-- Dump completed' ||
        die "the dump is incomplete (no '-- Dump completed' line)"
    publish "$tmp" "$final"
}

backup_sqlite() {
    local final=$1 copy="$WORK_DIR/copy.db" tmp="$WORK_DIR/copy.db.gz" err="$WORK_DIR/sqlite.err"
    local src check
    need_tools sqlite3 gzip
    [ -f "$SQLITE_PATH" ] || die "SQLite database not found: $SQLITE_PATH"
    [ -r "$SQLITE_PATH" ] || die "cannot read SQLite database $SQLITE_PATH"
    # The online backup API copies a consistent snapshot while Slimy keeps running; the
    # timeout rides out a writer holding the lock. The copy is named relative to WORK_DIR so
    # no path needs quoting inside the dot-command.
    src=$(cd -- "$(dirname -- "$SQLITE_PATH")" && pwd)/$(basename -- "$SQLITE_PATH")
    (cd -- "$WORK_DIR" && sqlite3 -batch -bail -cmd ".timeout 10000" "$src" ".backup copy.db") \
        </dev/null >/dev/null 2>"$err" ||
        die "sqlite3 .backup of $SQLITE_PATH failed: $(first_line "$err")"
    check=$(sqlite3 -batch -readonly "$copy" "PRAGMA integrity_check" </dev/null 2>"$err") ||
        die "integrity check of the copy of $SQLITE_PATH failed: $(first_line "$err")"
    [ "$check" = ok ] || die "the copy of $SQLITE_PATH fails PRAGMA integrity_check: ${check%%$'\n'*}"
    gzip -c "$copy" >"$tmp" || die "gzip of the SQLite copy failed"
    gzip -t "$tmp" 2>/dev/null || die "the compressed SQLite copy failed gzip -t"
    publish "$tmp" "$final"
}

# prune_old: deletes this script's own backups older than BACKUP_RETENTION_DAYS days. Only the
# two exact name shapes it writes match, and only directly in BACKUP_DIR.
prune_old() {
    local removed err="$WORK_DIR/find.err"
    removed=$(find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type f \
        \( -name 'slimy-mariadb-*.sql.gz' -o -name 'slimy-sqlite-*.db.gz' \) \
        -mtime "+$BACKUP_RETENTION_DAYS" -print -delete 2>"$err") ||
        die "backup written to $1, but deleting old backups failed: $(first_line "$err")"
    if [ -n "$removed" ]; then
        printf '%s\n' "$removed" | sed "s/^/$PROG: removed old backup /" >&2
    fi
}

main() {
    case "${1:-}" in
    -h | --help)
        usage
        exit 0
        ;;
    "") ;;
    *)
        echo "$PROG: error: unknown argument '$1' (see --help)" >&2
        exit 2
        ;;
    esac
    load_config
    need_tools gzip find date mktemp
    mkdir -p -- "$BACKUP_DIR" 2>/dev/null || die "cannot create BACKUP_DIR $BACKUP_DIR"
    [ -w "$BACKUP_DIR" ] || die "BACKUP_DIR $BACKUP_DIR is not writable"
    # Starts with a dot and has no .gz suffix: retention never matches a leftover.
    WORK_DIR=$(mktemp -d "$BACKUP_DIR/.slimy-backup.XXXXXX") || die "cannot create a temp dir in $BACKUP_DIR"

    local stamp final
    stamp=$(date +%Y%m%d-%H%M%S)
    if [ -n "$DB_HOST" ]; then
        final="$BACKUP_DIR/slimy-mariadb-$stamp.sql.gz"
        backup_mariadb "$final"
    else
        final="$BACKUP_DIR/slimy-sqlite-$stamp.db.gz"
        backup_sqlite "$final"
    fi
    prune_old "$final"
    printf '%s\n' "$final"
}

main "$@"
