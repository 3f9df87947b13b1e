/* fuzz_csv_read.c — libFuzzer target: the results-file reader on any bytes
 * (csv_parse, csv_read's reader of a file's bytes in memory). A table it
 * reads has the header's count of fields in every row, and written back
 * with csv_write_field (what the writer quotes with) it reads back the
 * same; the point keys of its rows (csv_row_key) and `compare` of the file
 * against itself, as the readers of results files use them, run on it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results/compare.h"
#include "results/csv.h"

static char path[512];
static FILE *devnull;

static void remove_file(void) { unlink(path); }

static void make_file(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/fuzz-csv-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) abort();
    close(fd);
    devnull = fopen("/dev/null", "w");
    if (!devnull) abort();
    atexit(remove_file);
}

/* The table as csv_writer writes its rows: fields through csv_write_field. */
static void write_table(FILE *f, const struct csv_table *t)
{
    for (long r = -1; r < t->nrows; r++) {
        char *const *cells = r < 0 ? t->header : t->rows[r];
        for (int c = 0; c < t->ncols; c++) {
            if (c) fputc(',', f);
            csv_write_field(f, cells[c]);
        }
        fputc('\n', f);
    }
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
    if (!devnull) make_file();
    struct csv_table t, back;
    char err[1200] = "";
    if (csv_parse("fuzz.csv", (const char *)data, size, &t, err, sizeof err) != 0) {
        if (!err[0]) {
            fprintf(stderr, "fuzz_csv_read: refused without a message\n");
            abort();
        }
        return 0;
    }
    for (long r = 0; r < t.nrows; r++) {
        char key[CSV_KEY_LEN];
        for (int c = 0; c < t.ncols; c++)
            if (!t.rows[r][c]) abort();
        if (csv_row_key(&t, r, key, sizeof key) != 0) break; /* not a results file */
    }
    char *written = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&written, &len);
    if (!f) abort();
    write_table(f, &t);
    fclose(f);
    if (csv_parse("written.csv", written, len, &back, err, sizeof err) != 0 ||
        !same_table(&t, &back)) {
        fprintf(stderr, "fuzz_csv_read: the table written back with csv_write_field does not "
                        "read back the same (%s)\n", err);
        abort();
    }
    csv_table_free(&back);
    csv_table_free(&t);
    free(written);
    /* compare reads files: the input as one, against itself. */
    f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort();
    struct compare_options opt = {.base_path = path, .new_path = path, .alpha = 0.05,
                                  .min_effect = 0.02, .threshold = 0.05};
    compare_files(&opt, devnull, devnull);
    return 0;
}
