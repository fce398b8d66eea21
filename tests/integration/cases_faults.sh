# cases_faults.sh — faults in what Slimy depends on (Discord 429 storms, 5xx and 404s, a hanging or
# garbled OpenAI, an unwritable log directory, a full disk): the server stays up, users get an
# answer or a clear error, nothing acknowledged is lost. Sourced by run.sh.
