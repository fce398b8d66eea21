# cases_mariadb_outage.sh — MariaDB stopped in the middle of a run: the user gets a clear
# message, PINGs keep working, /ready turns 503, and writes work again once it is back.

# ready_is CODE: /ready answers CODE now (sets READY_CODE, READY_BODY; for wait_until).
ready_is() { ready_state; [ "$READY_CODE" = "$1" ]; }

case_mariadb_down_then_back() {
    local USER_ID=711
    run_deferred consent '[{"name":"set","type":1,"options":[{"name":"allow","type":5,"value":true}]}]'
    assert_eq "$CONTENT" "✅ Memory ON for this server." "before the outage"
    "$ROOT/tests/tools/mariadb.sh" stop "$WORK/mariadb" >/dev/null || fail "could not stop MariaDB"
    run_deferred consent '[{"name":"status","type":1}]'
    assert_contains "$CONTENT" "database" "friendly error mentions the database"
    post_signed '{"type":1}'
    assert_eq "$BODY" '{"type":1}' "PING still answered"
    wait_until 4 ready_is 503
    assert_eq "$READY_CODE" 503 "/ready while the database is down"
    "$ROOT/tests/tools/mariadb.sh" start "$WORK/mariadb" "$DB_PORT" >/dev/null || fail "could not restart MariaDB"
    wait_until 6 ready_is 200
    assert_eq "$READY_CODE" 200 "/ready after the database is back"
    run_deferred consent '[{"name":"status","type":1}]'
    assert_eq "$CONTENT" "✅ Memory ON here." "reads work again"
    run_deferred remember '[{"name":"note","type":3,"value":"after the outage"}]'
    assert_eq "$(json_get "$REPLY" 'd["json"]["embeds"][0]["title"]')" "📝 Memory Saved" "writes work again"
}
