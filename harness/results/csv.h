/* csv.h — the results file: one header, one row per sweep point, each row
 * written in one write(2) as soon as its point is measured, so that a
 * killed sweep keeps every row it had. RFC 4180 quoting (a field with a comma, a
 * quote or a newline is quoted, quotes doubled).
 *
 * The columns (README.md, "CSV columns") are csv_columns() below, in order.
 */
#ifndef HARNESS_CSV_H
#define HARNESS_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "core/axes.h"
#include "core/point.h"
#include "results/run_file.h"

/* Column names, in file order, NULL-terminated; the axes' columns come from
 * core/axes.h. */
const char *const *csv_columns(void);
int csv_column_count(void);

/* A row's cells, as the file has them: each a string of the row or a
 * formatted number; "" where the row has no value. */
#define CSV_MAX_COLUMNS 96
struct csv_cells {
    const char *cell[CSV_MAX_COLUMNS];
    char number[CSV_MAX_COLUMNS][40];
    char axis[AXIS_COUNT][POINT_TEXT_LEN];
};
void csv_row_cells(const struct result_row *r, struct csv_cells *out);

/* 1 when the row's samples were taken and its time columns are filled: its
 * status is `ok`, or `wrong:` (timed, then its output failed --verify). */
int csv_row_timed(const struct result_row *r);

struct csv_writer {
    struct run_file file;
};

struct csv_table;

/* Opens `path` for a run's rows, under the run's lock and in `mode`
 * (results/run_file.h): a file that is there must start with exactly our
 * header, whatever the mode (else an error naming the file and the first
 * differing column: we never append to a foreign file, nor empty one) —
 * but for RUN_FILE_RESUME of a file an earlier attnbench wrote, which is
 * first rewritten with our header (csv_table_to_current, then
 * run_file_replace: the rows kept, the cells they lack empty, said on
 * `log`); with RUN_FILE_RESUME its rows must read back (csv_parse), and
 * `done` (unless NULL) gets them; a new or emptied file gets the header.
 * `log` hears of a cut row. Returns 0, or non-zero with a message. */
int csv_writer_open(struct csv_writer *w, const char *path, enum run_file_mode mode, FILE *log,
                    struct csv_table *done, char *err, size_t err_len);
/* Write one row, in one write(2) (run_file_append). 0 or non-zero. */
int csv_writer_row(struct csv_writer *w, const struct result_row *r);
/* Closes the file, releasing the lock. */
void csv_writer_close(struct csv_writer *w);

/* Write one field with RFC 4180 quoting when needed. */
void csv_write_field(FILE *f, const char *field);

/* A CSV file read into memory: cells are strings. */
struct csv_table {
    int ncols;
    char **header;             /* ncols names */
    long nrows;
    char ***rows;              /* nrows x ncols */
};

/* Read a whole CSV file. Fails, with "PATH:LINE: what", on a row whose
 * field count differs from the header, an unterminated quote, or a last
 * line that is not terminated by a newline (a truncated write). */
int csv_read(const char *path, struct csv_table *t, char *err, size_t err_len);
/* The same for `len` bytes of `text` already read from `path`. */
int csv_parse(const char *path, const char *text, size_t len, struct csv_table *t, char *err,
              size_t err_len);
void csv_table_free(struct csv_table *t);
/* Completes a table read from a file written before a text axis existed
 * (inputs, gather: core/axes.h): each such column that is absent is added,
 * holding the axis's default in the rows whose method reads the axis and ""
 * in the others (and in a peer's rows, whose backend is not attnbench's, for
 * an axis only some methods read), as this attnbench and its peers would
 * have written them. A table without a `method` column is left as it is. 0,
 * or -1 when out of memory (the table is still whole, to be freed). */
int csv_table_add_absent_axes(struct csv_table *t);
/* Brings a table read from a results file of an earlier attnbench to this
 * one's columns, in this one's order: the absent axes as
 * csv_table_add_absent_axes() adds them, every other absent column empty (a
 * column attnbench did not write then has nothing to say now). `added`
 * (unless NULL) names the columns added, comma-separated. 0; else -1 with a
 * message naming `path` and the column this attnbench does not know (a file
 * of a later attnbench, or not a results file), one out of attnbench's order
 * (columns are only ever added), or the column every attnbench wrote that it
 * lacks (method, variant, backend, N, status); the table is then unchanged. */
int csv_table_to_current(const char *path, struct csv_table *t, char *added, size_t added_len,
                         char *err, size_t err_len);
/* Column index by name, or -1. */
int csv_column(const struct csv_table *t, const char *name);

/* The columns of that key, in its order. */
int csv_key_column_count(void);
const char *csv_key_column(int i);

/* A key that identifies a sweep point (method, variant, backend and every
 * axis): equal keys mean the same point. CSV_KEY_LEN holds any key of
 * built-in names and a file:PATH inputs word; a longer one (a plugin's long
 * names too) is cut, and points that differ only past the cut would count
 * as one. */
#define CSV_KEY_LEN 1024
void csv_point_key(const struct sweep_point *p, char *key, size_t key_len);
/* The key of the point's series: the point without its x axis (N), the
 * same for every point of a figure's line. */
void csv_series_key(const struct sweep_point *p, char *key, size_t key_len);
/* The same key computed from row `r` of a table written by csv_writer.
 * Non-zero when a column is missing. */
int csv_row_key(const struct csv_table *t, long r, char *key, size_t key_len);

#endif
