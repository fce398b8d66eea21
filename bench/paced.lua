-- paced.lua — admit.lua at a modest rate, for bench/perf.sh's latency probe while the server is
-- busy with something else: each connection waits PACE_MS (environment, default 5) between two
-- requests. Same arguments, classification and RESULT line as admit.lua.
--   wrk ... -s bench/paced.lua URL -- BODIES SHARE THREADS MARKER
-- wrk looks for delay() in the script's top level, so it is defined here and not in init().

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "admit.lua")

local pace = tonumber(os.getenv("PACE_MS") or "5")

function delay()
    return pace
end
