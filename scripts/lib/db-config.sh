# db-config.sh — the database settings the backup and restore scripts share with Slimy: the
# environment first, then .env (ENV_FILE), with the server's defaults. Sourced, never run; the
# caller defines die() and may append its own names to CONFIG_VARS before load_db_config.

CONFIG_VARS=(DB_HOST DB_PORT DB_USER DB_PASSWORD DB_NAME SQLITE_PATH)
declare -A DOTENV=()

# read_dotenv FILE: KEY=VALUE lines into DOTENV, parsed as Slimy's config_load_dotenv() does
# (# comments, optional `export `, optional matching quotes, " #" comment after an unquoted
# value). The file is data: it is never sourced, so nothing in it runs.
read_dotenv() {
    local file=$1 line name value lineno=0
    [ -e "$file" ] || return 0
    [ -r "$file" ] || die "cannot read $file"
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        line=${line%$'\r'}
        line=${line#"${line%%[![:blank:]]*}"}
        line=${line%"${line##*[![:blank:]]}"}
        [ -z "$line" ] && continue
        [ "${line:0:1}" = "#" ] && continue
        case "$line" in "export "*) line=${line#export } ;; esac
        case "$line" in *=*) ;; *) die "$file:$lineno: expected KEY=VALUE" ;; esac
        name=${line%%=*}
        value=${line#*=}
        name=${name%"${name##*[![:blank:]]}"}
        name=${name#"${name%%[![:blank:]]*}"}
        [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "$file:$lineno: expected KEY=VALUE"
        value=${value#"${value%%[![:blank:]]*}"}
        if [ ${#value} -ge 2 ] && { [ "${value:0:1}" = '"' ] || [ "${value:0:1}" = "'" ]; } &&
            [ "${value: -1}" = "${value:0:1}" ]; then
            value=${value:1:${#value}-2}
        else
            value=${value%% \#*}
            value=${value%"${value##*[![:blank:]]}"}
        fi
        # First definition wins, like setenv(name, value, 0) in the server.
        [ -n "${DOTENV[$name]+set}" ] || DOTENV[$name]=$value
    done <"$file"
}

# load_db_config: sets every CONFIG_VARS name from the environment or .env, and the DB_* and
# SQLITE_PATH defaults. As in the server, an empty value means "use the default" (DB_PASSWORD
# may be empty).
load_db_config() {
    local name
    read_dotenv "${ENV_FILE:-.env}"
    for name in "${CONFIG_VARS[@]}"; do
        if [ -z "${!name+set}" ] && [ -n "${DOTENV[$name]+set}" ]; then
            printf -v "$name" '%s' "${DOTENV[$name]}"
        fi
    done
    DB_HOST=${DB_HOST:-}
    DB_PORT=${DB_PORT:-3306}
    DB_USER=${DB_USER:-slimy}
    DB_PASSWORD=${DB_PASSWORD-}
    DB_NAME=${DB_NAME:-slimy}
    SQLITE_PATH=${SQLITE_PATH:-./data/slimy.db}
    [[ "$DB_PORT" =~ ^[0-9]+$ ]] || die "DB_PORT must be a port number, got '$DB_PORT'"
}
