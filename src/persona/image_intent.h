/* image_intent.h — does a chat message ask for a picture? (/chat turns such messages into an
 * image instead of a text reply). Pure; thread-safe. */
#ifndef SLIMY_PERSONA_IMAGE_INTENT_H
#define SLIMY_PERSONA_IMAGE_INTENT_H

#include <stdbool.h>

/* True for "make an image of…", "draw…", "image prompt: …", "show me a picture of…" and the
 * other phrasings image_intent.c lists, case-insensitive. */
bool image_intent_detect(const char *message);

/* The guideline appended to image prompts for a rating ("pg13", "unrated", "default"); "" for
 * unrated. */
const char *image_rating_guideline(const char *rating);

#endif
