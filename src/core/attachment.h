/* attachment.h — downloading a file a user gave us (a Discord attachment URL) on the shared
 * outbound engine (fetch.h), without letting that URL point Slimy anywhere else.
 *
 * The URL is parsed with curl's URL API (never by hand) and allowed only when its host is listed
 * in ATTACHMENT_HOSTS (a comma list, see config.h):
 *   - a bare entry, "cdn.discordapp.com", allows https to that host on port 443;
 *   - an entry with a scheme, "http://127.0.0.1:8080", allows exactly that scheme, host and port
 *     (plain http is for tests against a local server; the default port applies when none is given).
 * Hosts compare case-insensitively; URLs with a user name or password are refused. Anything else
 * is refused with SLIMY_EPERM before any request is made. The transfer then runs with:
 *   - only the allowed scheme enabled (CURLOPT_PROTOCOLS_STR and REDIR_PROTOCOLS_STR), and no
 *     redirects followed: a 3xx is a failure, so a redirect cannot leave the allowlist;
 *   - a size cap: an announced Content-Length over it is refused before the body is read, and the
 *     transfer is aborted as soon as the received bytes pass it (SLIMY_ETOOBIG);
 *   - no content decoding (the bytes are the file as sent, so the cap is the real size);
 *   - a connect timeout and a total timeout that both end by the caller's deadline.
 * There are no retries: the user can try again, and signed CDN URLs expire anyway.
 *
 * Threading: attachment_download_start() may be called from any thread; the callback runs exactly
 * once on the engine thread, or never if the start call returned an error (libuv's rule). The
 * callback must not block: park the result and resume elsewhere (cmd_continue()). */
#ifndef SLIMY_CORE_ATTACHMENT_H
#define SLIMY_CORE_ATTACHMENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/fetch.h"

#define ATTACHMENT_MAX_BYTES ((size_t)10 * 1024 * 1024) /* the default size cap: 10 MiB */

struct attachment_request {
    const char *url;            /* the file to download; borrowed for the start call */
    const char *allowed_hosts;  /* the ATTACHMENT_HOSTS comma list; borrowed for the start call */
    size_t max_bytes;           /* size cap in bytes; 0 = ATTACHMENT_MAX_BYTES */
    uint64_t deadline_mono_ms;  /* the transfer is cut off at this monotonic time */
    const char *interaction_id; /* for log lines; may be NULL */
};

/* The outcome of a download, on the engine thread. status is SLIMY_OK; SLIMY_ETOOBIG (over the
 * cap); SLIMY_ENOTFOUND (404 or 410: an expired or deleted attachment); SLIMY_EUPSTREAM (any other
 * non-2xx status, a redirect included); SLIMY_ETIMEOUT; SLIMY_EUNAVAILABLE (the host could not be
 * reached, or the engine stopped accepting work); SLIMY_ENOMEM.
 * bytes: on SLIMY_OK the body, len bytes (len may be 0, then bytes is still a valid pointer);
 * NULL otherwise. Ownership passes to the callee: free it with free().
 * content_type: the response's Content-Type header, or NULL when absent or on failure; borrowed,
 * valid only during the call (copy it to keep it). */
typedef void (*attachment_done_fn)(int status, unsigned char *bytes, size_t len, const char *content_type, void *arg);

/* Checks req->url against req->allowed_hosts and, when allowed, starts the download on engine.
 * Returns SLIMY_OK (done will run exactly once), or, with no request made and done never run:
 * SLIMY_EPERM (the URL is not allowed, or is not a URL at all), SLIMY_ETIMEOUT (the deadline has
 * already passed), SLIMY_EUNAVAILABLE (the engine is stopping) or SLIMY_ENOMEM. */
int attachment_download_start(struct fetch *engine, const struct attachment_request *req, attachment_done_fn done,
                              void *arg);

#endif
