/* message.c — building a struct message; see message.h. Serialisation is in response.c. */
#include "interactions/message.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

void message_init(struct message *m)
{
    memset(m, 0, sizeof *m);
    buf_init(&m->content, MESSAGE_TEXT_MAX_BYTES);
}

void message_cleanup(struct message *m)
{
    buf_cleanup(&m->content);
    cJSON_Delete(m->embeds);
    cJSON_Delete(m->components);
    for (size_t i = 0; i < m->n_files; i++) {
        free(m->files[i].filename);
        free(m->files[i].content_type);
        free(m->files[i].data);
    }
    message_init(m);
}

int message_set_textv(struct message *m, const char *fmt, va_list ap)
{
    buf_cleanup(&m->content);
    return buf_vprintf(&m->content, fmt, ap);
}

int message_set_text(struct message *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = message_set_textv(m, fmt, ap);
    va_end(ap);
    return rc;
}

int message_add_embed(struct message *m, cJSON *embed)
{
    if (!embed)
        return SLIMY_ENOMEM;
    if (!m->embeds && !(m->embeds = cJSON_CreateArray())) {
        cJSON_Delete(embed);
        return SLIMY_ENOMEM;
    }
    if (cJSON_GetArraySize(m->embeds) >= MESSAGE_MAX_EMBEDS) {
        cJSON_Delete(embed);
        return SLIMY_ETOOBIG;
    }
    cJSON_AddItemToArray(m->embeds, embed);
    return SLIMY_OK;
}

static int ensure_components(struct message *m)
{
    if (!m->components && !(m->components = cJSON_CreateArray()))
        return SLIMY_ENOMEM;
    return SLIMY_OK;
}

int message_add_row(struct message *m, cJSON *row)
{
    if (!row || ensure_components(m)) {
        cJSON_Delete(row);
        return SLIMY_ENOMEM;
    }
    if (cJSON_GetArraySize(m->components) >= MESSAGE_MAX_ROWS) {
        cJSON_Delete(row);
        return SLIMY_ETOOBIG;
    }
    cJSON_AddItemToArray(m->components, row);
    return SLIMY_OK;
}

int message_clear_components(struct message *m)
{
    cJSON_Delete(m->components);
    m->components = NULL;
    return ensure_components(m);
}

int message_attach(struct message *m, const char *filename, const char *content_type, const void *data, size_t len)
{
    if (m->n_files >= MESSAGE_MAX_FILES)
        return SLIMY_ETOOBIG;
    struct message_file *f = &m->files[m->n_files];
    f->filename = strdup(filename);
    f->content_type = strdup(content_type);
    f->data = malloc(len ? len : 1);
    if (!f->filename || !f->content_type || !f->data) {
        free(f->filename);
        free(f->content_type);
        free(f->data);
        memset(f, 0, sizeof *f);
        return SLIMY_ENOMEM;
    }
    if (len)
        memcpy(f->data, data, len);
    f->len = len;
    m->n_files++;
    return SLIMY_OK;
}

bool message_is_empty(const struct message *m)
{
    return m->content.len == 0 && cJSON_GetArraySize(m->embeds) == 0 && m->n_files == 0;
}
