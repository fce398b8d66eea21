/* component.h — buttons and select menus on Slimy's messages, and the custom_ids that bring
 * a press back to the command that made them.
 *
 * A custom_id is "command:action:arg:...", at most 100 characters: the dispatcher runs the
 * component leaf `action` of the top-level command `command` (command.h), which reads the args
 * with cmd_component_arg(). Discord returns the custom_id it was given, but a modified client
 * can send any string, so a leaf parses its args as strictly as any other input.
 *
 *     char id[COMPONENT_ID_SIZE];
 *     cJSON *row = component_row();
 *     if (component_id(id, "dream", "reroll", user_id, style, NULL) ||
 *         component_button(row, BUTTON_SECONDARY, "🔁", "Reroll", id))
 *         ...
 *     message_add_row(ctx->reply, row);
 *
 * Builders return SLIMY_OK, SLIMY_ENOMEM, or SLIMY_EINVAL for a value Discord would refuse. */
#ifndef SLIMY_INTERACTIONS_COMPONENT_H
#define SLIMY_INTERACTIONS_COMPONENT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#define COMPONENT_ID_SIZE 101 /* Discord's 100 characters (custom_ids are ASCII), and the NUL */
#define COMPONENT_ID_SEP ':'

/* Discord's component types and button styles. */
enum component_type {
    COMPONENT_ACTION_ROW = 1,
    COMPONENT_BUTTON = 2,
    COMPONENT_STRING_SELECT = 3,
};

enum button_style {
    BUTTON_PRIMARY = 1,
    BUTTON_SECONDARY = 2,
    BUTTON_SUCCESS = 3,
    BUTTON_DANGER = 4,
};

/* A new, empty action row (a row holds up to five buttons, or one select menu). NULL on ENOMEM. */
cJSON *component_row(void);

/* Adds a button; emoji (a Unicode emoji) may be NULL. */
int component_button(cJSON *row, enum button_style style, const char *emoji, const char *label, const char *custom_id);

/* Adds a string select menu to row and returns it (borrowed from row), or NULL. */
cJSON *component_select(cJSON *row, const char *custom_id, const char *placeholder);
/* Adds an option to a select menu (at most 25); emoji may be NULL. */
int component_select_option(cJSON *select, const char *label, const char *value, const char *emoji, bool is_default);

/* Writes "command:action[:arg...]" into out; the args end with NULL. SLIMY_EINVAL when a part is
 * empty or holds the separator, SLIMY_ETOOBIG past 100 characters. */
int component_id(char out[COMPONENT_ID_SIZE], const char *command, const char *action, ...) __attribute__((sentinel));

/* Copies the nth ':'-separated field of custom_id (0 = command, 1 = action, 2 = the first arg)
 * into out. false when there is no such field or it does not fit in out_size. */
bool component_id_field(const char *custom_id, size_t n, char *out, size_t out_size);

#endif
