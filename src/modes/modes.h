/* modes.h — channel modes: which flags a channel, thread or category has, how /mode profiles
 * change them, and what a channel inherits (thread → parent channel → category).
 * Pure logic over bit sets (enum mode_flag); the storage is store.h, the command is
 * handlers/mode.c. Thread-safe. */
#ifndef SLIMY_MODES_MODES_H
#define SLIMY_MODES_MODES_H

#include <stdbool.h>
#include <stddef.h>

#define MODES_STATE_TEXT_MAX 256

/* Mode flags of one target (a channel, thread or category), as a bit set. Stored as is. */
enum mode_flag {
    MODE_ADMIN = 1u << 0,
    MODE_CHAT = 1u << 1,
    MODE_PERSONALITY = 1u << 2,
    MODE_NO_PERSONALITY = 1u << 3,
    MODE_SUPER_SNAIL = 1u << 4,
    MODE_RATING_UNRATED = 1u << 5,
    MODE_RATING_PG13 = 1u << 6,
};

/* The profiles /mode set offers, in Discord choice order: X(value, label). The one list: the
 * command's choices and modes_profiles() are both made from it. */
#define MODES_PROFILES(X)                                                                     \
    X("chat|personality|rating_pg13", "Chat · Personality · Rated PG-13")                     \
    X("chat|personality|rating_unrated", "Chat · Personality · Unrated")                      \
    X("chat|no_personality|rating_pg13", "Chat · No Personality · Rated PG-13")               \
    X("chat|no_personality|rating_unrated", "Chat · No Personality · Unrated")                \
    X("super_snail|personality|rating_pg13", "Super Snail · Personality · Rated PG-13")       \
    X("super_snail|personality|rating_unrated", "Super Snail · Personality · Unrated")        \
    X("super_snail|no_personality|rating_pg13", "Super Snail · No Personality · Rated PG-13") \
    X("super_snail|no_personality|rating_unrated", "Super Snail · No Personality · Unrated")  \
    X("clear", "Clear (remove all modes)")

/* The filters of /mode list: X(name, flag tested (0 = all), label). */
#define MODES_FILTERS(X)                                               \
    X("all", 0, "All configurations")                                  \
    X("chat", MODE_CHAT, "Chat enabled")                               \
    X("super_snail", MODE_SUPER_SNAIL, "Super Snail enabled")          \
    X("personality", MODE_PERSONALITY, "Personality enabled")          \
    X("no_personality", MODE_NO_PERSONALITY, "No Personality enabled") \
    X("rating_pg13", MODE_RATING_PG13, "Rated PG-13")                  \
    X("rating_unrated", MODE_RATING_UNRATED, "Unrated")

/* One /mode profile choice. */
struct mode_profile {
    const char *value; /* "chat|personality|rating_pg13", or "clear" */
    const char *label; /* "Chat · Personality · Rated PG-13" */
};

/* The profiles /mode set offers, in Discord choice order; n in *n. */
const struct mode_profile *modes_profiles(size_t *n);

/* Parses "chat|personality|rating_pg13" (names separated by '|'; unknown names dropped) into
 * bits. Returns false when no known mode is named. */
bool modes_parse_list(const char *text, unsigned *out);

/* The replace operation of the original bot: the target gets exactly `requested`, then the
 * rating rules apply: a rating brings `personality` with it; without chat or super_snail, or
 * without personality, no rating survives; if both ratings are set, unrated wins. */
unsigned modes_replace(unsigned requested);

/* Effective modes of a target: the OR of its own modes and its ancestors' (a child cannot
 * switch off a parent's flag). Pass 0 for levels that do not exist. */
unsigned modes_effective(unsigned own, unsigned parent_channel, unsigned category);

/* When both are effective, no_personality wins (a defect of the original, fixed here). */
bool modes_use_personality(unsigned effective);

/* "pg13", "unrated" or "default" (rating_unrated wins over rating_pg13). */
const char *modes_rating(unsigned effective);

/* "admin: ✅ | chat: ❌ | ..." for all seven flags, into out (MODES_STATE_TEXT_MAX bytes). */
void modes_format_state(unsigned modes, char *out, size_t cap);

/* The filter names of /mode list ("all", "chat", ...) → the flag they test (0 for "all").
 * false for an unknown name. */
bool modes_filter_parse(const char *name, unsigned *flag, const char **label);

#endif
