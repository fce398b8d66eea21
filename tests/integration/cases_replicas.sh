# cases_replicas.sh — two replicas (A and B) sharing one Redis: cooldowns and interaction dedupe
# hold across replicas under concurrency, /chat history follows the user from one replica to the
# other, a job left behind by a replica killed with -9 is delivered once by the other, and a Redis
# outage degrades to per-replica state and recovers by itself. run.sh starts Redis and the replicas
# (REDIS_URL, a per-run REDIS_KEY_PREFIX, JOB_CLAIM_IDLE_MS=2000) and runs these cases in order,
# each after replicas_ready (both replicas running, Redis up); each case has its own USER_IDs so
# that cooldowns and histories never cross cases, and looks only at its own tokens' requests.

chat_options() { printf '[{"name":"message","type":3,"value":"%s"}%s]' "$1" "${2:+,$2}"; }
last_chat_messages() { # the (role, content) pairs after the system prompt of the last chat request
    json_get "$(ai_requests '?path_contains=chat/completions')" '[(m["role"], m["content"]) for m in d[-1]["json"]["messages"][1:]]'
}
# log_lines_with NAME TEXT: the lines of replica NAME's log containing TEXT (and, when given, TEXT2,
# case-insensitive).
log_lines_with() { grep -F -- "$2" "$(replica_log "$1")" | grep -i -- "${3:-}"; }
# wait_redis_state STATE SECONDS NAME...: waits until /ready of every replica NAME answers 200 with
# "redis":"STATE". Sets READY_NOT_200 to the answers other than 200 seen meanwhile.
wait_redis_state() {
    local state=$1 seconds=$2
    shift 2
    READY_NOT_200=
    wait_until "$seconds" redis_state_is "$state" "$@" && return 0
    fail "/ready did not report redis $state on $* within ${seconds}s (last: $READY_CODE $READY_BODY)"
    return 1
}
# redis_state_is STATE NAME...: /ready of every replica NAME answers 200 with "redis":"STATE" now;
# adds the answers other than 200 to READY_NOT_200.
redis_state_is() {
    local state=$1 name all=0
    shift
    for name in "$@"; do
        on_replica "$name" ready_state
        [ "$READY_CODE" = 200 ] || READY_NOT_200+=" $name:$READY_CODE"
        [ "$READY_CODE" = 200 ] && [ "$READY_REDIS" = "$state" ] || all=1
    done
    return $all
}
# replicas_ready: run.sh's BEFORE_CASE here: whatever an earlier case did (a replica killed, Redis
# stopped), both replicas run and share an up Redis before the next case starts.
replicas_ready() {
    local name
    for name in A B; do
        [ -n "$(replica_pid "$name")" ] || start_replica "$name" || fail "replica $name did not start"
    done
    redis_state_is up A B && return 0
    "$ROOT/tests/tools/redis.sh" start "$WORK/redis" "$REDIS_PORT" >/dev/null 2>&1 # if it was stopped
    wait_redis_state up 10 A B
}
# burst_counts(dir), in the JSON helper: "DEFERRED SLOW INDEXES OTHERS" for the 20 answers of the
# burst in DIR (I.out and I.out.code): how many were deferred ({"type":5}), how many an ephemeral
# "Slow down", the indexes of the deferred ones ("-": none) and the other answers ("-": none).
json_def <<'PY'
def burst_counts(dir):
    deferred, slow, other = [], 0, []
    for i in range(20):
        code = open(f"{dir}/{i}.out.code").read().strip()
        body = open(f"{dir}/{i}.out").read()
        try:
            d = json.loads(body)
        except ValueError:
            d = None
        if code == "200" and d == {"type": 5}:
            deferred.append(i)
        elif code == "200" and isinstance(d, dict) and d.get("type") == 4 and d.get("data", {}).get("flags") == 64 \
                and "Slow down" in d.get("data", {}).get("content", ""):
            slow += 1
        else:
            other.append(f"#{i}: {code} {body[:200]}")
    return "%d %d %s %s" % (len(deferred), slow, ",".join(map(str, deferred)) or "-", " | ".join(other) or "-")
PY

case_ready_reports_redis_state() {
    local name port pid
    for name in A B; do
        on_replica "$name" ready_state
        assert_eq "$READY_CODE" 200 "/ready of $name"
        assert_eq "$READY_REDIS" up "redis state of $name ($READY_BODY)"
    done
    # Without REDIS_URL: "disabled".
    port=$(free_port)
    spawn_slimy "$port" "$WORK/no-redis.log" "$WORK/logs-no-redis" "$WORK/data-no-redis" SQLITE_PATH="$WORK/no-redis.db"
    pid=$SPAWNED_PID
    if wait_http "http://127.0.0.1:$port/health" 10; then
        SLIMY_URL="http://127.0.0.1:$port" ready_state
        assert_eq "$READY_CODE" 200 "/ready without REDIS_URL"
        assert_eq "$READY_REDIS" disabled "redis state without REDIS_URL ($READY_BODY)"
    else
        fail "server without REDIS_URL did not start: $(tail -n 5 "$WORK/no-redis.log")"
    fi
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# 20 simultaneous /chat of one user, 10 on each replica: one is admitted, 19 are told to slow
# down, and exactly one OpenAI call and one reply follow.
case_cooldown_is_shared_under_concurrency() {
    local USER_ID=9101 dir="$WORK/burst" i tokens=() counts admitted
    rm -rf "$dir" && mkdir -p "$dir"
    for i in $(seq 0 19); do
        command_json chat "$(chat_options "burst $i")"
        tokens+=("$INTERACTION_TOKEN")
        sign_to "$dir/$i" "$CMD"
    done
    for i in $(seq 0 19); do # signed first, then fired together
        post_async "$(replica_url "$([ $((i % 2)) = 0 ] && echo A || echo B)")" "$dir/$i" "$dir/$i.out"
    done
    wait_async
    # "deferred slow_down other" counts, and the index of the deferred one(s)
    counts=$(json_get '' 'burst_counts(argv[0])' "$dir")
    read -r n_deferred n_slow admitted others <<<"$counts"
    assert_eq "$n_deferred" 1 "answers {\"type\":5} (deferred #$admitted)"
    assert_eq "$n_slow" 19 "ephemeral \"Slow down\" answers"
    assert_eq "$others" - "other answers"
    both_any() { fake_count_tokens '' "${tokens[@]}"; }
    wait_count both_any "requests for the 20 tokens" 1 || return
    # Proving a second reply does NOT come needs a window: one would have arrived within 1.5 s.
    sleep 1.5
    assert_eq "$(fake_count_tokens '' "${tokens[@]}")" 1 "requests to Discord for the 20 tokens"
    assert_eq "$(ai_count '?path_contains=chat/completions')" 1 "OpenAI chat calls"
    if [ "$n_deferred" = 1 ]; then
        assert_eq "$(fake_count "?method=PATCH&path_contains=${tokens[$admitted]}")" 1 "the reply went to the admitted interaction"
        assert_contains "$(json_get "$(fake_requests "?path_contains=${tokens[$admitted]}")" 'd[0]["json"]["content"]')" \
            "fake reply #1 to: burst $admitted" "reply content"
    fi
}

# A conversation started on A continues on B; a reset on A is seen by B.
case_chat_history_follows_the_user() {
    local USER_ID=9102
    on_replica A run_deferred chat "$(chat_options hello)"
    assert_contains "$CONTENT" "fake reply #1 to: hello" "first reply (on A)"
    sleep 5.1 # part of the test: the same user (the history is theirs) past the 5 s /chat cooldown
    on_replica B run_deferred chat "$(chat_options again)"
    assert_contains "$CONTENT" "fake reply #2 to: again" "second reply (on B)"
    assert_eq "$(last_chat_messages)" "[('user', 'hello'), ('assistant', 'fake reply #1 to: hello'), ('user', 'again')]" \
        "history from A sent by B"
    sleep 5.1 # again past the cooldown
    on_replica A run_deferred chat "$(chat_options "fresh start" '{"name":"reset","type":5,"value":true}')"
    assert_eq "$(last_chat_messages)" "[('user', 'fresh start')]" "reset on A: system + user only"
    sleep 5.1 # again past the cooldown
    on_replica B run_deferred chat "$(chat_options "after reset")"
    assert_eq "$(last_chat_messages)" \
        "[('user', 'fresh start'), ('assistant', 'fake reply #3 to: fresh start'), ('user', 'after reset')]" \
        "B sees the history as reset by A"
}

# dedupe_one ANSWER NAME [OPTIONS]: one signed interaction POSTed to A and B at once, then 3 more
# times to A: the deferred ANSWER every time, one reply, and the replicas log the duplicates.
dedupe_one() {
    local expected=$1 f="$WORK/dup-$2" i answers=() codes=() first
    shift
    command_json "$@"
    sign_to "$f" "$CMD"
    post_async "$REPLICA_URL_A" "$f" "$f.A"
    post_async "$REPLICA_URL_B" "$f" "$f.B"
    wait_async
    for i in 1 2 3; do
        post_async "$REPLICA_URL_A" "$f" "$f.$i"
        wait_async
    done
    for i in A B 1 2 3; do
        answers+=("$(cat "$f.$i")")
        codes+=("$(cat "$f.$i.code")")
    done
    first=${answers[0]}
    assert_eq "$first" "$expected" "/$1: first answer"
    assert_eq "${codes[*]}" "200 200 200 200 200" "/$1: HTTP statuses (A B A A A)"
    assert_eq "$(printf '%s\n' "${answers[@]}" | sort -u)" "$first" "/$1: every answer is the same (A B A A A: ${answers[*]})"
    wait_requests 1 "?path_contains=$INTERACTION_TOKEN" || return
    # Proving a second reply does NOT come needs a window: one would have arrived within 2 s.
    sleep 2
    assert_eq "$(fake_count "?path_contains=$INTERACTION_TOKEN")" 1 "/$1: requests to Discord for the token"
    assert_eq "$(fake_count "?method=PATCH&path_contains=$INTERACTION_TOKEN")" 1 "/$1: one PATCH"
    local logged
    logged=$( (log_lines_with A "$INTERACTION_ID" duplicate; log_lines_with B "$INTERACTION_ID" duplicate) | wc -l)
    assert_eq "$((logged >= 1))" 1 "/$1: the replicas log a duplicate of $INTERACTION_ID"
}

case_duplicate_interactions_run_once() {
    local USER_ID=9103
    dedupe_one '{"type":5}' chat "$(chat_options "only once")"
    assert_eq "$(ai_count '?path_contains=chat/completions')" 1 "/chat: OpenAI chat calls"
    dedupe_one '{"type":5,"data":{"flags":64}}' diag
}

# The replica running a job dies (-9) while waiting on OpenAI; the other takes the job over after
# JOB_CLAIM_IDLE_MS and delivers it once.
# Which replica's worker takes a job from the stream is not up to the test, and nothing outside
# the process tells which one holds it. So B is stopped (SIGTERM, holding nothing) while the job is
# queued on A, which makes A run it; B is started again while A is waiting on the (delayed) OpenAI
# answer, so B reads only new entries and A's job is still pending under A; then A is killed -9.
case_job_of_a_killed_replica_is_taken_over() {
    local USER_ID=9104 started elapsed_ms rc=0
    kill_replica B TERM || fail "B's exit status on SIGTERM: $?"
    ai_script '{"path_contains":"chat/completions","responses":[{"delay_ms":8000}]}'
    command_json chat "$(chat_options "survive a crash")"
    on_replica A post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "deferred by A"
    if ai_wait_requests 1 '?path_contains=chat/completions' 5; then
        start_replica B || fail "B did not restart"
        kill_replica A KILL || rc=$?
        started=$(date +%s%N)
        assert_eq "$rc" 137 "A killed with -9"
        assert_eq "$(fake_count "?path_contains=$INTERACTION_TOKEN")" 0 "no reply before the kill"
        if wait_requests 1 "?path_contains=$INTERACTION_TOKEN" 20; then
            elapsed_ms=$((($(date +%s%N) - started) / 1000000))
            assert_eq "$((elapsed_ms <= 15000))" 1 "delivered within 15 s of the kill (took ${elapsed_ms} ms)"
            # Proving a second delivery does NOT come needs a window: one would have arrived within 2 s.
            sleep 2
            assert_eq "$(fake_count "?path_contains=$INTERACTION_TOKEN")" 1 "requests to Discord for the token"
            assert_eq "$(fake_count "?method=PATCH&path_contains=$INTERACTION_TOKEN")" 1 "one PATCH"
            assert_contains "$(json_get "$(fake_requests "?path_contains=$INTERACTION_TOKEN")" 'd[0]["json"]["content"]')" \
                "fake reply #2 to: survive a crash" "B ran the job again"
            assert_eq "$(ai_count '?path_contains=chat/completions')" 2 "OpenAI chat calls (A's, cut by the kill, then B's)"
            assert_eq "$(log_lines_with B "$INTERACTION_ID" | wc -l | awk '{print ($1 >= 1)}')" 1 "B's log mentions the job"
        fi
    fi
    # Both replicas for the cases that follow.
    [ -n "$(replica_pid A)" ] || start_replica A || fail "A did not restart"
    [ -n "$(replica_pid B)" ] || start_replica B || fail "B did not restart"
    wait_redis_state up 10 A B
}

# Redis stops under both replicas: they keep serving with per-replica state and /ready stays 200
# ("redis":"down"); when it is back they return to it by themselves.
case_redis_outage_degrades_and_recovers() {
    local name t0 t1 tok_a
    "$ROOT/tests/tools/redis.sh" stop "$WORK/redis" >/dev/null || fail "could not stop Redis"
    for name in A B; do
        on_replica "$name" post_signed '{"type":1}'
        assert_eq "$BODY" '{"type":1}' "PING on $name while Redis is down"
    done
    # Cooldowns are local meanwhile: one user, once on each replica within the 5 s cooldown.
    t0=$(date +%s%N)
    USER_ID=9105 on_replica A run_deferred chat "$(chat_options "down on A")"
    assert_contains "$CONTENT" "to: down on A" "/chat on A delivered while Redis is down"
    USER_ID=9105 on_replica B run_deferred chat "$(chat_options "down on B")"
    t1=$(date +%s%N)
    assert_contains "$CONTENT" "to: down on B" "/chat on B deferred and delivered (local cooldowns)"
    assert_eq "$(((t1 - t0) / 1000000 < 5000))" 1 "both within the cooldown"
    wait_redis_state down 5 A B
    assert_eq "${READY_NOT_200:-none}" none "/ready answers other than 200 during the outage"
    "$ROOT/tests/tools/redis.sh" start "$WORK/redis" "$REDIS_PORT" >/dev/null || { fail "could not restart Redis"; return; }
    t0=$(date +%s%N)
    wait_redis_state up 10 A B || return
    echo "    (redis up again on both after $((($(date +%s%N) - t0) / 1000000)) ms)"
    # Shared cooldowns again: A admits, B (right after) refuses.
    USER_ID=9106 command_json chat "$(chat_options "back on A")"
    tok_a=$INTERACTION_TOKEN
    on_replica A post_signed "$CMD"
    assert_eq "$BODY" '{"type":5}' "A after recovery"
    USER_ID=9106 command_json chat "$(chat_options "back on B")"
    on_replica B post_signed "$CMD"
    assert_eq "$(json_get "$BODY" 'd["type"]')" 4 "B right after A: answered at once ($BODY)"
    assert_contains "$(json_get "$BODY" 'd["data"]["content"]')" "Slow down" "B right after A: cooldown shared again"
    wait_requests 1 "?path_contains=$tok_a" || return
    assert_contains "$(json_get "$(fake_requests "?path_contains=$tok_a")" 'd[0]["json"]["content"]')" "to: back on A" \
        "/chat after recovery delivered"
    # Proving B's refused /chat sends nothing needs a window: a reply would have arrived within 1 s.
    sleep 1
    assert_eq "$(fake_count_tokens '' "$tok_a" "$INTERACTION_TOKEN")" 1 "requests to Discord for the two tokens"
}
