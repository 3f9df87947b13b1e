/* table.h — what a sweep prints while it runs: the results table on
 * stdout, a row per point as it is measured, and the progress on stderr.
 * The results file (csv.h) is the record; this is for the person watching. */
#ifndef HARNESS_RESULTS_TABLE_H
#define HARNESS_RESULTS_TABLE_H

#include <stdio.h>

#include "core/point.h"

void table_print_header(FILE *f);
void table_print_row(FILE *f, const struct result_row *r);

/* "[3/18] mita/shared N=4096: ok  (elapsed 0:12, ~0:40 left)": point i of
 * n, from the time the `measured` points took so far. */
void table_print_progress(FILE *f, long i, long n, const struct result_row *r, double elapsed,
                          long measured, long remaining);

#endif
