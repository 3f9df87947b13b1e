/* json.h — a run's results as JSON (`run --json FILE`), beside the CSV: every
 * row with its columns typed (numbers as numbers, empty cells as null) and
 * every sample with the GPU's clock and power at it, and for each run the
 * environment (attnbench's version and git revision, the command line, the
 * host, when it started). The document, written anew after each row:
 *
 *   {"attnbench_results": 1, "runs": [
 *   {"environment": {...}, "rows": [
 *   {"suite": "seqlen", "method": "mita", ..., "samples": [{"ms": 4.31,
 *    "sm_mhz": 1980, "power_w": 612.5, "throttled": false}, ...]},
 *   ...
 *   ]}
 *   ]}
 *
 * A later run (--resume) appends its own entry to "runs"; --force starts
 * it afresh, and without either a document there is refused. A file that
 * is not such a document, or was cut short, is refused with a message. */
#ifndef HARNESS_RESULTS_JSON_H
#define HARNESS_RESULTS_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "core/point.h"
#include "results/csv.h"
#include "results/run_file.h"

struct json_writer {
    FILE *f;
    char path[512];
    int rows;                  /* rows of this run written */
};

/* Opens `path` for this run, under a lock as the results file and in the
 * same `mode` (results/run_file.h): a new or empty file gets the document;
 * one that holds a document gets a new entry in "runs" with
 * RUN_FILE_RESUME, is started afresh with RUN_FILE_FORCE and refused with
 * RUN_FILE_NEW. `argv` is the command line. 0, or -1 with a message. */
int json_writer_open(struct json_writer *w, const char *path, enum run_file_mode mode, int argc,
                     char **argv, char *err, size_t err_len);
/* Appends one row; the file is a whole document after it. 0 or -1. */
int json_writer_row(struct json_writer *w, const struct result_row *r);
void json_writer_close(struct json_writer *w);

/* Reads such a document as a table of every run's rows, as csv_read() reads
 * a CSV (results/csv.h): a column per key of the rows, cells as text ("" for
 * null), the samples' "ms" joined by ';' into samples_ms. 0, or -1 with
 * "PATH: byte N: what" in `err`. */
int json_read_table(const char *path, struct csv_table *t, char *err, size_t err_len);

/* A results file of either kind: JSON when it starts with '{', else CSV;
 * one written before the inputs and gather axes gets their columns
 * (csv_table_add_absent_axes). */
int results_table_read(const char *path, struct csv_table *t, char *err, size_t err_len);

#endif
