/* log_capture.h — a test program's log (core/log.h) captured in a temporary directory at debug
 * level, so a test can check what never reached it: API keys, tokens, other secrets.
 *
 *     static void the_key_is_never_logged(void **state)
 *     {
 *         (void)state;
 *         log_capture_assert_absent(API_KEY, NULL);
 *     }
 *     ...
 *     return cmocka_run_group_tests(tests, log_capture_setup, log_capture_teardown);
 *
 * Run the check last in the group: it reads every line the earlier tests logged. */
#ifndef SLIMY_TESTS_LOG_CAPTURE_H
#define SLIMY_TESTS_LOG_CAPTURE_H

/* cmocka group setup and teardown: opens the log (every level) in a new directory under /tmp;
 * closes it and removes the directory. */
int log_capture_setup(void **state);
int log_capture_teardown(void **state);

/* Fails the test unless the captured log has at least one line and no line contains any of the
 * strings given (ended by NULL). */
void log_capture_assert_absent(const char *secret, ...);

#endif
