/* steps_csv.h — the per-kernel file of a profiled run (run --profile,
 * measure/profile.h): where each step's kernels spent their time and bytes. */
#ifndef HARNESS_RESULTS_STEPS_CSV_H
#define HARNESS_RESULTS_STEPS_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "core/point.h"
#include "results/run_file.h"

/* `<out>.steps.csv`, next to the results file `out` (a trailing ".csv" of
 * `out` is dropped first): one header, then a row per (step, kernel) of each
 * profiled point, each row written whole (one write(2)).
 *   suite, the point's key columns (method, variant, backend, every axis),
 *   step,kernel,launches,dram_read_bytes,dram_write_bytes,l2_bytes,kernel_ms,flops,
 *   device,git_rev,timestamp,status (those of the point's row) */
struct steps_writer {
    struct run_file file;      /* file.path: the steps file's name */
};

/* Opens for a run's rows, under a lock of its own and in `mode`, as the
 * results file (results/run_file.h); an existing file must carry our
 * header, whatever the mode. 0, or non-zero with a message. */
int steps_writer_open(struct steps_writer *w, const char *out_path, enum run_file_mode mode,
                      FILE *log, char *err, size_t err_len);
/* The rows of one result row (none when it has no counters). 0 or -1. */
int steps_writer_rows(struct steps_writer *w, const struct result_row *r);
void steps_writer_close(struct steps_writer *w);

#endif
