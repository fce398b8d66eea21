/* ai_role.h — who said a line of a conversation: the system prompt, the user or the model.
 * Shared by the OpenAI client (ai/openai.h) and the chat history kept in kv/ (kv/history.h),
 * which must not depend on each other. */
#ifndef SLIMY_CORE_AI_ROLE_H
#define SLIMY_CORE_AI_ROLE_H

enum ai_role {
    AI_SYSTEM,
    AI_USER,
    AI_ASSISTANT
};

#endif
