/* status.h — the one status type every fallible Slimy function returns.
 * Codes say what the caller can do, not where the error came from (curl's CURLcode).
 * Thread-safe: slimy_strerror() returns static strings. */
#ifndef SLIMY_CORE_STATUS_H
#define SLIMY_CORE_STATUS_H

enum slimy_status {
    SLIMY_OK = 0,
    SLIMY_EINVAL,       /* bad input: tell the user what to fix */
    SLIMY_ENOTFOUND,    /* the thing asked for does not exist */
    SLIMY_ECONFLICT,    /* already exists / already done */
    SLIMY_ELIMITED,     /* cooldown or 429: wait and try again */
    SLIMY_EUNAVAILABLE, /* a dependency is down: retry or fall back */
    SLIMY_ETIMEOUT,     /* a deadline passed */
    SLIMY_EUPSTREAM,    /* a dependency answered with a refusal */
    SLIMY_ETOOBIG,      /* over a size cap */
    SLIMY_EPERM,        /* the caller lacks a permission */
    SLIMY_ENOMEM,       /* allocation failed */
    SLIMY_EINTERNAL,    /* a bug: an invariant did not hold */
    SLIMY_STATUS_COUNT  /* number of codes; keep last */
};

/* Returns a short static English description of rc ("bad input", ...). */
const char *slimy_strerror(int rc);

#endif
