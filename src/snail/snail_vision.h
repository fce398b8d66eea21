/* snail_vision.h — what a vision model said about a Super Snail screenshot, and how snail stats
 * are written for people. snail_vision_parse() reads the model's answer (a JSON object, bare or in
 * a ``` fence) into nine stats, three equipment slots, a confidence and notes; the format
 * functions word the summary and the embed texts of /snail analyze and /snail sheet.
 * Pure: no Discord, no I/O, no globals written. Thread-safe. Numbers are formatted with
 * snail_format_number() (snail_costs.h): "1,234,567"; an unknown stat is "???". */
#ifndef SLIMY_SNAIL_SNAIL_VISION_H
#define SLIMY_SNAIL_SNAIL_VISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define SNAIL_STATS 9         /* hp, atk, def, rush (primary); fame, tech, art, civ, fth (pentagon) */
#define SNAIL_PRIMARY_STATS 4 /* the first four of SNAIL_STATS */
#define SNAIL_EQUIPMENT 3     /* weapon, armor, accessory */

/* JSON keys of the stats, in the order of the snail_stats columns (store.h) and of every array
 * below: "hp", "atk", "def", "rush", "fame", "tech", "art", "civ", "fth". */
extern const char *const snail_stat_keys[SNAIL_STATS];
/* JSON keys of the equipment: "weapon", "armor", "accessory". */
extern const char *const snail_equipment_keys[SNAIL_EQUIPMENT];

/* One analysed screenshot. Caller storage; release with snail_vision_cleanup(). */
struct snail_vision {
    int64_t stats[SNAIL_STATS];       /* the values; meaningful only where has_stat is true */
    bool has_stat[SNAIL_STATS];       /* false: null, absent or not a number in the answer */
    char *equipment[SNAIL_EQUIPMENT]; /* owned UTF-8; NULL when null, absent or empty */
    char *confidence;                 /* owned, as the model wrote it ("high"...); NULL when absent */
    char *notes;                      /* owned, trimmed; NULL when absent or empty */
};

/* ---- reading the model's answer ---- */

/* Parses the len bytes of text (need not be NUL-terminated) into *out, which it overwrites.
 * Accepted: a JSON object, optionally inside a ``` or ```json fence or surrounded by prose (the
 * object from the first '{' to the last '}' is tried when the whole text is not JSON), of the
 * shape {stats:{hp..fth}, equipment:{weapon,armor,accessory}, confidence, notes}. Every key is
 * optional. A stat may be a JSON number (rounded to the nearest integer) or a numeric string with
 * thousands commas ("1,234,567"); null, anything else and magnitudes of 2^53 or more count as
 * unknown. Returns SLIMY_OK; SLIMY_EINVAL (*out left empty) when no JSON object can be read;
 * SLIMY_ENOMEM. *out is safe to clean up after any return. */
int snail_vision_parse(const char *text, size_t len, struct snail_vision *out);

/* Frees what parse allocated and zeroes *v; safe on a zeroed or cleaned struct. */
void snail_vision_cleanup(struct snail_vision *v);

/* ---- writing for people (each appends to out and returns buf's status) ---- */

/* "Automated analysis complete." then " Missing stats: TECH, ART." when some stat is unknown,
 * then " {notes}" when there are notes. */
int snail_vision_summary(const struct snail_vision *v, struct buf *out);

/* The "Stats" field of the analysis embed, two lines under two headings:
 * "**Primary**\nHP: 1,234,567 • ATK: … • DEF: … • RUSH: …"
 * "\n\n**Pentagon**\nFAME: … • TECH: ??? • ART: … • CIV: … • FTH: …" */
int snail_vision_stats_field(const int64_t stats[SNAIL_STATS], const bool has_stat[SNAIL_STATS], struct buf *out);

/* One line with all nine stats, as /snail sheet shows a stored row:
 * "HP: … • ATK: … • DEF: … • RUSH: … • FAME: … • TECH: … • ART: … • CIV: … • FTH: …". */
int snail_vision_stats_line(const int64_t stats[SNAIL_STATS], const bool has_stat[SNAIL_STATS], struct buf *out);

/* The "Confidence" field: "✅ HIGH", "⚠️ MEDIUM", "❌ LOW" (any letter case in the answer), else
 * "ℹ️ " and the given level in upper case ("ℹ️ UNKNOWN" when absent); then "\nNotes: {notes}"
 * when there are notes. */
int snail_vision_confidence_field(const struct snail_vision *v, struct buf *out);

/* The "Equipment" field: one "• WEAPON: Laser Sword" line per known slot, joined by "\n".
 * Appends nothing when no slot is known (the caller then leaves the field out). */
int snail_vision_equipment_field(const struct snail_vision *v, struct buf *out);

#endif
