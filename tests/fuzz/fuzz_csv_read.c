/* fuzz_csv_read.c — libFuzzer target: the results-file reader (csv_read)
 * on any bytes, as a file. A table it reads has the header's count of
 * fields in every row, and written back with csv_write_field (what the
 * writer quotes with) it reads back the same; the point keys of its rows
 * (csv_row_key) and `compare` of the file against itself, as the readers of
 * results files use them, run on it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results/compare.h"
#include "results/csv.h"

static char input_path[512], written_path[512];
static FILE *devnull;

static void remove_files(void)
{
    unlink(input_path);
    unlink(written_path);
}

static void make_files(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(input_path, sizeof input_path, "%s/fuzz-csv-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(input_path);
    if (fd < 0) abort();
    close(fd);
    snprintf(written_path, sizeof written_path, "%s.written", input_path);
    devnull = fopen("/dev/null", "w");
    if (!devnull) abort();
    atexit(remove_files);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort();
}

/* The table as csv_writer writes its rows: fields through csv_write_field. */
static void write_table(const char *path, const struct csv_table *t)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    for (long r = -1; r < t->nrows; r++) {
        char *const *cells = r < 0 ? t->header : t->rows[r];
        for (int c = 0; c < t->ncols; c++) {
            if (c) fputc(',', f);
            csv_write_field(f, cells[c]);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) abort();
}

static int same_table(const struct csv_table *a, const struct csv_table *b)
{
    if (a->ncols != b->ncols || a->nrows != b->nrows) return 0;
    for (int c = 0; c < a->ncols; c++)
        if (strcmp(a->header[c], b->header[c])) return 0;
    for (long r = 0; r < a->nrows; r++)
        for (int c = 0; c < a->ncols; c++)
            if (strcmp(a->rows[r][c], b->rows[r][c])) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!devnull) make_files();
    write_file(input_path, data, size);
    struct csv_table t, back;
    char err[1200] = "";
    if (csv_read(input_path, &t, err, sizeof err) != 0) {
        if (!err[0]) {
            fprintf(stderr, "fuzz_csv_read: refused without a message\n");
            abort();
        }
        return 0;
    }
    for (long r = 0; r < t.nrows; r++) {
        char key[256];
        for (int c = 0; c < t.ncols; c++)
            if (!t.rows[r][c]) abort();
        if (csv_row_key(&t, r, key, sizeof key) != 0) break; /* not a results file */
    }
    write_table(written_path, &t);
    if (csv_read(written_path, &back, err, sizeof err) != 0 || !same_table(&t, &back)) {
        fprintf(stderr, "fuzz_csv_read: the table written back with csv_write_field does not "
                        "read back the same (%s)\n", err);
        abort();
    }
    csv_table_free(&back);
    csv_table_free(&t);
    struct compare_options opt = {.base_path = input_path, .new_path = input_path,
                                  .alpha = 0.05, .min_effect = 0.02, .threshold = 0.05};
    compare_files(&opt, devnull, devnull);
    return 0;
}
