# cases_metrics.sh — GET /metrics (Prometheus text) and /metrics.json: the exposition lints clean
# with promtool, counters move with traffic, METRICS_TOKEN guards both. Sourced by run.sh.
