/* persona.h — Slimy's persona: bot-personality.md (PERSONALITY_FILE) parsed into sections and
 * turned into the /chat system prompt for a channel's modes and a scope's adjustments.
 * No network; reads one file. Thread-safe: a struct persona may be shared by every worker. */
#ifndef SLIMY_PERSONA_PERSONA_H
#define SLIMY_PERSONA_PERSONA_H

#include <stdbool.h>
#include <stddef.h>


/* Files larger than this are refused (the old parse, or the built-in persona, stays in use). */
#define PERSONA_FILE_MAX_BYTES (256u * 1024u)

/* The file's sections, matched by their "## " title (case-insensitive; "Behaviours" also works):
 *   Base Personality, Tone: PG-13, Tone: Unrated, Tone: Professional, Catchphrases,
 *   Context Behaviors, Adaptation Rules, Forbidden Behaviors, Crisis Response.
 * Text before the first section and sections with other titles are ignored; a section given
 * twice is joined. To add a section: add a title to the table in persona.c and say in
 * persona_build_prompt() where it goes. */
struct persona;

/* ---- lifetime ---- */

/* Loads the persona at path (copied) and returns it in *out; close with persona_close().
 * A missing, unreadable, oversized or sectionless file is not an error: a built-in minimal
 * persona is used and one warning is logged. path NULL or "" means the built-in persona only.
 * Afterwards the file is checked again at most once per second; when its mtime (or size or
 * inode) changes it is re-read. A reload that fails keeps the last good persona and logs one
 * warning until the file reads cleanly again. Returns SLIMY_OK or SLIMY_ENOMEM. Blocks on one
 * stat() and read. */
int persona_open(const char *path, struct persona **out);
/* Frees everything; p may be NULL. No call may be running on p. */
void persona_close(struct persona *p);

/* ---- the ones /chat and the handlers call ---- */

/* The /personality-config adjust parameters, in choice order: X(parameter as stored, choice
 * name, prompt line label, what the ends of 1..10 mean, meaningless in professional mode). The
 * one list: the command's choices and the prompt's lines both come from it. */
#define PERSONA_ADJUSTMENTS(X)                                                                                        \
    X("catchphrase_freq", "Catchphrase Frequency", "Catchphrase frequency", "1 = almost never, 10 = in most replies", \
      true)                                                                                                           \
    X("enthusiasm", "Enthusiasm Level", "Enthusiasm level", "1 = calm, 10 = very excited", false)                     \
    X("technical_depth", "Technical Depth", "Technical depth", "1 = plain-language overview, 10 = expert detail",     \
      false)                                                                                                          \
    X("formality", "Formality Level", "Formality", "1 = casual, 10 = formal", false)

/* One stored /personality-config adjust value. */
struct persona_adjustment {
    const char *parameter; /* one of PERSONA_ADJUSTMENTS's; others are skipped */
    int value;             /* 1..10; others are skipped */
};

/* What a prompt is built for. */
struct persona_prompt_input {
    unsigned effective_modes;                     /* enum mode_flag bits of the channel (modes_effective) */
    const struct persona_adjustment *adjustments; /* the scope's /personality-config adjust values */
    size_t n_adjustments;
    bool include_snail_layer; /* /snail analyze, or a channel with super_snail */
};

/* Builds the system prompt, in this order:
 *   - no_personality effective (modes_use_personality() false): the Professional tone only;
 *     no base personality, no catchphrases;
 *   - otherwise: Base Personality, "Tone: Unrated" when rating_unrated is effective else
 *     "Tone: PG-13" (the default even when no rating mode is set), then Catchphrases;
 *   - then Context Behaviors (a "###" block whose title mentions Super Snail only when
 *     include_snail_layer), Adaptation Rules, Forbidden Behaviors and Crisis Response;
 *   - last, the adjustments as explicit lines ("Enthusiasm level: 8/10 (1 = calm, 10 = very
 *     excited)", "Catchphrase frequency: 2/10 ...", "Technical depth: ...", "Formality: ...").
 *     Unknown parameters and values outside 1..10 are skipped, and catchphrase frequency is
 *     skipped in professional mode.
 * Missing sections are left out, except that a missing opening section (Base Personality, or
 * Tone: Professional) is replaced by the built-in one so the prompt always says who Slimy is.
 * in NULL means no modes and no adjustments. May re-read the file (see persona_open()). Returns a new
 * string, never empty, that the caller frees with free(); NULL only when out of memory. */
char *persona_build_prompt(struct persona *p, const struct persona_prompt_input *in);

/* The name shown in front of the reply: "slimy.ai", or "slimy.ai (no personality)" when
 * no_personality is effective. Returns a static string. */
const char *persona_display_name(unsigned effective_modes);

#endif
