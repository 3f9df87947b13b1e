/* text_file.h — a whole file read into memory, for the parsers of suites
 * and results files. */
#ifndef HARNESS_CORE_TEXT_FILE_H
#define HARNESS_CORE_TEXT_FILE_H

#include <stddef.h>

/* The file's bytes, NUL-terminated, in a malloc'd *text of *len bytes (the
 * NUL not counted). 0, or -1 with "PATH: what went wrong" in `err`. */
int read_text_file(const char *path, char **text, size_t *len, char *err, size_t err_len);

#endif
