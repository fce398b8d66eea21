/* modes.c — mode profiles, the replace rules and inheritance; see modes.h. */
#include "modes/modes.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned flag;
} mode_names[] = {
    {"admin", MODE_ADMIN},
    {"chat", MODE_CHAT},
    {"personality", MODE_PERSONALITY},
    {"no_personality", MODE_NO_PERSONALITY},
    {"super_snail", MODE_SUPER_SNAIL},
    {"rating_unrated", MODE_RATING_UNRATED},
    {"rating_pg13", MODE_RATING_PG13},
};

#define PROFILE_ROW(value, label) {value, label},
static const struct mode_profile profiles[] = {MODES_PROFILES(PROFILE_ROW)};

#define FILTER_ROW(name, flag, label) {name, flag, label},
static const struct {
    const char *name;
    unsigned flag;
    const char *label;
} filters[] = {MODES_FILTERS(FILTER_ROW)};

const struct mode_profile *modes_profiles(size_t *n)
{
    *n = sizeof profiles / sizeof profiles[0];
    return profiles;
}

bool modes_parse_list(const char *text, unsigned *out)
{
    unsigned bits = 0;
    const char *p = text;
    while (p && *p) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
            if (strlen(mode_names[i].name) == len && strncmp(mode_names[i].name, p, len) == 0)
                bits |= mode_names[i].flag;
        p = end ? end + 1 : NULL;
    }
    *out = bits;
    return bits != 0;
}

unsigned modes_replace(unsigned requested)
{
    unsigned m = requested;
    unsigned ratings = MODE_RATING_UNRATED | MODE_RATING_PG13;
    if (m & ratings)
        m |= MODE_PERSONALITY;
    if (!(m & (MODE_CHAT | MODE_SUPER_SNAIL)) || !(m & MODE_PERSONALITY))
        m &= ~ratings;
    if ((m & ratings) == ratings)
        m &= ~MODE_RATING_PG13;
    return m;
}

unsigned modes_effective(unsigned own, unsigned parent_channel, unsigned category)
{
    return own | parent_channel | category;
}

bool modes_use_personality(unsigned effective)
{
    return !(effective & MODE_NO_PERSONALITY);
}

const char *modes_rating(unsigned effective)
{
    if (effective & MODE_RATING_UNRATED)
        return "unrated";
    if (effective & MODE_RATING_PG13)
        return "pg13";
    return "default";
}

void modes_format_state(unsigned modes, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0] && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s: %s", i ? " | " : "", mode_names[i].name,
                                 (modes & mode_names[i].flag) ? "✅" : "❌");
}

bool modes_filter_parse(const char *name, unsigned *flag, const char **label)
{
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        if (strcmp(filters[i].name, name) == 0) {
            *flag = filters[i].flag;
            *label = filters[i].label;
            return true;
        }
    }
    return false;
}
