/* discord_register.c — the blocking command registration behind `slimy register`; see
 * discord_register.h. One PUT with curl_easy_perform(): the CLI has nothing else to do meanwhile,
 * and a failure is reported to the operator rather than retried. */
#include "interactions/discord_register.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "core/buf.h"
#include "core/fetch.h"
#include "core/fetch_http.h"
#include "core/status.h"
#include "core/utf8.h"
#include "interactions/discord_rest.h"

#define RESPONSE_MAX_BYTES (1024 * 1024) /* the echoed commands; ours are a few dozen kilobytes */
#define REQUEST_TIMEOUT_MS 30000L

/* One line for the operator from Discord's answer; returns the status for it. */
static int explain(const struct fetch_response *resp, size_t *n_registered, char *err, size_t err_len)
{
    long status = resp->http_status;
    cJSON *body = cJSON_ParseWithLength(fetch_response_text(resp), resp->body.len);
    int rc;
    if (status >= 200 && status < 300) {
        *n_registered = cJSON_IsArray(body) ? (size_t)cJSON_GetArraySize(body) : 0;
        rc = SLIMY_OK;
    } else if (status == 401) {
        snprintf(err, err_len, "Discord answered 401 Unauthorized: DISCORD_TOKEN is wrong or was reset");
        rc = SLIMY_EPERM;
    } else if (status == 429) {
        const cJSON *ra = cJSON_GetObjectItemCaseSensitive(body, "retry_after");
        /* A finite, bounded number only: the body is Discord's, or whatever answers in its place. */
        int64_t wait_ms = cJSON_IsNumber(ra) ? fetch_wait_ms(ra->valuedouble, 1000.0) : resp->retry_after_ms;
        if (wait_ms >= 0)
            snprintf(err, err_len, "Discord answered 429 Too Many Requests: try again in %.1f s",
                     (double)wait_ms / 1000.0);
        else
            snprintf(err, err_len, "Discord answered 429 Too Many Requests: try again later");
        rc = SLIMY_ELIMITED;
    } else {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "message");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(body, "code");
        char message[300];
        const char *text = cJSON_IsString(m) ? m->valuestring : "no message";
        utf8_copy_clean(message, sizeof message, text, strlen(text)); /* shown as is: valid and short */
        double code_value = cJSON_IsNumber(code) ? code->valuedouble : 0;
        snprintf(err, err_len, "Discord answered %ld: %s (code %.0f)", status, message,
                 isfinite(code_value) && fabs(code_value) < 1e15 ? code_value : 0.0);
        rc = status == 403 ? SLIMY_EPERM : SLIMY_EUPSTREAM;
    }
    cJSON_Delete(body);
    return rc;
}

int discord_commands_register(const struct slimy_config *cfg, const char *guild_id, const char *commands_json,
                              size_t *n_registered, char *err, size_t err_len)
{
    if (err_len)
        err[0] = '\0';
    if (!cfg->bot_token) {
        snprintf(err, err_len, "DISCORD_TOKEN is not set: registering commands needs the bot token");
        return SLIMY_EINVAL;
    }
    if (!cfg->application_id[0]) {
        snprintf(err, err_len, "DISCORD_APPLICATION_ID is not set: registering commands needs the application id");
        return SLIMY_EINVAL;
    }
    fetch_global_init();
    char url[1024];
    if (guild_id && *guild_id)
        snprintf(url, sizeof url, "%s/applications/%s/guilds/%s/commands", cfg->api_base, cfg->application_id,
                 guild_id);
    else
        snprintf(url, sizeof url, "%s/applications/%s/commands", cfg->api_base, cfg->application_id);

    struct buf auth;
    buf_init(&auth, 1024);
    struct fetch_response resp;
    fetch_response_init(&resp, RESPONSE_MAX_BYTES, true);
    CURL *easy = curl_easy_init();
    struct curl_slist *headers = NULL, *more;
    int rc = SLIMY_ENOMEM;
    if (!easy || buf_printf(&auth, "Authorization: Bot %s", cfg->bot_token) ||
        !(headers = curl_slist_append(NULL, auth.data)) ||
        !(more = curl_slist_append(headers, "Content-Type: application/json")))
        goto out;
    headers = more;
    struct fetch_request req = {
        .method = "PUT",
        .url = url,
        .headers = headers,
        .body = commands_json,
        .body_len = strlen(commands_json),
        .user_agent = DISCORD_USER_AGENT,
        .timeout_ms = REQUEST_TIMEOUT_MS,
    };
    if ((rc = fetch_request_setup(easy, &req, &resp)))
        goto out;
    CURLcode cc = curl_easy_perform(easy);
    fetch_response_read(&resp, easy, cc);
    if (cc != CURLE_OK) {
        snprintf(err, err_len, "could not reach Discord at %s: %s", cfg->api_base, curl_easy_strerror(cc));
        rc = SLIMY_EUNAVAILABLE;
        goto out;
    }
    rc = explain(&resp, n_registered, err, err_len);
out:
    if (rc == SLIMY_ENOMEM && err_len && !err[0])
        snprintf(err, err_len, "out of memory");
    fetch_headers_free_wiped(headers); /* and our own copy of the credential below */
    if (easy)
        curl_easy_cleanup(easy);
    if (auth.data)
        sodium_memzero(auth.data, auth.len);
    buf_cleanup(&auth);
    fetch_response_cleanup(&resp);
    return rc;
}
