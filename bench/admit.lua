-- admit.lua — wrk script for bench/admit.sh.
--   wrk ... -s bench/admit.lua URL -- BODIES SHARE THREADS MARKER
-- BODIES holds pre-signed requests, one a line: "<signature hex>\t<timestamp>\t<body>" (written by
-- bench/gen_bodies). With SHARE=N (N = wrk's -t), thread k reads BODIES.k (admit.sh splits the
-- file), so no two threads send the same body; with SHARE=1 every thread reads BODIES (PING).
-- Each thread cycles through its lines; a body sent again counts in "reused" (a command body sent
-- twice would be answered by Slimy's dedupe, not admitted anew, so reused must stay 0 there).
--
-- wrk runs init() of each thread just before starting that thread, one thread after the other,
-- and starts its clock after the last one: with big files the first threads would send (and
-- count) requests before the clock starts. So each init() appends a line to MARKER when done, and
-- every thread's first request() waits until THREADS lines are there (admit.sh also waits for
-- them before sampling CPU counters). wrk's one check call of request() is not counted.
--
-- Answers are classified in response(): "acks" are 200 {"type":5,...,"flags":64} (a deferred,
-- ephemeral acknowledgement), "pongs" 200 {"type":1}, "imm" 200 {"type":4,...} (an immediate
-- message), "unauth" 401 (a refused signature: the expected answer to a badly signed body, which
-- bench/perf.sh sends on purpose), "other" anything else (the first one is kept).
-- done() prints one line starting with RESULT (key=value pairs) for admit.sh to parse.

local threads = {}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

-- Per-thread state (globals of each thread's Lua state, so done() can read them with thread:get).
local reqs, pos = {}, 0
bodies, sent, acks, pongs, imm, unauth, other, first_other = 0, 0, 0, 0, 0, 0, 0, ""

local marker, nthreads, started, verified = nil, 1, false, false

local function marker_lines()
    local f = io.open(marker, "r")
    if not f then
        return 0
    end
    local n = 0
    for _ in f:lines() do
        n = n + 1
    end
    f:close()
    return n
end

function init(args)
    local file, share = args[1], tonumber(args[2])
    nthreads, marker = tonumber(args[3]), args[4]
    verified = id ~= 0
    if share > 1 then
        file = file .. "." .. (id % share)
    end
    local line_no = 0
    for line in io.lines(file) do
        local sig, ts, body = line:match("^(%x+)\t(%d+)\t(.*)$")
        if not sig then
            error("bad line " .. line_no .. " in " .. file)
        end
        bodies = bodies + 1
        reqs[bodies] = wrk.format("POST", "/interactions", {
            ["Content-Type"] = "application/json",
            ["X-Signature-Ed25519"] = sig,
            ["X-Signature-Timestamp"] = ts,
        }, body)
        line_no = line_no + 1
    end
    if bodies == 0 then
        error("no bodies for thread " .. id .. " in " .. file)
    end
    local f = assert(io.open(marker, "a"))
    f:write(id, "\n")
    f:close()
end

function request()
    if not verified then
        -- wrk calls request() once on the first thread, in its main thread, right after that
        -- thread's init, to check the request; that one is never sent (and must not wait).
        verified = true
        return reqs[1]
    end
    if not started then
        while marker_lines() < nthreads do
            os.execute("sleep 0.01")
        end
        started = true
    end
    pos = pos + 1
    if pos > bodies then
        pos = 1
    end
    sent = sent + 1
    return reqs[pos]
end

function response(status, headers, body)
    if status == 200 and body:sub(1, 9) == '{"type":5' and body:find('"flags":64', 1, true) then
        acks = acks + 1
    elseif status == 200 and body == '{"type":1}' then
        pongs = pongs + 1
    elseif status == 200 and body:sub(1, 9) == '{"type":4' then
        imm = imm + 1
    elseif status == 401 then
        unauth = unauth + 1
    else
        other = other + 1
        if first_other == "" then
            first_other = status .. " " .. body:sub(1, 200):gsub("%s", " ")
        end
    end
end

function done(summary, latency, requests)
    local t = { bodies = 0, sent = 0, acks = 0, pongs = 0, imm = 0, unauth = 0, other = 0, reused = 0 }
    local first = ""
    for _, th in ipairs(threads) do
        local b, s = th:get("bodies"), th:get("sent")
        t.bodies = t.bodies + b
        t.sent = t.sent + s
        if s > b then
            t.reused = t.reused + (s - b)
        end
        t.acks = t.acks + th:get("acks")
        t.pongs = t.pongs + th:get("pongs")
        t.imm = t.imm + th:get("imm")
        t.unauth = t.unauth + th:get("unauth")
        t.other = t.other + th:get("other")
        local f = th:get("first_other")
        if first == "" and f ~= "" then
            first = f
        end
    end
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
        "non2xx=%d errors=%d acks=%d pongs=%d imm=%d unauth=%d other=%d bodies=%d sent=%d reused=%d\n",
        summary.requests, summary.duration, summary.requests / summary.duration * 1e6,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
        e.status, e.connect + e.read + e.write + e.timeout,
        t.acks, t.pongs, t.imm, t.unauth, t.other, t.bodies, t.sent, t.reused))
    if first ~= "" then
        io.write("FIRST_OTHER " .. first .. "\n")
    end
end
