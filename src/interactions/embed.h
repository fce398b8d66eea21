/* embed.h — building Discord embed objects (cJSON) within Discord's limits: title ≤ 256,
 * description ≤ 4096, field name ≤ 256, field value ≤ 1024, 25 fields; longer text is cut
 * with "…" rather than having Discord reject the whole message. Pure; thread-safe. */
#ifndef SLIMY_INTERACTIONS_EMBED_H
#define SLIMY_INTERACTIONS_EMBED_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* A new embed with a title and colour (0xRRGGBB); NULL when out of memory. */
cJSON *embed_new(const char *title, uint32_t color);
/* Sets the description (cut to 4096 characters). false when out of memory. */
bool embed_set_description(cJSON *embed, const char *text);
/* Appends a field (name cut to 256, value to 1024; an empty value becomes "\u200b"). */
bool embed_add_field(cJSON *embed, const char *name, const char *value, bool is_inline);
bool embed_set_footer(cJSON *embed, const char *text);
/* Sets "timestamp" to the given unix ms as ISO 8601. */
bool embed_set_timestamp(cJSON *embed, int64_t unix_ms);

/* Writes unix ms as "2026-11-25T10:00:00.000Z" into out (≥ 32 bytes). */
void embed_format_iso8601(int64_t unix_ms, char *out, size_t cap);

#endif
