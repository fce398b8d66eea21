#!/usr/bin/env bash
# check.sh — checks of the deployment files that need no Docker engine:
#   ldd         every shared library build/slimy loads comes from a package the Dockerfile's
#               runtime stage installs (or from the base image)
#   compose     docker-compose.yml passes `docker-compose config -q` with a throwaway env file
#   prometheus  promtool accepts deploy/prometheus/prometheus.yml and alerts.yml, and some alerts
#               fire as expected on made-up series (promtool test rules)
#   dashboard   deploy/grafana/dashboards/slimy.json parses, every metric its queries and the
#               alert rules use is in the metric catalogue below, and every query parses as PromQL
# One line per check; exit 1 if any fails. BUILD_DIR (default build, relative to the repository
# root) holds the slimy binary.
# Needs: ldd, dpkg, readelf, python3 with PyYAML (python3-yaml comes with docker-compose),
# docker-compose, promtool: scripts/setup.sh installs them with SLIMY_SETUP_TEST_DEPS=1.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

BUILD_DIR=${BUILD_DIR:-build}
BIN=$BUILD_DIR/slimy
TMP=$(mktemp -d /tmp/slimy-deploy-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
failed=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failed=1; }
# Indented detail lines under a failed check.
detail() { sed 's/^/     /'; }

# The metrics Slimy exports (src/core/metrics.h is the implementation; this is the contract the
# dashboard and alerts are written against). Histograms are listed with their three series.
CATALOGUE="
slimy_build_info slimy_uptime_seconds slimy_process_resident_memory_bytes slimy_http_connections_open
slimy_interactions_total slimy_signature_failures_total
slimy_commands_total slimy_command_duration_seconds_bucket slimy_command_duration_seconds_sum
slimy_command_duration_seconds_count
slimy_cooldown_hits_total slimy_dedupe_hits_total slimy_jobs_queued slimy_jobs_in_flight
slimy_jobs_retried_total slimy_jobs_dropped_total
slimy_discord_requests_total slimy_discord_rate_limited_total
slimy_openai_requests_total slimy_openai_request_duration_seconds_bucket
slimy_openai_request_duration_seconds_sum slimy_openai_request_duration_seconds_count
slimy_store_errors_total slimy_store_up slimy_redis_errors_total slimy_shared_state
"
# Series Prometheus itself makes for every target.
SCRAPE_SERIES="up scrape_duration_seconds scrape_samples_scraped"

# Packages every debian:bookworm-slim image already has, so the runtime stage need not name them:
# libc6 (libc, libm, libresolv, the dynamic loader), libgcc-s1 and libstdc++6 (apt needs them),
# zlib1g (dpkg needs it). All are Priority: required in Debian 12.
BASE_PACKAGES="libc6 libgcc-s1 libstdc++6 zlib1g"

# ---- (a) ldd: every library the binary loads is installed by the runtime stage --------------
# A library the binary links directly (DT_NEEDED) must come from a package the runtime stage names
# (or BASE_PACKAGES). A library pulled in by those (libgnutls30 through libmicrohttpd12, ...) must
# come from a package in their Depends/Pre-Depends closure, which apt installs with them; the
# closure is read from this machine's dpkg database (Debian 12, as the image).
runtime_packages() {
    python3 - Dockerfile <<'PY'
import re, shlex, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
stages = re.split(r"(?im)^\s*FROM\s", text)
last = stages[-1]
pkgs = []
for line in last.splitlines():
    if not re.match(r"(?i)\s*RUN\s", line):
        continue
    for cmd in re.split(r"&&|\|\||;|\|", line):
        words = shlex.split(cmd.strip(), posix=True) if cmd.strip() else []
        # skip VAR=value prefixes and sudo
        while words and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]) or words[0] in ("RUN", "sudo")):
            words.pop(0)
        if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words[1:]:
            rest = words[words.index("install") + 1:]
            pkgs += [w.split("=")[0] for w in rest if not w.startswith("-")]
print("\n".join(pkgs))
PY
}

# owner PATH: the package (without :arch) that ships PATH; tries the /usr-merged twin too.
owner() {
    local p=$1 cands=() c out
    cands+=("$p")
    case $p in
    /usr/*) cands+=("${p#/usr}") ;;
    /*) cands+=("/usr$p") ;;
    esac
    local real
    real=$(readlink -f "$p" 2>/dev/null) && [ "$real" != "$p" ] && {
        cands+=("$real")
        case $real in /usr/*) cands+=("${real#/usr}") ;; /*) cands+=("/usr$real") ;; esac
    }
    for c in "${cands[@]}"; do
        out=$(dpkg -S "$c" 2>/dev/null | head -n1) || continue
        [ -n "$out" ] || continue
        out=${out%%: *}
        echo "${out%%:*}"
        return 0
    done
    return 1
}

# closure PKG...: the packages apt installs with PKG... (Depends and Pre-Depends, recursively;
# of alternatives, the ones installed here).
closure() {
    python3 - "$@" <<'PY'
import re, subprocess, sys
def fields(p):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}\t${Depends}, ${Pre-Depends}", p],
                       capture_output=True, text=True)
    if r.returncode != 0 or "install ok installed" not in r.stdout:
        return None
    return r.stdout.split("\t", 1)[1]
seen, todo = set(), list(sys.argv[1:])
while todo:
    p = todo.pop()
    if p in seen:
        continue
    seen.add(p)
    deps = fields(p)
    if deps is None:
        continue
    for group in deps.split(","):
        for alt in group.split("|"):
            name = re.sub(r"\(.*?\)", "", alt).strip().split(":")[0]
            if name and fields(name) is not None:
                todo.append(name)
print("\n".join(sorted(seen)))
PY
}

check_ldd() {
    if [ ! -x "$BIN" ]; then
        fail "ldd: $BIN not found (run ./scripts/setup.sh, or set BUILD_DIR)"
        return
    fi
    local listed direct allowed closure_set problems=()
    listed=$(runtime_packages) || { fail "ldd: cannot parse the Dockerfile"; return; }
    if [ -z "$listed" ]; then
        fail "ldd: no apt-get install in the Dockerfile's last stage"
        return
    fi
    direct=$(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    # Word splitting is wanted here and below: these are whitespace-separated lists of names.
    # shellcheck disable=SC2086
    allowed=$(printf '%s\n' $listed $BASE_PACKAGES | sort -u)
    # shellcheck disable=SC2086
    closure_set=$(closure $allowed)
    local name path pkg n=0
    while read -r name path; do
        case $name in linux-vdso* | linux-gate*) continue ;; esac
        n=$((n + 1))
        if [ "$path" = "not" ] || [ -z "$path" ]; then
            problems+=("$name: not found by ldd on this machine")
            continue
        fi
        if ! pkg=$(owner "$path"); then
            problems+=("$name: no Debian package owns $path")
            continue
        fi
        if grep -qxF "$name" <<<"$direct"; then
            grep -qxF "$pkg" <<<"$allowed" ||
                problems+=("$name: linked directly; its package $pkg is not installed by the Dockerfile's runtime stage")
        else
            grep -qxF "$pkg" <<<"$closure_set" ||
                problems+=("$name: package $pkg is not installed by the runtime stage nor a dependency of what it installs")
        fi
    done < <(ldd "$BIN" | awk '$2 == "=>" { print $1, $3; next } $1 ~ /^\// { n = split($1, a, "/"); print a[n], $1; next } { print $1, "" }')
    if [ ${#problems[@]} -eq 0 ]; then
        pass "ldd: $n libraries of $BIN come from the runtime stage's packages ($(wc -w <<<"$listed") listed) or the base image"
    else
        fail "ldd: ${#problems[@]} of $n libraries of $BIN would be missing from the image"
        printf '%s\n' "${problems[@]}" | detail
    fi
}

# ---- (b) docker-compose config -------------------------------------------------------------
# A throwaway env file with every variable docker-compose.yml interpolates; SLIMY_ENV_FILE points
# the replicas' env_file at a copy of .env.example, so no .env is needed here.
check_compose() {
    if ! command -v docker-compose >/dev/null; then
        fail "compose: docker-compose not installed"
        return
    fi
    mkdir -p "$TMP/tls"
    cp .env.example "$TMP/slimy.env"
    cat >"$TMP/compose.env" <<EOF
DB_PASSWORD=check-db-password
MARIADB_ROOT_PASSWORD=check-root-password
GRAFANA_ADMIN_PASSWORD=check-grafana-password
METRICS_TOKEN=check-metrics-token
SLIMY_SERVER_NAME=slimy.example.com
TLS_DIR=$TMP/tls
SLIMY_ENV_FILE=$TMP/slimy.env
EOF
    local out
    # Keep compose from reading the developer's environment for these names.
    if out=$(env -u DB_PASSWORD -u MARIADB_ROOT_PASSWORD -u GRAFANA_ADMIN_PASSWORD -u SLIMY_SERVER_NAME \
        -u TLS_DIR -u SLIMY_ENV_FILE -u METRICS_TOKEN \
        docker-compose -f docker-compose.yml --env-file "$TMP/compose.env" config -q 2>&1); then
        pass "compose: docker-compose.yml is valid (docker-compose config -q)"
    else
        fail "compose: docker-compose config -q failed"
        echo "$out" | detail
    fi
}

# ---- (c) promtool ---------------------------------------------------------------------------
# prometheus.yml reads the bearer token from /run/slimy/metrics_token, which only exists inside the
# container, and promtool insists the file exists: check a copy whose credentials_file points at a
# temporary file (everything else, including the rule_files it loads, as written).
check_prometheus() {
    if ! command -v promtool >/dev/null; then
        fail "prometheus: promtool not installed"
        return
    fi
    local out
    mkdir -p "$TMP/prom"
    cp deploy/prometheus/*.yml "$TMP/prom/"
    : >"$TMP/prom/metrics_token"
    sed -i "s#credentials_file: /run/slimy/metrics_token#credentials_file: $TMP/prom/metrics_token#" "$TMP/prom/prometheus.yml"
    if out=$(promtool check config "$TMP/prom/prometheus.yml" 2>&1); then
        pass "prometheus: promtool check config deploy/prometheus/prometheus.yml"
    else
        fail "prometheus: promtool check config deploy/prometheus/prometheus.yml"
        echo "$out" | detail
    fi
    if out=$(promtool check rules deploy/prometheus/alerts.yml 2>&1); then
        pass "prometheus: promtool check rules deploy/prometheus/alerts.yml ($(grep -o '[0-9]* rules found' <<<"$out"))"
    else
        fail "prometheus: promtool check rules deploy/prometheus/alerts.yml"
        echo "$out" | detail
        return
    fi
    # Some alerts fire on made-up series (promtool test rules): replica down, shared state in
    # memory_fallback, command failure ratio, jobs dropped; the quiet ones stay quiet.
    cat >"$TMP/prom/alerts_test.yml" <<'YML'
rule_files: [alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="slimy",instance="slimy-1:8080"}'
        values: '1 1 0 0 0 0 0 0'
      - series: 'up{job="slimy",instance="slimy-2:8080"}'
        values: '1x7'
      - series: 'slimy_shared_state{job="slimy",instance="slimy-2:8080",state="memory_fallback"}'
        values: '0 1x10'
      - series: 'slimy_store_up{job="slimy",instance="slimy-2:8080"}'
        values: '1x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: SlimyReplicaDown
        exp_alerts:
          - exp_labels: {severity: critical, job: slimy, instance: "slimy-1:8080"}
            exp_annotations:
              summary: "Slimy replica slimy-1:8080 is down"
              description: "Prometheus has not been able to scrape slimy-1:8080 for 1 minute (process down, or /metrics refusing the token)."
      - eval_time: 5m
        alertname: SlimyAllReplicasDown
        exp_alerts: []
      - eval_time: 5m
        alertname: SlimyStoreDown
        exp_alerts: []
      - eval_time: 7m
        alertname: SlimySharedStateInMemory
        exp_alerts:
          - exp_labels: {severity: warning, job: slimy, instance: "slimy-2:8080", state: memory_fallback}
            exp_annotations:
              summary: "Slimy on slimy-2:8080 has fallen back to in-memory shared state"
              description: "Redis is unreachable from this replica: cooldowns, dedupe, /chat history and the job queue are per replica until it comes back."
  - interval: 1m
    input_series:
      - series: 'slimy_commands_total{job="slimy",instance="a",command="chat",outcome="ok"}'
        values: '0+60x40'
      - series: 'slimy_commands_total{job="slimy",instance="a",command="chat",outcome="failed"}'
        values: '0+60x40'
      - series: 'slimy_commands_total{job="slimy",instance="a",command="snail",outcome="ok"}'
        values: '0+60x40'
      - series: 'slimy_jobs_dropped_total{job="slimy",instance="a",reason="expired"}'
        values: '0x20 1x20'
    alert_rule_test:
      - eval_time: 30m
        alertname: SlimyCommandFailureRatio
        exp_alerts:
          - exp_labels: {severity: warning, command: chat}
            exp_annotations:
              summary: "/chat fails often"
              description: "50% of /chat runs failed over the last 10 minutes."
      - eval_time: 25m
        alertname: SlimyJobsDropped
        exp_alerts:
          - exp_labels: {severity: warning, instance: a, reason: expired}
            exp_annotations:
              summary: "Slimy dropped deferred jobs on a (expired)"
              description: "Deferred jobs dropped in the last 10 minutes: 1. Those users got no reply."
YML
    if out=$(cd "$TMP/prom" && promtool test rules alerts_test.yml 2>&1); then
        pass "prometheus: alerts fire as expected on made-up series (promtool test rules)"
    else
        fail "prometheus: alerts do not fire as expected (promtool test rules)"
        echo "$out" | detail
    fi
}

# ---- (d) dashboard --------------------------------------------------------------------------
# Metric names are the identifiers of a PromQL expression that are not functions, keywords,
# label names (inside {} or by/without/on/ignoring (...)), strings, durations or numbers.
metric_names() {
    python3 - "$@" <<'PY'
import json, re, sys
import yaml

FUNCS = set("""abs absent absent_over_time avg_over_time ceil changes clamp clamp_max clamp_min
count_over_time day_of_month day_of_week day_of_year days_in_month delta deriv exp floor
histogram_count histogram_fraction histogram_quantile histogram_sum holt_winters hour idelta
increase irate label_join label_replace last_over_time ln log10 log2 max_over_time min_over_time
minute month predict_linear present_over_time quantile_over_time rate resets round scalar sgn sort
sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time time timestamp vector year
acos acosh asin asinh atan atanh cos cosh deg pi rad sin sinh tan tanh
sum min max avg group stddev stdvar count count_values bottomk topk quantile
by without on ignoring group_left group_right bool and or unless offset inf nan""".split())

def names(expr):
    e = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)  # strings
    e = re.sub(r"\$\{?\w+\}?", " ", e)                    # Grafana variables ($__rate_interval)
    e = re.sub(r"\{[^}]*\}", " ", e)                      # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                     # ranges and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    out = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        w = m.group(0)
        if w in FUNCS or w.lower() in ("inf", "nan"):
            continue
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue                                      # 1e3, 0.5 and the like
        out.add(w)
    return out

def walk(o, found, where):
    if isinstance(o, dict):
        if isinstance(o.get("expr"), str):
            found.append((where, o["expr"]))
        q = o.get("query")
        if isinstance(q, dict) and isinstance(q.get("query"), str):
            m = re.match(r"\s*label_values\((.*),\s*\w+\)\s*$", q["query"])
            if m:
                found.append((where + " (variable)", m.group(1)))
        for k, v in o.items():
            walk(v, found, o.get("title", where) if k in ("targets", "query") else where)
    elif isinstance(o, list):
        for v in o:
            walk(v, found, where)

found = []
dash = json.load(open(sys.argv[1]))
walk(dash, found, "dashboard")
for g in yaml.safe_load(open(sys.argv[2]))["groups"]:
    for r in g["rules"]:
        found.append(("alert " + r.get("alert", r.get("record", "?")), r["expr"]))
for where, expr in found:
    for n in sorted(names(expr)):
        print(f"{n}\t{where}")
print(f"#exprs\t{len(found)}")
PY
}

check_dashboard() {
    local dash=deploy/grafana/dashboards/slimy.json out
    if ! out=$(python3 -m json.tool "$dash" 2>&1 >/dev/null); then
        fail "dashboard: $dash is not valid JSON"
        echo "$out" | detail
        return
    fi
    pass "dashboard: $dash parses"
    local known listing unknown used exprs
    # shellcheck disable=SC2086
    known=$(printf '%s\n' $CATALOGUE $SCRAPE_SERIES)
    if ! listing=$(metric_names "$dash" deploy/prometheus/alerts.yml 2>&1); then
        fail "dashboard: cannot read the queries"
        echo "$listing" | detail
        return
    fi
    exprs=$(sed -n 's/^#exprs\t//p' <<<"$listing")
    listing=$(grep -v '^#' <<<"$listing")
    unknown=$(awk -F'\t' 'NR == FNR { k[$1] = 1; next } !($1 in k) { print $1 " (" $2 ")" }' \
        <(echo "$known") <(echo "$listing") | sort -u)
    used=$(cut -f1 <<<"$listing" | sort -u | grep -c '^slimy_')
    if [ -n "$unknown" ]; then
        fail "dashboard: metrics not in the catalogue"
        echo "$unknown" | detail
    else
        pass "dashboard: $exprs queries (dashboard and alerts) use $used catalogue metrics, no others"
    fi
    # PromQL syntax: each panel query becomes a recording rule (Grafana's variables replaced by
    # values) and promtool parses the file.
    python3 - "$dash" >"$TMP/dashboard_rules.yml" <<'PY'
import json, sys
exprs = []
def walk(o):
    if isinstance(o, dict):
        if isinstance(o.get("expr"), str):
            exprs.append(o["expr"])
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.load(open(sys.argv[1])))
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(exprs):
    e = e.replace("$__rate_interval", "1m").replace("$__interval", "1m").replace("$instance", ".*")
    print(f"      - record: dashboard_query_{i}\n        expr: {json.dumps(e)}")
PY
    if out=$(promtool check rules "$TMP/dashboard_rules.yml" 2>&1); then
        pass "dashboard: every panel query parses as PromQL (promtool)"
    else
        fail "dashboard: a panel query is not valid PromQL"
        echo "$out" | grep -v '^Checking' | detail
    fi
}

check_ldd
check_compose
check_prometheus
check_dashboard

if [ "$failed" -ne 0 ]; then
    echo "deployment checks FAILED"
    exit 1
fi
echo "deployment checks passed"
