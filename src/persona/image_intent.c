/* image_intent.c — image-request detection with POSIX extended regexes compiled once. */
#include "persona/image_intent.h"

#include <pthread.h>
#include <regex.h>
#include <string.h>

static const char *const patterns[] = {
    "\\b(create|make)( an?)? (image|picture|photo|art|poster|logo|banner|icon)",
    "image prompt:",
    "\\bdraw\\b",
    "\\billustrate",
    "\\bgenerate\\b.*\\b(image|picture|photo)",
    "\\b(render|paint|design)\\b.*\\b(image|picture|photo|art)\\b",
    "\\b(show|send|display|give|share)\\b.*\\b(photo|picture|image)",
    "\\b(photo|picture|image)\\b.*\\bof\\b",
};
#define N_PATTERNS (sizeof patterns / sizeof patterns[0])

static regex_t compiled[N_PATTERNS];
static int compiled_ok[N_PATTERNS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void compile_all(void)
{
    for (size_t i = 0; i < N_PATTERNS; i++)
        compiled_ok[i] = regcomp(&compiled[i], patterns[i], REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
}

bool image_intent_detect(const char *message)
{
    pthread_once(&once, compile_all);
    for (size_t i = 0; i < N_PATTERNS; i++)
        if (compiled_ok[i] && regexec(&compiled[i], message, 0, NULL, 0) == 0)
            return true;
    return false;
}

const char *image_rating_guideline(const char *rating)
{
    if (strcmp(rating, "unrated") == 0)
        return "";
    if (strcmp(rating, "pg13") == 0)
        return "Content guidelines: Keep imagery appropriate for ages 13+; avoid explicit content.";
    return "Content guidelines: Keep imagery appropriate for a general audience.";
}
