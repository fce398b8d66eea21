# cases_http.sh — the HTTP layer under abuse: refusing unsigned requests at the headers, the body
# budget, request timeouts, the connection limit, strict parsing, pipelining. Sourced by run.sh.
