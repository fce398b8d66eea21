/* text_file.h — whole files for tests: read one into memory, write one to a new temporary file. */
#ifndef SLIMY_TESTS_TEXT_FILE_H
#define SLIMY_TESTS_TEXT_FILE_H

#include <stdbool.h>

/* The whole file at path, NUL-terminated; the caller frees it. Fails the test (cmocka) when the
 * file cannot be read. */
char *text_file_read(const char *path);

/* Writes text to a new file named after path_template (its trailing "XXXXXX" are replaced in
 * place, as mkstemp() does); false when the file cannot be made or written. */
bool text_file_write_temp(char *path_template, const char *text);

#endif
