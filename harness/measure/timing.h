/* timing.h — the measurement rules, in one place: how the samples of a
 * point are taken (docs/measurement.md).
 *
 *   1. warm-up: `warmup` untimed runs, then the device is waited for;
 *   2. samples: `samples` timed runs, through Google Benchmark with manual
 *      timing (gbench_shim.h); before each, the device's last-level cache
 *      is flushed when `cold` (every GPU point: cold-L2 figures). The
 *      backend times one run: CUDA events around it on the GPU, a monotonic
 *      clock on the CPU (backend.h);
 *   3. the device is waited for again, so that an asynchronous error is
 *      this point's.
 *
 * How many samples a point may take is the budget's (budget.h); their
 * statistics are core/stats.h's. A method's run() only launches work: all
 * of the above is here, none of it in the methods.
 */
#ifndef HARNESS_MEASURE_TIMING_H
#define HARNESS_MEASURE_TIMING_H

#include <stddef.h>

#include "measure/backend.h"

struct timing_rules {
    int warmup;    /* untimed runs first */
    int samples;   /* timed runs, 1..STATS_MAX_SAMPLES (core/stats.h) */
    int cold;      /* flush the cache before each timed run */
};

/* The rules for a point on `kind`: the suite's warm-up and samples, cold
 * on the GPU. */
struct timing_rules timing_rules_for(enum attn_backend kind, int warmup, int samples);

/* Takes the samples of one set-up method as benchmark `name`:
 * samples_ms[0..rules->samples). 0, or non-zero with a message. */
int timing_take_samples(const char *name, struct backend *b, const struct attn_method *m,
                        void *state, const struct attn_tensors *t,
                        const struct timing_rules *rules, double *samples_ms, char *why,
                        size_t why_len);

#endif
