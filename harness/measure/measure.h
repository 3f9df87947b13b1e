/* measure.h — one sweep point, measured in this process: allocate, fill,
 * warm up, time through Google Benchmark, summarize. */
#ifndef HARNESS_MEASURE_H
#define HARNESS_MEASURE_H

#include "measure/backend.h"
#include "measure/ceilings.h"
#include "results/csv.h"

#define MEASURE_MAX_SAMPLES 200

struct measure_options {
    int reps;              /* timed samples, 1..MEASURE_MAX_SAMPLES */
    int warmup;            /* untimed runs first */
    int flush_l2;          /* cold-cache samples (GPU) */
    int profile;           /* then one run under the hardware counters (profile.h) */
    const struct ceilings *ceilings; /* the roofs of the roofline columns; NULL: none */
};

/* Fills everything in `row` but `suite`: the device description, the work
 * models, the statistics and the status ("ok", "oom", "invalid:...",
 * "error:..."). Never fails otherwise: a point that cannot run is a row that
 * says why. `device` is the backend's description, read once per process. */
void measure_point(const struct sweep_point *pt, struct backend *b,
                   const struct device_info *device, const struct measure_options *opt,
                   struct result_row *row);

/* Summary statistics of n samples (n >= 1): median, min, max, sample
 * standard deviation, 10th and 90th percentiles (linear interpolation). */
struct sample_stats {
    double median, min, max, stddev, p10, p90;
};
void sample_stats_compute(const double *samples, int n, struct sample_stats *out);

#endif
