# cases_mariadb_outage.sh — MariaDB stopped in the middle of a run: the user gets a clear
# message, PINGs keep working, /ready turns 503, and writes work again once it is back.

case_mariadb_down_then_back() {
    local USER_ID=701
    run_deferred consent '[{"name":"set","type":1,"options":[{"name":"allow","type":5,"value":true}]}]'
    assert_eq "$CONTENT" "✅ Memory ON for this server." "before the outage"
    "$ROOT/tests/tools/mariadb.sh" stop "$WORK/mariadb" >/dev/null || fail "could not stop MariaDB"
    run_deferred consent '[{"name":"status","type":1}]'
    assert_contains "$CONTENT" "database" "friendly error mentions the database"
    post_signed '{"type":1}'
    assert_eq "$BODY" '{"type":1}' "PING still answered"
    local i code=
    for i in $(seq 1 40); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$SLIMY_URL/ready")
        [ "$code" = 503 ] && break
        sleep 0.1
    done
    assert_eq "$code" 503 "/ready while the database is down"
    "$ROOT/tests/tools/mariadb.sh" start "$WORK/mariadb" "$DB_PORT" >/dev/null || fail "could not restart MariaDB"
    for i in $(seq 1 60); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$SLIMY_URL/ready")
        [ "$code" = 200 ] && break
        sleep 0.1
    done
    assert_eq "$code" 200 "/ready after the database is back"
    run_deferred consent '[{"name":"status","type":1}]'
    assert_eq "$CONTENT" "✅ Memory ON here." "reads work again"
    run_deferred remember '[{"name":"note","type":3,"value":"after the outage"}]'
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "📝 Memory Saved" "writes work again"
}
