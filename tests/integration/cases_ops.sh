# cases_ops.sh — operating a replica: critical errors alerted to ERROR_WEBHOOK_URL (at most one
# per kind a minute), SIGHUP reopening the log files. Sourced by run.sh.
