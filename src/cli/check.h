/* check.h — `slimy check`: a pre-flight check of a deployment, one line per check.
 * Each line is PASS, WARN or FAIL and a short text (the word coloured green, yellow or red only
 * when stdout is a terminal and NO_COLOR is unset); the exit status is 1 when any check FAILs, 0
 * otherwise. The checks, in order: the configuration (the same .env loading as serve), the
 * Discord keys serve and register need, the store (reachable, migrations applied), Redis when
 * REDIS_URL is set, the OpenAI-compatible server when AI is configured, the mode of the .env
 * file, and that no secret file is tracked by git. No secret value is ever printed: URLs are
 * shown without their credentials, query or fragment. Blocking; for the main thread of the CLI. */
#ifndef SLIMY_CLI_CHECK_H
#define SLIMY_CLI_CHECK_H

#include <stdbool.h>
#include <stddef.h>

enum check_result {
    CHECK_PASS,
    CHECK_WARN,
    CHECK_FAIL,
};

/* `slimy check [--help]` with the arguments after "check"; returns the exit status (2 for a
 * usage error). */
int check_main(int argc, char **argv);

/* Formats one output line (with its newline) into out: "PASS  database     text". With colour the
 * result word is wrapped in an ANSI colour. Returns what snprintf returns. Pure. */
int check_format_line(char *out, size_t cap, enum check_result result, const char *name, const char *text, bool colour);

/* Writes url without user, password, query or fragment ("https://host:8443/v1") into out, for
 * messages; "(invalid URL)" when it does not parse. */
void check_redact_url(const char *url, char *out, size_t cap);

#endif
