/* errors.h — how harness functions report a failure: a message into the
 * caller's buffer, and -1. */
#ifndef HARNESS_ERRORS_H
#define HARNESS_ERRORS_H

#include <stddef.h>

/* Formats the message into err[0..err_len) and returns -1, so that a check
 * and its report are one statement: `return harness_fail(err, len, ...)`. */
int harness_fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
