/* status.c — text for each enum slimy_status; a unit test checks every code has one. */
#include "core/status.h"

static const char *const status_text[SLIMY_STATUS_COUNT] = {
    [SLIMY_OK] = "ok",
    [SLIMY_EINVAL] = "invalid input",
    [SLIMY_ENOTFOUND] = "not found",
    [SLIMY_ECONFLICT] = "conflict",
    [SLIMY_ELIMITED] = "rate limited",
    [SLIMY_EUNAVAILABLE] = "dependency unavailable",
    [SLIMY_ETIMEOUT] = "timed out",
    [SLIMY_EUPSTREAM] = "upstream refused the request",
    [SLIMY_ETOOBIG] = "too large",
    [SLIMY_EPERM] = "permission denied",
    [SLIMY_ENOMEM] = "out of memory",
    [SLIMY_EINTERNAL] = "internal error",
};

const char *slimy_strerror(int rc)
{
    if (rc < 0 || rc >= SLIMY_STATUS_COUNT || !status_text[rc])
        return "unknown status";
    return status_text[rc];
}
