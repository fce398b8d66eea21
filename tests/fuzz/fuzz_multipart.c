/* fuzz_multipart.c — building what Slimy sends Discord for a message with odd text, embeds,
 * filenames, content types and file bytes: the type-4 answer (response_message_json), and the
 * webhook delivery's bodies, part after part, as discord_rest.c builds them (its static
 * build_body(): payload_json plus files[n] as multipart for the first part, JSON for the
 * follow-ups split at 2000 characters). One input in eight also sends the first part through
 * curl to a local server thread (fuzz_http.h), so curl serialises the multipart form it was given.
 *
 * Input: byte 0 flags (bits 0-3: number of files, bit 4 ephemeral, bits 5-7 all 0: send), then
 * NUL-separated fields: the content, an embed's title, description, field name, field value,
 * footer, then per file its filename, content type and data. Missing fields are empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The real client, static functions and all. */
#include "interactions/discord_rest.c"

#include "fuzz_http.h"
#include "interactions/embed.h"

static CURL *easy;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fetch_global_init();
    if (!(easy = curl_easy_init()))
        abort();
    return 0;
}

struct fields {
    const uint8_t *p;
    size_t left;
};

/* The next NUL-terminated field, copied; "" past the end. *len gets its length. */
static char *next_field(struct fields *f, size_t *len)
{
    const uint8_t *end = memchr(f->p, '\0', f->left);
    size_t n = end ? (size_t)(end - f->p) : f->left;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, f->p, n);
    s[n] = '\0';
    f->p += end ? n + 1 : n;
    f->left -= end ? n + 1 : n;
    if (len)
        *len = n;
    return s;
}

static void check_json(const char *text)
{
    if (!text)
        return;
    cJSON *back = cJSON_Parse(text); /* what we print must read back */
    if (!back)
        abort();
    cJSON_Delete(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0];
    struct fields f = {data + 1, size - 1};

    struct message msg;
    message_init(&msg);
    size_t content_len;
    char *content = next_field(&f, &content_len);
    buf_append(&msg.content, content, content_len); /* past the cap is refused: fine */
    free(content);
    char *title = next_field(&f, NULL), *desc = next_field(&f, NULL), *fname = next_field(&f, NULL);
    char *fvalue = next_field(&f, NULL), *footer = next_field(&f, NULL);
    if (*title || *desc) {
        cJSON *embed = embed_new(title, 0x2ecc71);
        if (embed) {
            embed_set_description(embed, desc);
            if (*fname)
                embed_add_field(embed, fname, fvalue, flags & 1);
            if (*footer)
                embed_set_footer(embed, footer);
            embed_set_timestamp(embed, (int64_t)flags * 1000);
            message_add_embed(&msg, embed);
        }
    }
    free(title), free(desc), free(fname), free(fvalue), free(footer);
    for (unsigned i = 0; i < (flags & 15u) && i <= MESSAGE_MAX_FILES; i++) {
        size_t data_len;
        char *name = next_field(&f, NULL), *type = next_field(&f, NULL), *bytes = next_field(&f, &data_len);
        message_attach(&msg, name, type, bytes, data_len);
        free(name), free(type), free(bytes);
    }

    /* The type-4 answer. */
    char *immediate = response_message_json(&msg);
    check_json(immediate);
    free(immediate);

    /* The delivery's parts, as attempt() builds them. */
    struct delivery *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    d->ephemeral = flags & 16;
    d->easy = easy;
    fetch_response_init(&d->response, RESPONSE_MAX_BYTES, true);
    d->msg = msg;
    if (message_is_empty(&d->msg))
        message_set_text(&d->msg, "✅ Done.");
    for (unsigned parts = 0; parts < 64; parts++) {
        reset_request(d);
        if (build_body(d) != SLIMY_OK)
            break;
        check_json(d->body);
        if (d->part == 0 && (flags & 0xe0) == 0) {
            struct fetch_request req = {.method = "PATCH",
                                        .url = "http://127.0.0.1:1/api/webhooks/42/token/messages/@original",
                                        .headers = d->headers,
                                        .body = d->mime ? NULL : d->body,
                                        .body_len = d->mime ? 0 : strlen(d->body),
                                        .mime = d->mime,
                                        .user_agent = DISCORD_USER_AGENT,
                                        .timeout_ms = 5000};
            static const char ok_headers[] = "Content-Type: application/json\r\nContent-Length: 2\r\n";
            fuzz_http_perform(&d->easy, &req, &d->response, 200, (const uint8_t *)ok_headers, sizeof ok_headers - 1,
                              (const uint8_t *)"{}", 2);
        }
        if (d->chunk_bytes == 0 && d->sent_bytes < d->msg.content.len)
            abort(); /* no progress: the delivery would loop forever */
        d->sent_bytes += d->chunk_bytes;
        d->part++;
        if (d->sent_bytes >= d->msg.content.len)
            break;
    }
    reset_request(d);
    fetch_response_cleanup(&d->response);
    message_cleanup(&d->msg);
    easy = d->easy; /* the transfers replaced the handle: keep the newest for the next input */
    free(d);
    return 0;
}
