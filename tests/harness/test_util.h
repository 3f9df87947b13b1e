/* test_util.h — what the harness unit tests share: checks that report
 * file:line and let the test go on, and a scratch folder for files. */
#ifndef TESTS_HARNESS_TEST_UTIL_H
#define TESTS_HARNESS_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

#define CHECK_STR(got, want)                                                               \
    do {                                                                                   \
        const char *got_ = (got), *want_ = (want);                                         \
        if (strcmp(got_, want_) != 0) {                                                    \
            fprintf(stderr, "%s:%d: %s is '%s', want '%s'\n", __FILE__, __LINE__, #got, got_, \
                    want_);                                                                \
            check_failures++;                                                              \
        }                                                                                  \
    } while (0)

#define CHECK_CONTAINS(text, part)                                                          \
    do {                                                                                    \
        const char *text_ = (text), *part_ = (part);                                        \
        if (!strstr(text_, part_)) {                                                        \
            fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, text_, \
                    part_);                                                                 \
            check_failures++;                                                               \
        }                                                                                   \
    } while (0)

/* main()'s exit status. */
static inline int check_exit(const char *test)
{
    if (check_failures) fprintf(stderr, "%s: %d checks failed\n", test, check_failures);
    return check_failures ? 1 : 0;
}

/* A fresh folder under $TMPDIR (or /tmp) for the test's files. */
static inline void scratch_make(char *dir, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/attnbench-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror(dir);
        exit(1);
    }
}

/* `dir`/`name` in `path`. */
static inline const char *scratch_path(char *path, size_t len, const char *dir, const char *name)
{
    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

static inline void scratch_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* Removes the folder and the files in it (the tests make no subfolders). */
static inline void scratch_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        char path[1024];
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlink(scratch_path(path, sizeof path, dir, e->d_name));
    }
    closedir(d);
    rmdir(dir);
}

#endif
