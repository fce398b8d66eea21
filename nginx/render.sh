#!/usr/bin/env bash
# render.sh — writes the nginx configuration for Slimy from nginx/slimy.conf.template and the
# environment. Plain bash, no envsubst. Usage:
#   nginx/render.sh [OUTPUT]        (stdout when OUTPUT is not given)
# Required: SLIMY_SERVER_NAME, SLIMY_TLS_CERT, SLIMY_TLS_KEY, SLIMY_UPSTREAMS. The rest have
# defaults; nginx/README.md lists every variable. A missing or malformed variable: one line on
# stderr naming it, exit 1, nothing written.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true # bash 5.2: "&" in a replacement must stay literal

HERE=$(cd "$(dirname "$0")" && pwd)
TEMPLATE=${SLIMY_NGINX_TEMPLATE:-$HERE/slimy.conf.template}

die() { echo "render.sh: $*" >&2; exit 1; }

# require NAME: NAME is set and not empty.
require() { [ -n "${!1:-}" ] || die "$1 is required (not set or empty)"; }
# plain NAME VALUE: VALUE cannot break out of its nginx directive (no ; { } quotes $ \ # or newline).
plain() {
    case $2 in *[\;\{\}\"\'\$\\\#]* | *$'\n'* | *$'\r'*) die "$1 contains a character nginx would misread: [$2]" ;; esac
}

require SLIMY_SERVER_NAME
require SLIMY_TLS_CERT
require SLIMY_TLS_KEY
require SLIMY_UPSTREAMS

MODE=${SLIMY_RENDER_MODE:-full}
case $MODE in full | site) ;; *) die "SLIMY_RENDER_MODE must be full or site, not [$MODE]" ;; esac

LISTEN_PORT=${SLIMY_LISTEN_PORT:-443}
LISTEN_ADDR=${SLIMY_LISTEN_ADDR:-}
SERVER_NAME=$SLIMY_SERVER_NAME
TLS_CERT=$SLIMY_TLS_CERT
TLS_KEY=$SLIMY_TLS_KEY
METRICS_ALLOW=${SLIMY_METRICS_ALLOW:-127.0.0.0/8 ::1/128 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7}
ACCESS_LOG=${SLIMY_ACCESS_LOG:-/var/log/nginx/slimy-access.log}
ERROR_LOG=${SLIMY_ERROR_LOG:-/var/log/nginx/slimy-error.log}
PID_FILE=${SLIMY_PID_FILE:-/run/nginx.pid}
TEMP_DIR=${SLIMY_TEMP_DIR:-}
NGINX_USER=${SLIMY_NGINX_USER:-}
WORKER_PROCESSES=${SLIMY_WORKER_PROCESSES:-auto}
CONN_PER_ADDR=${SLIMY_CONN_PER_ADDR:-512}
UNSIGNED_RATE=${SLIMY_UNSIGNED_RATE:-10r/s}
UNSIGNED_BURST=${SLIMY_UNSIGNED_BURST:-20}

for v in SERVER_NAME TLS_CERT TLS_KEY ACCESS_LOG ERROR_LOG PID_FILE TEMP_DIR NGINX_USER LISTEN_ADDR; do
    plain "SLIMY_$v" "${!v}"
done
if ! [[ $LISTEN_PORT =~ ^[0-9]{1,5}$ ]] || [ "$LISTEN_PORT" -lt 1 ] || [ "$LISTEN_PORT" -gt 65535 ]; then
    die "SLIMY_LISTEN_PORT must be a port number, not [$LISTEN_PORT]"
fi
[[ $WORKER_PROCESSES =~ ^(auto|[1-9][0-9]*)$ ]] || die "SLIMY_WORKER_PROCESSES must be auto or a number, not [$WORKER_PROCESSES]"
[[ $CONN_PER_ADDR =~ ^[1-9][0-9]*$ ]] || die "SLIMY_CONN_PER_ADDR must be a positive number, not [$CONN_PER_ADDR]"
[[ $UNSIGNED_RATE =~ ^[1-9][0-9]*r/[sm]$ ]] || die "SLIMY_UNSIGNED_RATE must look like 10r/s or 600r/m, not [$UNSIGNED_RATE]"
[[ $UNSIGNED_BURST =~ ^[0-9]+$ ]] || die "SLIMY_UNSIGNED_BURST must be a number, not [$UNSIGNED_BURST]"
[[ $SERVER_NAME =~ ^[A-Za-z0-9.*_~^:-]+( [A-Za-z0-9.*_~^:-]+)*$ ]] ||
    die "SLIMY_SERVER_NAME must be one or more host names separated by spaces, not [$SERVER_NAME]"

# listen: [ADDR:]PORT (an IPv6 ADDR is written in brackets, [::1]).
if [ -n "$LISTEN_ADDR" ]; then
    [[ $LISTEN_ADDR =~ ^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$ ]] ||
        die "SLIMY_LISTEN_ADDR must be an address or host name ([::1] for IPv6), not [$LISTEN_ADDR]"
    LISTEN="$LISTEN_ADDR:$LISTEN_PORT"
else
    LISTEN=$LISTEN_PORT
fi

# Upstream servers: host:port, [v6]:port or unix:/path, separated by spaces or commas.
UPSTREAM_SERVERS=
for u in ${SLIMY_UPSTREAMS//,/ }; do
    if [[ $u =~ ^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$ ]]; then
        UPSTREAM_SERVERS+="        server $u max_fails=1 fail_timeout=5s;"$'\n'
    elif [[ $u =~ ^unix:/[A-Za-z0-9._/-]+$ ]]; then
        UPSTREAM_SERVERS+="        server $u max_fails=1 fail_timeout=5s;"$'\n'
    else
        die "SLIMY_UPSTREAMS: [$u] is not host:port, [v6]:port or unix:/path"
    fi
done
[ -n "$UPSTREAM_SERVERS" ] || die "SLIMY_UPSTREAMS is required (no server in it)"

# Metrics allow-list: addresses or CIDRs, separated by spaces or commas.
METRICS_LINES=
for a in ${METRICS_ALLOW//,/ }; do
    [[ $a =~ ^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$ ]] || die "SLIMY_METRICS_ALLOW: [$a] is not an address or CIDR"
    METRICS_LINES+="            allow $a;"$'\n'
done
[ -n "$METRICS_LINES" ] || die "SLIMY_METRICS_ALLOW has no address in it"

TEMP_PATHS=
if [ -n "$TEMP_DIR" ]; then
    for t in client_body proxy fastcgi uwsgi scgi; do
        TEMP_PATHS+="    ${t}_temp_path \"$TEMP_DIR/$t\";"$'\n'
    done
fi
USER_LINE=
[ -z "$NGINX_USER" ] || USER_LINE="user $NGINX_USER;"

[ -r "$TEMPLATE" ] || die "template not readable: $TEMPLATE"
tpl=$(<"$TEMPLATE")$'\n'
# Multi-line values end with a newline of their own: drop it (the template's line has one).
sub() { tpl=${tpl//"@$1@"/"$2"}; }
sub UPSTREAM_SERVERS "${UPSTREAM_SERVERS%$'\n'}"
sub METRICS_ALLOW "${METRICS_LINES%$'\n'}"
sub TEMP_PATHS "${TEMP_PATHS%$'\n'}"
sub USER_LINE "$USER_LINE"
sub WORKER_PROCESSES "$WORKER_PROCESSES"
sub PID_FILE "$PID_FILE"
sub ERROR_LOG "$ERROR_LOG"
sub ACCESS_LOG "$ACCESS_LOG"
sub LISTEN "$LISTEN"
sub SERVER_NAME "$SERVER_NAME"
sub TLS_CERT "$TLS_CERT"
sub TLS_KEY "$TLS_KEY"
sub CONN_PER_ADDR "$CONN_PER_ADDR"
sub UNSIGNED_RATE "$UNSIGNED_RATE"
sub UNSIGNED_BURST "$UNSIGNED_BURST"
if [ "$MODE" = site ]; then
    # Only the lines between the SITE markers: for `include` inside a system nginx's http {}.
    site='' inside=0
    while IFS= read -r line; do
        case $line in
        *'#@@SITE_BEGIN@@'*) inside=1; continue ;;
        *'#@@SITE_END@@'*) inside=0; continue ;;
        esac
        [ "$inside" = 0 ] || site+="${line#    }"$'\n'
    done <<<"$tpl"
    tpl="# Rendered by nginx/render.sh (SLIMY_RENDER_MODE=site): include inside http {}."$'\n'$site
else
    tpl=${tpl//    #@@SITE_BEGIN@@$'\n'/}
    tpl=${tpl//    #@@SITE_END@@$'\n'/}
    tpl="# Rendered by nginx/render.sh: a complete nginx configuration (nginx -c)."$'\n'$tpl
fi

if [[ $tpl =~ @[A-Z_]+@ ]]; then
    die "template placeholder ${BASH_REMATCH[0]} has no value (template and render.sh disagree)"
fi

if [ $# -ge 1 ]; then
    tmp="$1.tmp.$$"
    printf '%s' "$tpl" >"$tmp"
    mv -f "$tmp" "$1"
else
    printf '%s' "$tpl"
fi
