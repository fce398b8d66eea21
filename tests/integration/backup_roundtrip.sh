#!/usr/bin/env bash
# backup_roundtrip.sh — scripts/backup-database.sh and scripts/restore-database.sh against a real
# SQLite file and a throwaway MariaDB server on loopback: back up, wipe, restore, compare every
# row; the refusals (missing, corrupt, foreign or mismatched files, no confirmation); retention.
# Self-contained: uses its own small schema, temp dirs under /tmp, and stops what it started.
# Usage: tests/integration/backup_roundtrip.sh   (exits non-zero if any case fails)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BACKUP="$ROOT/scripts/backup-database.sh"
RESTORE="$ROOT/scripts/restore-database.sh"
MARIADB_TOOL="$ROOT/tests/tools/mariadb.sh"
WORK=$(mktemp -d /tmp/slimy-backup-test.XXXXXX)
MDB_DIR="" MDB_PORT="" MDB_OWN_PID=""

stop_mariadb() {
    [ -n "$MDB_DIR" ] || return 0
    if [ -x "$MARIADB_TOOL" ] && [ -z "$MDB_OWN_PID" ]; then
        "$MARIADB_TOOL" stop "$MDB_DIR" >/dev/null 2>&1
    elif [ -n "$MDB_OWN_PID" ]; then
        stop_own_mariadb
    fi
    MDB_DIR=""
}
cleanup() {
    stop_mariadb
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- assertions: each failure prints what differed and marks the current case failed ----
CASE_FAILED=0
fail() { echo "    FAIL: $*" >&2; CASE_FAILED=1; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: expected [${2:0:300}], got [${1:0:300}]"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "${3:-missing text}: [$2] not in [${1:0:400}]" ;; esac; }
assert_not_contains() { case "$1" in *"$2"*) fail "${3:-unexpected text}: [$2] found" ;; *) ;; esac; }
assert_file() { [ -f "$1" ] || fail "${2:-file missing}: $1"; }
assert_no_file() { [ ! -e "$1" ] || fail "${2:-file should not exist}: $1"; }
assert_ok() { [ "$RC" = 0 ] || fail "${1:-command failed} (exit $RC): ${ERR:0:400}"; }
# assert_refused PROG TEXT: non-zero exit, exactly one line on stderr naming PROG, containing TEXT.
assert_refused() {
    [ "$RC" != 0 ] || fail "$1 should have failed but exited 0"
    [ "$(printf '%s\n' "$ERR" | grep -c .)" = 1 ] || fail "$1 should print one error line, got: [$ERR]"
    assert_contains "$ERR" "$1: error:" "error prefix"
    [ -z "${2:-}" ] || assert_contains "$ERR" "$2" "error text"
}
# The last line of stderr: for a refusal after a prompt, the prompt comes first.
last_err_line() { printf '%s\n' "$ERR" | tail -n 1; }

# run [VAR=VALUE ...] -- CMD [ARGS...]: runs CMD in $CWD with a clean environment (PATH, HOME and
# the given variables only), $INPUT on stdin; sets RC, OUT and ERR.
CWD="$WORK" INPUT=""
run() {
    local vars=()
    while [ "$1" != -- ]; do
        vars+=("$1")
        shift
    done
    shift
    printf '%s' "$INPUT" | (cd "$CWD" && exec env -i PATH="$PATH" HOME="$WORK" "${vars[@]}" "$@") \
        >"$WORK/out" 2>"$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 20000))
}

# ---- SQLite fixture ----
SQ="$WORK/sqlite"
SQ_DB="$SQ/data/slimy.db"
SQ_ENV=(SQLITE_PATH="$SQ_DB" BACKUP_DIR="$SQ/backups")
SQ_BACKUP=""   # the backup made by case_sqlite_backup
SQ_EXPECTED="" # .dump of the database as it was backed up

sq() { sqlite3 -batch -bail "$@"; }
sq_dump() { sq "$1" .dump; }
sq_count() { sq "$1" "SELECT count(*) FROM memories"; }

make_sqlite_db() {
    mkdir -p "$SQ/data"
    sq "$SQ_DB" <<'SQL' >/dev/null
PRAGMA journal_mode=WAL;
CREATE TABLE memories (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, scope_id TEXT,
                       note TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX memories_user_scope ON memories (user_id, scope_id, id);
CREATE TABLE consent (user_id TEXT NOT NULL, scope_id TEXT NOT NULL, granted_at INTEGER,
                      PRIMARY KEY (user_id, scope_id));
INSERT INTO memories (user_id, scope_id, note, created_at) VALUES
  ('111', '999', 'likes snails 🐌✨ and 😀', 1700000000001),
  ('111', NULL, 'it''s a "quoted" note', 1700000000002),
  ('222', '999', 'back\slash, tab	and' || char(10) || 'newline', 1700000000003),
  ('222', '999', 'music 𝄞 ünïcödé — 日本語', 1700000000004);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO memories (user_id, scope_id, note, created_at)
  SELECT 'bulk' || (i % 7), '999', 'note #' || i || ' 🐌', 1700000001000 + i FROM n;
INSERT INTO consent VALUES ('111', '999', 1700000000000), ('222', '999', NULL);
SQL
}

# ---- SQLite cases ----

case_help() {
    run -- "$BACKUP" --help
    assert_ok "backup --help"
    assert_contains "$OUT" "BACKUP_RETENTION_DAYS"
    assert_contains "$OUT" "* * *" "a cron line in --help"
    run -- "$RESTORE" --help
    assert_ok "restore --help"
    assert_contains "$OUT" "--yes"
}

case_sqlite_backup() {
    make_sqlite_db
    SQ_EXPECTED=$(sq_dump "$SQ_DB")
    assert_eq "$(sq_count "$SQ_DB")" 1004 "rows in the fixture"
    run "${SQ_ENV[@]}" -- "$BACKUP"
    assert_ok "backup"
    [[ "$OUT" =~ ^$SQ/backups/slimy-sqlite-[0-9]{8}-[0-9]{6}\.db\.gz$ ]] ||
        fail "stdout should be just the backup path, got [$OUT]"
    SQ_BACKUP=$OUT
    assert_file "$SQ_BACKUP"
    gzip -t "$SQ_BACKUP" 2>/dev/null || fail "backup fails gzip -t"
    assert_eq "$(stat -c %a "$SQ_BACKUP")" 600 "backup file mode"
    assert_eq "$(ls -A "$SQ/backups")" "$(basename "$SQ_BACKUP")" "backup dir holds only the backup"
    gzip -dc "$SQ_BACKUP" >"$WORK/copy.db"
    assert_eq "$(sq "$WORK/copy.db" "PRAGMA integrity_check")" ok "integrity of the copy"
    assert_eq "$(sq_dump "$WORK/copy.db")" "$SQ_EXPECTED" "content of the copy"
}

case_sqlite_restore_after_wipe() {
    rm -f "$SQ_DB" "$SQ_DB-wal" "$SQ_DB-shm"
    run "${SQ_ENV[@]}" -- "$RESTORE" "$SQ_BACKUP" --yes
    assert_ok "restore --yes"
    assert_contains "$OUT" "restored"
    assert_eq "$(sq_count "$SQ_DB")" 1004 "row count after restore"
    assert_eq "$(sq_dump "$SQ_DB")" "$SQ_EXPECTED" "content after restore"
    assert_eq "$(sq "$SQ_DB" "SELECT note FROM memories WHERE id = 1")" "likes snails 🐌✨ and 😀" "emoji row"
    assert_eq "$(ls -A "$SQ/data")" "slimy.db" "no temp files next to the database"
}

# A -wal left by the replaced database must not be replayed into the restored one.
case_sqlite_restore_drops_stale_wal() {
    sq "$SQ_DB" "PRAGMA wal_autocheckpoint=0;" \
        "INSERT INTO memories (user_id, note, created_at) VALUES ('333', 'written after the backup', 1);" \
        ".shell cp '$SQ_DB-wal' '$WORK/stale-wal'" >/dev/null
    [ -s "$WORK/stale-wal" ] || { fail "could not capture a -wal file"; return; }
    cp "$WORK/stale-wal" "$SQ_DB-wal"
    : >"$SQ_DB-shm"
    run "${SQ_ENV[@]}" -- "$RESTORE" "$SQ_BACKUP" --yes
    assert_ok "restore over a database with a -wal"
    assert_no_file "$SQ_DB-wal" "stale -wal removed"
    assert_no_file "$SQ_DB-shm" "stale -shm removed"
    assert_eq "$(sq "$SQ_DB" "PRAGMA integrity_check")" ok "integrity after restore"
    assert_eq "$(sq_dump "$SQ_DB")" "$SQ_EXPECTED" "content after restore"
}

case_sqlite_prompt_no() {
    sq "$SQ_DB" "INSERT INTO memories (user_id, note, created_at) VALUES ('444', 'keep me', 2)"
    local before
    before=$(sq_dump "$SQ_DB")
    INPUT=$'no\n' run "${SQ_ENV[@]}" -- "$RESTORE" "$SQ_BACKUP"
    [ "$RC" != 0 ] || fail "restore went ahead on 'no'"
    assert_contains "$ERR" "This replaces all data in SQLite database $SQ_DB. Type 'yes' to continue:" "prompt"
    assert_contains "$ERR" "Stop Slimy" "prompt says to stop Slimy"
    assert_contains "$(last_err_line)" "restore-database: error:" "one error line after the prompt"
    assert_eq "$(sq_dump "$SQ_DB")" "$before" "database unchanged after 'no'"
    INPUT="" run "${SQ_ENV[@]}" -- "$RESTORE" "$SQ_BACKUP"
    [ "$RC" != 0 ] || fail "restore went ahead on end of input"
    assert_eq "$(sq_dump "$SQ_DB")" "$before" "database unchanged after end of input"
}

case_sqlite_prompt_yes() {
    INPUT=$'yes\n' run "${SQ_ENV[@]}" -- "$RESTORE" "$SQ_BACKUP"
    assert_ok "restore confirmed with 'yes'"
    assert_eq "$(sq_dump "$SQ_DB")" "$SQ_EXPECTED" "content after a confirmed restore"
}

case_sqlite_restore_refuses_missing() {
    local before
    before=$(sq_dump "$SQ_DB")
    run "${SQ_ENV[@]}" -- "$RESTORE" "$SQ/backups/slimy-sqlite-20000101-000000.db.gz" --yes
    assert_refused restore-database "no such backup file"
    assert_eq "$(sq_dump "$SQ_DB")" "$before" "database unchanged"
    run "${SQ_ENV[@]}" -- "$RESTORE" --yes
    [ "$RC" != 0 ] || fail "restore without FILE should fail"
}

case_sqlite_restore_refuses_truncated() {
    local bad="$WORK/bad/slimy-sqlite-20200101-000000.db.gz" size before
    mkdir -p "$WORK/bad"
    size=$(stat -c %s "$SQ_BACKUP")
    head -c $((size / 2)) "$SQ_BACKUP" >"$bad"
    before=$(sq_dump "$SQ_DB")
    run "${SQ_ENV[@]}" -- "$RESTORE" "$bad" --yes
    assert_refused restore-database "corrupt or truncated"
    assert_eq "$(sq_dump "$SQ_DB")" "$before" "database unchanged"
    assert_eq "$(ls -A "$SQ/data")" "slimy.db" "no temp files next to the database"
}

case_sqlite_restore_refuses_not_sqlite() {
    local bad="$WORK/bad/slimy-sqlite-20200101-000001.db.gz" before
    mkdir -p "$WORK/bad"
    before=$(sq_dump "$SQ_DB")
    printf 'this is not a database\n' | gzip >"$bad"
    run "${SQ_ENV[@]}" -- "$RESTORE" "$bad" --yes
    assert_refused restore-database "SQLite"
    : | gzip >"$bad" # an empty file would open as an empty database
    run "${SQ_ENV[@]}" -- "$RESTORE" "$bad" --yes
    assert_refused restore-database "SQLite"
    # A real SQLite header over damaged pages.
    { head -c 4096 "$WORK/copy.db"; head -c 65536 /dev/urandom; } | gzip >"$bad"
    run "${SQ_ENV[@]}" -- "$RESTORE" "$bad" --yes
    assert_refused restore-database ""
    assert_eq "$(sq_dump "$SQ_DB")" "$before" "database unchanged"
    assert_eq "$(ls -A "$SQ/data")" "slimy.db" "no temp files next to the database"
}

case_restore_refuses_kind_mismatch() {
    local m="$WORK/bad/slimy-mariadb-20200101-000000.sql.gz" other="$WORK/bad/mystery.gz"
    mkdir -p "$WORK/bad"
    printf -- '-- MariaDB dump 10.19\n-- Dump completed\n' | gzip >"$m"
    run "${SQ_ENV[@]}" -- "$RESTORE" "$m" --yes
    assert_refused restore-database "MariaDB backup but DB_HOST is not set"
    run "${SQ_ENV[@]}" DB_HOST=127.0.0.1 DB_PORT=1 -- "$RESTORE" "$SQ_BACKUP" --yes
    assert_refused restore-database "SQLite backup but DB_HOST is set"
    cp "$SQ_BACKUP" "$other"
    run "${SQ_ENV[@]}" -- "$RESTORE" "$other" --yes
    assert_refused restore-database "cannot tell the kind of backup"
    assert_eq "$(sq_dump "$SQ_DB")" "$SQ_EXPECTED" "database unchanged"
}

case_sqlite_backup_refuses_missing_db() {
    local dir="$WORK/b-missing"
    mkdir -p "$dir"
    touch -d '10 days ago' "$dir/slimy-sqlite-20200101-000000.db.gz"
    run SQLITE_PATH="$SQ/nope.db" BACKUP_DIR="$dir" -- "$BACKUP"
    assert_refused backup-database "not found"
    assert_eq "$OUT" "" "nothing on stdout"
    assert_no_file "$SQ/nope.db" "the missing database was created"
    assert_eq "$(ls -A "$dir")" "slimy-sqlite-20200101-000000.db.gz" "a failed backup prunes nothing and leaves nothing"
}

case_sqlite_backup_refuses_not_a_db() {
    local dir="$WORK/b-notdb"
    printf 'plain text, not SQLite\n' >"$WORK/not.db"
    run SQLITE_PATH="$WORK/not.db" BACKUP_DIR="$dir" -- "$BACKUP"
    assert_refused backup-database "sqlite3 .backup"
    assert_eq "$(ls -A "$dir" 2>/dev/null)" "" "no backup left behind"
}

# Tools missing from PATH: a PATH holding everything from /usr/bin except the database tools.
case_missing_tools() {
    local bin="$WORK/bin-without-db-tools" f tools=()
    mkdir -p "$bin"
    for f in /usr/bin/*; do
        case "${f##*/}" in sqlite3 | mariadb* | mysql*) ;; *) tools+=("$f") ;; esac
    done
    ln -s "${tools[@]}" "$bin/" || { fail "cannot build $bin"; return; }
    PATH="$bin" run "${SQ_ENV[@]}" BACKUP_DIR="$WORK/b-tools" -- "$BACKUP"
    assert_refused backup-database "required tool 'sqlite3' not found"
    PATH="$bin" run "${SQ_ENV[@]}" BACKUP_DIR="$WORK/b-tools" DB_HOST=127.0.0.1 -- "$BACKUP"
    assert_refused backup-database "required tool 'mariadb-dump' not found"
    PATH="$bin" run "${SQ_ENV[@]}" -- "$RESTORE" "$SQ_BACKUP" --yes
    assert_refused restore-database "required tool 'sqlite3' not found"
    assert_eq "$(ls -A "$WORK/b-tools" 2>/dev/null)" "" "no backup left behind"
}

case_dotenv() {
    local dir="$WORK/dotenv"
    mkdir -p "$dir"
    cat >"$dir/.env" <<EOF
# Slimy settings; the backup scripts read only what they need.
DISCORD_PUBLIC_KEY=
export SQLITE_PATH="$SQ_DB"
BACKUP_DIR='$dir/from-dotenv'   
BACKUP_RETENTION_DAYS=7 # a comment after the value
DB_HOST=127.0.0.1
DB_PORT=1
NOT_RUN=\$(touch $WORK/pwned)
ALSO_NOT_RUN=\`touch $WORK/pwned\`
EOF
    # DB_HOST empty in the environment wins over .env's, as in the server: SQLite.
    CWD="$dir" run DB_HOST= -- "$BACKUP"
    assert_ok "backup configured by .env"
    assert_contains "$OUT" "$dir/from-dotenv/slimy-sqlite-" "BACKUP_DIR from .env"
    assert_no_file "$WORK/pwned" ".env must never be executed"
    sleep 1.1 # a new second, so the next backup has a new name
    CWD="$dir" run DB_HOST= BACKUP_DIR="$dir/from-env" -- "$BACKUP"
    assert_ok "backup with BACKUP_DIR from the environment"
    assert_contains "$OUT" "$dir/from-env/slimy-sqlite-" "the environment wins over .env"
    # Without the override, .env's DB_HOST applies: MariaDB on a closed port.
    CWD="$dir" run -- "$BACKUP"
    assert_refused backup-database "127.0.0.1:1"
    printf 'this line has no equals sign\n' >>"$dir/.env"
    CWD="$dir" run DB_HOST= -- "$BACKUP"
    assert_refused backup-database "expected KEY=VALUE"
    sed -i '$d' "$dir/.env"
    CWD="$dir" run DB_HOST= BACKUP_RETENTION_DAYS=week -- "$BACKUP"
    assert_refused backup-database "BACKUP_RETENTION_DAYS"
}

case_retention() {
    local dir="$WORK/retention" f
    mkdir -p "$dir/sub"
    touch -d '10 days ago' "$dir/slimy-sqlite-20200101-000000.db.gz" \
        "$dir/slimy-mariadb-20200101-000000.sql.gz" \
        "$dir/notes.txt" "$dir/other-20200101.gz" "$dir/slimy-sqlite-notes.txt" \
        "$dir/sub/slimy-sqlite-20200101-000000.db.gz"
    touch -d '2 days ago' "$dir/slimy-sqlite-20200108-000000.db.gz"
    run "${SQ_ENV[@]}" BACKUP_DIR="$dir" BACKUP_RETENTION_DAYS=7 -- "$BACKUP"
    assert_ok "backup with retention"
    assert_file "$OUT" "the new backup"
    assert_no_file "$dir/slimy-sqlite-20200101-000000.db.gz" "old SQLite backup removed"
    assert_no_file "$dir/slimy-mariadb-20200101-000000.sql.gz" "old MariaDB backup removed"
    assert_file "$dir/slimy-sqlite-20200108-000000.db.gz" "recent backup kept"
    for f in notes.txt other-20200101.gz slimy-sqlite-notes.txt sub/slimy-sqlite-20200101-000000.db.gz; do
        assert_file "$dir/$f" "unrelated file kept"
    done
}

# ---- MariaDB fixture ----
MDB_SQL_ENV=() # the connection settings, for run
MDB_BACKUP=""
MDB_EXPECTED=""

# Fallback when tests/tools/mariadb.sh is absent: same layout, bounded waits.
start_own_mariadb() {
    local d=$1 port=$2 i
    mariadb-install-db --no-defaults --datadir="$d/data" --user=root \
        --auth-root-authentication-method=normal --skip-test-db >"$d/install.log" 2>&1 || return 1
    mariadbd --no-defaults --datadir="$d/data" --user=root --port="$port" --bind-address=127.0.0.1 \
        --socket="$d/sock" --pid-file="$d/pid" --skip-name-resolve --log-error="$d/error.log" \
        </dev/null >/dev/null 2>&1 &
    MDB_OWN_PID=$!
    for ((i = 0; i < 300; i++)); do
        mariadb-admin --no-defaults -uroot --socket="$d/sock" ping >/dev/null 2>&1 && break
        kill -0 "$MDB_OWN_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    [ "$i" -lt 300 ] || return 1
    mariadb --no-defaults -uroot --socket="$d/sock" -e "
        CREATE DATABASE IF NOT EXISTS slimy CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
        CREATE USER IF NOT EXISTS 'slimy'@'127.0.0.1' IDENTIFIED BY 'slimy-test';
        GRANT ALL PRIVILEGES ON slimy.* TO 'slimy'@'127.0.0.1';"
}
stop_own_mariadb() {
    local i
    kill -TERM "$MDB_OWN_PID" 2>/dev/null
    for ((i = 0; i < 300; i++)); do
        kill -0 "$MDB_OWN_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$MDB_OWN_PID" 2>/dev/null
    wait "$MDB_OWN_PID" 2>/dev/null
    MDB_OWN_PID=""
}

mdb() { # SQL: runs SQL as the test user; tab-separated rows, no column names
    MYSQL_PWD=slimy-test mariadb --no-defaults --default-character-set=utf8mb4 -h 127.0.0.1 \
        -P "$MDB_PORT" -u slimy -N -B slimy -e "$1"
}
mdb_snapshot() {
    mdb "SELECT count(*) FROM memories;
         SELECT id, user_id, IFNULL(scope_id, '<null>'), HEX(note), created_at FROM memories ORDER BY id;
         SELECT count(*) FROM consent;
         SELECT user_id, scope_id, IFNULL(granted_at, '<null>') FROM consent ORDER BY user_id, scope_id;"
}

# ---- MariaDB cases ----

case_mariadb_start() {
    MDB_DIR="$WORK/mariadb"
    MDB_PORT=$(free_port)
    mkdir -p "$MDB_DIR"
    if [ -x "$MARIADB_TOOL" ] && [ "${BACKUP_TEST_OWN_MARIADB:-0}" != 1 ]; then
        "$MARIADB_TOOL" start "$MDB_DIR" "$MDB_PORT" >"$MDB_DIR/start.log" 2>&1 ||
            { fail "mariadb.sh start failed: $(tail -n 5 "$MDB_DIR/start.log")"; return; }
    else
        command -v mariadbd >/dev/null || { fail "mariadbd not installed (apt-get install mariadb-server)"; return; }
        start_own_mariadb "$MDB_DIR" "$MDB_PORT" ||
            { fail "could not start MariaDB: $(tail -n 5 "$MDB_DIR/error.log" 2>/dev/null)"; return; }
    fi
    MDB_SQL_ENV=(DB_HOST=127.0.0.1 DB_PORT="$MDB_PORT" DB_USER=slimy DB_PASSWORD=slimy-test DB_NAME=slimy
        BACKUP_DIR="$WORK/mdb-backups")
    mdb "SELECT 1" >/dev/null || fail "cannot connect as slimy"
}

case_mariadb_backup() {
    mdb "
      CREATE TABLE memories (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id VARCHAR(32) NOT NULL,
        scope_id VARCHAR(32) NULL, note TEXT NOT NULL, created_at BIGINT NOT NULL,
        KEY memories_user_scope (user_id, scope_id, id)) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
      CREATE TABLE consent (user_id VARCHAR(32) NOT NULL, scope_id VARCHAR(32) NOT NULL,
        granted_at BIGINT NULL, PRIMARY KEY (user_id, scope_id)) CHARACTER SET utf8mb4;
      CREATE TRIGGER memories_stamp BEFORE INSERT ON memories FOR EACH ROW
        SET NEW.created_at = IF(NEW.created_at = 0, 42, NEW.created_at);
      CREATE PROCEDURE memory_count() SELECT count(*) FROM memories;
      INSERT INTO memories (user_id, scope_id, note, created_at) VALUES
        ('111', '999', 'likes snails 🐌✨ and 😀', 1700000000001),
        ('111', NULL, 'it\\'s a \"quoted\" note', 1700000000002),
        ('222', '999', CONCAT('back\\\\slash, tab\\tand', CHAR(10), 'newline'), 1700000000003),
        ('222', '999', 'music 𝄞 ünïcödé — 日本語', 0);
      INSERT INTO memories (user_id, scope_id, note, created_at)
        SELECT CONCAT('bulk', seq % 7), '999', CONCAT('note #', seq, ' 🐌'), 1700000001000 + seq FROM seq_1_to_1000;
      INSERT INTO consent VALUES ('111', '999', 1700000000000), ('222', '999', NULL);" ||
        { fail "could not create the fixture"; return; }
    assert_eq "$(mdb "SELECT created_at FROM memories WHERE id = 4")" 42 "fixture trigger"
    assert_eq "$(mdb "SELECT note FROM memories WHERE id = 1")" "likes snails 🐌✨ and 😀" "fixture emoji"
    MDB_EXPECTED=$(mdb_snapshot)
    run "${MDB_SQL_ENV[@]}" -- "$BACKUP"
    assert_ok "MariaDB backup"
    [[ "$OUT" =~ ^$WORK/mdb-backups/slimy-mariadb-[0-9]{8}-[0-9]{6}\.sql\.gz$ ]] ||
        fail "stdout should be just the backup path, got [$OUT]"
    MDB_BACKUP=$OUT
    assert_file "$MDB_BACKUP"
    gzip -t "$MDB_BACKUP" 2>/dev/null || fail "backup fails gzip -t"
    assert_eq "$(stat -c %a "$MDB_BACKUP")" 600 "backup file mode"
    assert_contains "$(gzip -dc "$MDB_BACKUP" | head -n 5)" "-- MariaDB dump" "dump header"
    assert_not_contains "$OUT$ERR" "slimy-test" "password printed"
    assert_eq "$(ls -A "$WORK/mdb-backups")" "$(basename "$MDB_BACKUP")" "backup dir holds only the backup"
}

case_mariadb_restore_after_drop() {
    mdb "DROP TABLE memories, consent; DROP PROCEDURE memory_count;" || { fail "could not drop"; return; }
    run "${MDB_SQL_ENV[@]}" -- "$RESTORE" "$MDB_BACKUP" --yes
    assert_ok "MariaDB restore --yes"
    assert_contains "$OUT" "restored"
    assert_eq "$(mdb "SELECT count(*) FROM memories")" 1004 "row count after restore"
    assert_eq "$(mdb_snapshot)" "$MDB_EXPECTED" "content after restore"
    assert_eq "$(mdb "SELECT note FROM memories WHERE id = 1")" "likes snails 🐌✨ and 😀" "emoji row"
    assert_eq "$(mdb "CALL memory_count()")" 1004 "procedure restored (--routines)"
    mdb "INSERT INTO memories (user_id, note, created_at) VALUES ('555', 'trigger check', 0)"
    assert_eq "$(mdb "SELECT created_at FROM memories WHERE user_id = '555'")" 42 "trigger restored (--triggers)"
}

case_mariadb_prompt_no() {
    local before
    before=$(mdb_snapshot)
    INPUT=$'no\n' run "${MDB_SQL_ENV[@]}" -- "$RESTORE" "$MDB_BACKUP"
    [ "$RC" != 0 ] || fail "restore went ahead on 'no'"
    assert_contains "$ERR" "This replaces all data in MariaDB database 'slimy' on 127.0.0.1:$MDB_PORT. Type 'yes' to continue:" "prompt"
    assert_contains "$(last_err_line)" "restore-database: error:" "one error line after the prompt"
    assert_eq "$(mdb_snapshot)" "$before" "database unchanged after 'no'"
}

case_mariadb_restore_refuses_bad_dumps() {
    local bad="$WORK/bad/slimy-mariadb-20200101-000001.sql.gz" before
    mkdir -p "$WORK/bad"
    before=$(mdb_snapshot)
    printf 'DROP TABLE memories;\n' | gzip >"$bad"
    run "${MDB_SQL_ENV[@]}" -- "$RESTORE" "$bad" --yes
    assert_refused restore-database "header"
    gzip -dc "$MDB_BACKUP" | head -n 40 | gzip >"$bad" # valid gzip, dump cut short
    run "${MDB_SQL_ENV[@]}" -- "$RESTORE" "$bad" --yes
    assert_refused restore-database "incomplete"
    head -c 200 "$MDB_BACKUP" >"$bad"
    run "${MDB_SQL_ENV[@]}" -- "$RESTORE" "$bad" --yes
    assert_refused restore-database "corrupt or truncated"
    run "${MDB_SQL_ENV[@]}" -- "$RESTORE" "$WORK/bad/slimy-mariadb-20000101-000000.sql.gz" --yes
    assert_refused restore-database "no such backup file"
    run "${MDB_SQL_ENV[@]}" DB_PORT=1 -- "$RESTORE" "$MDB_BACKUP" --yes
    assert_refused restore-database "cannot connect"
    assert_eq "$(mdb_snapshot)" "$before" "database unchanged"
}

case_mariadb_backup_failures() {
    local dir="$WORK/mdb-fail"
    run "${MDB_SQL_ENV[@]}" DB_PASSWORD=wrong-pass-7Q2 BACKUP_DIR="$dir" -- "$BACKUP"
    assert_refused backup-database "Access denied"
    assert_not_contains "$OUT$ERR" "wrong-pass-7Q2" "password printed"
    run "${MDB_SQL_ENV[@]}" DB_PORT=1 BACKUP_DIR="$dir" -- "$BACKUP"
    assert_refused backup-database "127.0.0.1:1"
    run "${MDB_SQL_ENV[@]}" DB_NAME=no_such_db BACKUP_DIR="$dir" -- "$BACKUP"
    assert_refused backup-database "no_such_db"
    assert_eq "$(ls -A "$dir" 2>/dev/null)" "" "no backup left behind"
}

# A stand-in mariadb-dump first on PATH: how it is called, and what a bad dump does to the backup.
case_mariadb_backup_checks_dump() {
    local bin="$WORK/fake-dump-bin" dir="$WORK/mdb-fake" mode
    mkdir -p "$bin"
    cat >"$bin/mariadb-dump" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$@" >"$WORK/dump-args"
printf '%s' "\${MYSQL_PWD-unset}" >"$WORK/dump-pwd"
case "\$(cat "$WORK/dump-mode")" in
empty) exit 0 ;;
fails) printf -- '-- MariaDB dump 10.19\n'; echo "mariadb-dump: Error 2013: Lost connection" >&2; exit 2 ;;
cut) printf -- '-- MariaDB dump 10.19\nCREATE TABLE t (a int);\n' ;;
esac
EOF
    chmod +x "$bin/mariadb-dump"
    for mode in empty fails cut; do
        echo "$mode" >"$WORK/dump-mode"
        PATH="$bin:$PATH" run DB_HOST=db.example DB_USER=slimy DB_PASSWORD='s3cret pass' BACKUP_DIR="$dir" -- "$BACKUP"
        case "$mode" in
        empty) assert_refused backup-database "empty or unrecognised dump" ;;
        fails) assert_refused backup-database "Lost connection" ;;
        cut) assert_refused backup-database "incomplete" ;;
        esac
    done
    assert_eq "$(ls -A "$dir" 2>/dev/null)" "" "no backup left behind"
    assert_eq "$(cat "$WORK/dump-pwd")" "s3cret pass" "password handed over in MYSQL_PWD"
    assert_not_contains "$(cat "$WORK/dump-args")" "s3cret" "password on the command line"
    assert_contains "$(tr '\n' ' ' <"$WORK/dump-args")" \
        "--single-transaction --routines --triggers --default-character-set=utf8mb4 -h db.example -P 3306 -u slimy" \
        "mariadb-dump options"
}

case_mariadb_stop() {
    stop_mariadb
}

# ---- run ----
passed=0 failed=0
for case_name in case_help case_sqlite_backup case_sqlite_restore_after_wipe \
    case_sqlite_restore_drops_stale_wal case_sqlite_prompt_no case_sqlite_prompt_yes \
    case_sqlite_restore_refuses_missing case_sqlite_restore_refuses_truncated \
    case_sqlite_restore_refuses_not_sqlite case_restore_refuses_kind_mismatch \
    case_sqlite_backup_refuses_missing_db case_sqlite_backup_refuses_not_a_db case_missing_tools \
    case_mariadb_backup_checks_dump \
    case_dotenv case_retention \
    case_mariadb_start case_mariadb_backup case_mariadb_restore_after_drop case_mariadb_prompt_no \
    case_mariadb_restore_refuses_bad_dumps case_mariadb_backup_failures case_mariadb_stop; do
    CASE_FAILED=0 INPUT="" CWD="$WORK"
    [ "${BACKUP_TEST_TIMES:-0}" = 1 ] && SECONDS=0
    "$case_name"
    [ "${BACKUP_TEST_TIMES:-0}" = 1 ] && echo "    ($case_name: ${SECONDS}s)"
    if [ "$CASE_FAILED" = 0 ]; then
        passed=$((passed + 1))
        echo "  ok   $case_name"
    else
        failed=$((failed + 1))
        echo "  FAIL $case_name"
    fi
done
echo "backup: $passed passed, $failed failed"
[ "$failed" = 0 ]
