/* snail_vision.c — parsing the vision model's answer about a Super Snail screenshot, and the texts
 * made from snail stats; see snail_vision.h. Pure: the model's text in, structs and strings out.
 * Called by src/snail/snail_analyze.c (/snail analyze, "Analyze Snail Stats") and by /snail sheet. */
#include "snail/snail_vision.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/status.h"
#include "snail/snail_costs.h"

#define FENCE "```"
#define STAT_LIMIT 9007199254740992.0 /* 2^53: every smaller integer is exact in JSON's doubles */
#define LEVEL_MAX_CHARS 32            /* an unexpected confidence level is shown cut to this */

const char *const snail_stat_keys[SNAIL_STATS] = {"hp", "atk", "def", "rush", "fame", "tech", "art", "civ", "fth"};
const char *const snail_equipment_keys[SNAIL_EQUIPMENT] = {"weapon", "armor", "accessory"};

static const char *const stat_labels[SNAIL_STATS] = {"HP", "ATK", "DEF", "RUSH", "FAME", "TECH", "ART", "CIV", "FTH"};
static const char *const equipment_labels[SNAIL_EQUIPMENT] = {"WEAPON", "ARMOR", "ACCESSORY"};

/* ---- reading the answer ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void trim(const char **start, size_t *len)
{
    while (*len && is_space(**start)) {
        (*start)++;
        (*len)--;
    }
    while (*len && is_space((*start)[*len - 1]))
        (*len)--;
}

/* Narrows [*start, *start + *len) to the inside of the first ``` fence, if there is one. Models
 * wrap JSON in ```json … ``` even when told not to; the language tag on the fence line goes too. */
static void strip_fence(const char **start, size_t *len)
{
    const char *open = memmem(*start, *len, FENCE, strlen(FENCE));
    if (!open)
        return;
    const char *end = *start + *len;
    const char *p = open + strlen(FENCE);
    while (p < end &&
           ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
        p++; /* the language tag: json, JSON, json5... */
    const char *close = memmem(p, (size_t)(end - p), FENCE, strlen(FENCE));
    *start = p;
    *len = (size_t)((close ? close : end) - p);
}

/* Parses exactly [start, start + len) as one JSON value (trailing white space allowed); NULL
 * when it is not JSON. */
static cJSON *parse_exact(const char *start, size_t len)
{
    const char *parse_end = NULL;
    cJSON *doc = len ? cJSON_ParseWithLengthOpts(start, len, &parse_end, false) : NULL;
    if (!doc)
        return NULL;
    size_t used = (size_t)(parse_end - start);
    while (used < len && is_space(start[used]))
        used++;
    if (used != len) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* An object, or NULL (freeing doc) for any other value. */
static cJSON *only_object(cJSON *doc)
{
    if (cJSON_IsObject(doc))
        return doc;
    cJSON_Delete(doc);
    return NULL;
}

/* The answer as a JSON object: the fenced (or whole) text; when that is not JSON at all, its
 * outermost {…} (prose around the object). Valid JSON of another type is not searched. */
static cJSON *parse_answer(const char *text, size_t len)
{
    const char *start = text;
    strip_fence(&start, &len);
    trim(&start, &len);
    cJSON *doc = parse_exact(start, len);
    if (doc)
        return only_object(doc);
    const char *first = memchr(start, '{', len);
    const char *last = NULL;
    for (size_t i = len; first && i > 0; i--)
        if (start[i - 1] == '}') {
            last = start + i - 1;
            break;
        }
    return first && last && last > first ? only_object(parse_exact(first, (size_t)(last - first) + 1)) : NULL;
}

/* "1,234,567", " 42 ", "-7", "12.6": digits with commas between them, an optional sign and
 * fraction. Anything else (units, "1.2M", words) is not a number. */
static bool parse_number_text(const char *s, double *out)
{
    while (is_space(*s))
        s++;
    bool is_negative = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    double v = 0;
    for (; (*s >= '0' && *s <= '9') || *s == ','; s++) {
        if (*s == ',') {
            if (s[1] < '0' || s[1] > '9')
                return false; /* a comma must sit between digits */
            continue;
        }
        v = v * 10 + (*s - '0');
    }
    if (*s == '.') {
        double scale = 0.1;
        if (s[1] < '0' || s[1] > '9')
            return false;
        for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
            v += (*s - '0') * scale;
    }
    while (is_space(*s))
        s++;
    if (*s)
        return false;
    *out = is_negative ? -v : v;
    return true;
}

/* A stat: a number, or numeric text. Unknown when anything else, or too large to be exact. */
static bool read_stat(const cJSON *item, int64_t *out)
{
    double v;
    if (cJSON_IsNumber(item))
        v = item->valuedouble;
    else if (!cJSON_IsString(item) || !parse_number_text(item->valuestring, &v))
        return false;
    if (!isfinite(v))
        return false;
    v = round(v);
    if (fabs(v) >= STAT_LIMIT)
        return false;
    *out = (int64_t)v;
    return true;
}

/* A trimmed copy of a non-empty string item; NULL when absent, null or empty. */
static int copy_text(const cJSON *item, char **out)
{
    *out = NULL;
    if (!cJSON_IsString(item))
        return SLIMY_OK;
    const char *start = item->valuestring;
    size_t len = strlen(start);
    trim(&start, &len);
    if (!len)
        return SLIMY_OK;
    *out = strndup(start, len);
    return *out ? SLIMY_OK : SLIMY_ENOMEM;
}

int snail_vision_parse(const char *text, size_t len, struct snail_vision *out)
{
    memset(out, 0, sizeof *out);
    cJSON *doc = text ? parse_answer(text, len) : NULL;
    if (!doc)
        return SLIMY_EINVAL;
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(doc, "stats");
    for (size_t i = 0; i < SNAIL_STATS; i++)
        out->has_stat[i] = read_stat(cJSON_GetObjectItemCaseSensitive(stats, snail_stat_keys[i]), &out->stats[i]);
    const cJSON *equipment = cJSON_GetObjectItemCaseSensitive(doc, "equipment");
    int rc = SLIMY_OK;
    for (size_t i = 0; !rc && i < SNAIL_EQUIPMENT; i++)
        rc = copy_text(cJSON_GetObjectItemCaseSensitive(equipment, snail_equipment_keys[i]), &out->equipment[i]);
    if (!rc)
        rc = copy_text(cJSON_GetObjectItemCaseSensitive(doc, "confidence"), &out->confidence);
    if (!rc)
        rc = copy_text(cJSON_GetObjectItemCaseSensitive(doc, "notes"), &out->notes);
    cJSON_Delete(doc);
    if (rc)
        snail_vision_cleanup(out);
    return rc;
}

void snail_vision_cleanup(struct snail_vision *v)
{
    for (size_t i = 0; i < SNAIL_EQUIPMENT; i++)
        free(v->equipment[i]);
    free(v->confidence);
    free(v->notes);
    memset(v, 0, sizeof *v);
}

/* ---- writing for people ---- */

int snail_vision_summary(const struct snail_vision *v, struct buf *out)
{
    int rc = buf_append_str(out, "Automated analysis complete.");
    const char *sep = " Missing stats: ";
    bool is_missing = false;
    for (size_t i = 0; !rc && i < SNAIL_STATS; i++)
        if (!v->has_stat[i]) {
            rc = buf_printf(out, "%s%s", sep, stat_labels[i]);
            sep = ", ";
            is_missing = true;
        }
    if (!rc && is_missing)
        rc = buf_append_str(out, ".");
    if (!rc && v->notes)
        rc = buf_printf(out, " %s", v->notes);
    return rc;
}

/* "HP: 1,234 • ATK: ??? …" for stats [from, to). */
static int append_stats(const int64_t stats[], const bool has_stat[], size_t from, size_t to, struct buf *out)
{
    int rc = SLIMY_OK;
    for (size_t i = from; !rc && i < to; i++) {
        char number[SNAIL_NUMBER_MAX] = "???";
        if (has_stat[i])
            snail_format_number((double)stats[i], number, sizeof number); /* exact: |stat| < 2^53 */
        rc = buf_printf(out, "%s%s: %s", i > from ? " • " : "", stat_labels[i], number);
    }
    return rc;
}

int snail_vision_stats_field(const int64_t stats[SNAIL_STATS], const bool has_stat[SNAIL_STATS], struct buf *out)
{
    int rc = buf_append_str(out, "**Primary**\n");
    if (!rc)
        rc = append_stats(stats, has_stat, 0, SNAIL_PRIMARY_STATS, out);
    if (!rc)
        rc = buf_append_str(out, "\n\n**Pentagon**\n");
    if (!rc)
        rc = append_stats(stats, has_stat, SNAIL_PRIMARY_STATS, SNAIL_STATS, out);
    return rc;
}

int snail_vision_stats_line(const int64_t stats[SNAIL_STATS], const bool has_stat[SNAIL_STATS], struct buf *out)
{
    return append_stats(stats, has_stat, 0, SNAIL_STATS, out);
}

int snail_vision_confidence_field(const struct snail_vision *v, struct buf *out)
{
    static const struct {
        const char *level, *text;
    } known[] = {{"high", "✅ HIGH"}, {"medium", "⚠️ MEDIUM"}, {"low", "❌ LOW"}};
    const char *level = v->confidence ? v->confidence : "unknown";
    int rc = -1;
    for (size_t i = 0; rc < 0 && i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(level, known[i].level) == 0)
            rc = buf_append_str(out, known[i].text);
    if (rc < 0) {
        char upper[LEVEL_MAX_CHARS + 1];
        size_t n = strnlen(level, LEVEL_MAX_CHARS);
        if (level[n])
            while (n && ((unsigned char)level[n] & 0xC0) == 0x80)
                n--; /* cut before a UTF-8 continuation byte, never inside a character */
        for (size_t i = 0; i < n; i++)
            upper[i] = level[i] >= 'a' && level[i] <= 'z' ? (char)(level[i] - 'a' + 'A') : level[i];
        upper[n] = '\0';
        rc = buf_printf(out, "ℹ️ %s", upper);
    }
    if (!rc && v->notes)
        rc = buf_printf(out, "\nNotes: %s", v->notes);
    return rc;
}

int snail_vision_equipment_field(const struct snail_vision *v, struct buf *out)
{
    int rc = SLIMY_OK;
    bool is_first = true;
    for (size_t i = 0; !rc && i < SNAIL_EQUIPMENT; i++)
        if (v->equipment[i]) {
            rc = buf_printf(out, "%s• %s: %s", is_first ? "" : "\n", equipment_labels[i], v->equipment[i]);
            is_first = false;
        }
    return rc;
}
