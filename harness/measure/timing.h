/* timing.h — the measurement rules, in one place: how the samples of a
 * point are taken and when sampling stops (docs/measurement.md).
 *
 *   1. warm-up: `warmup` untimed runs, then the device is waited for;
 *   2. samples, in rounds through Google Benchmark with manual timing
 *      (gbench_shim.h). A sample is
 *        events: one forward between CUDA events (a monotonic clock on the
 *                CPU), the device's last-level cache flushed before it when
 *                `cold` (every GPU point: cold-L2 figures);
 *        graph:  a CUDA graph of R forwards replayed, over R; R makes a
 *                sample last about TIMING_GRAPH_SAMPLE_MS, so that launch
 *                gaps of short points are not timed; warm L2.
 *      On a GPU, NVML reads the clocks, power, temperature and throttle
 *      reasons after each sample (nvml.h); with `discard_throttled` a
 *      throttled sample is not kept.
 *   3. the stopping rule, after each round, first match wins:
 *        budget       the budget's cap on samples is reached (budget.h);
 *        max-samples  `cap` samples are kept (the suite's reps without a
 *                     noise target or a minimum time, else max_samples);
 *        noise        with a noise target: at least min_samples, min_time
 *                     seconds of samples, and the noise (core/stats.h,
 *                     sample_noise_pct) at most max_noise_pct;
 *        time         with a minimum time and no noise target: at least
 *                     min_samples and min_time seconds of samples;
 *   4. energy per forward: forwards back to back for about
 *      TIMING_ENERGY_S under the GPU's energy counter; without a counter,
 *      the median power times the median time.
 *
 * How many samples the budget allows is budget.h's; the statistics are
 * core/stats.h's. A method's run() only launches work: all of the above is
 * here, none of it in the methods.
 */
#ifndef HARNESS_MEASURE_TIMING_H
#define HARNESS_MEASURE_TIMING_H

#include <stddef.h>

#include "core/stats.h"
#include "measure/backend.h"
#include "measure/nvml.h"

enum timing_mode { TIMING_EVENTS, TIMING_GRAPH, TIMING_MODE_COUNT };
const char *timing_mode_name(int mode); /* "events", "graph" */

enum stop_reason { STOP_BUDGET, STOP_MAX_SAMPLES, STOP_NOISE, STOP_TIME };
const char *stop_reason_name(enum stop_reason r); /* "budget", "max-samples", ... */

enum {
    TIMING_MIN_SAMPLES = 5,      /* the default of min_samples */
    TIMING_GRAPH_SAMPLE_MS = 2,  /* how long a graph sample should last */
    TIMING_GRAPH_MAX_REPLICAS = 1000,
};
#define TIMING_ENERGY_S 0.3

struct timing_rules {
    int warmup;            /* untimed runs first */
    int cap;               /* samples kept at most, 1..STATS_MAX_SAMPLES */
    int capped_by_budget;  /* the cap is the budget's, not the suite's */
    double max_noise_pct;  /* 0: no noise target */
    int min_samples;
    double min_time_s;     /* 0: none */
    int cold;              /* events: flush the cache before each sample */
    enum timing_mode mode;
    int discard_throttled;
};

/* The rules of a suite's settings on backend `kind`, before the budget:
 * cap is `reps`, or max_samples with a noise target or a minimum time. */
struct timing_rules timing_rules_for(enum attn_backend kind, int warmup, int reps,
                                     double max_noise_pct, int min_samples, int max_samples,
                                     double min_time_s, enum timing_mode mode,
                                     int discard_throttled);

/* 1 when the rules stop on a count alone (no noise target, no minimum time). */
int timing_is_fixed(const struct timing_rules *r);

struct timing_result {
    int n;                             /* samples kept */
    double ms[STATS_MAX_SAMPLES];      /* per forward */
    int has_readings;                  /* NVML read every kept sample */
    struct gpu_reading readings[STATS_MAX_SAMPLES];
    int throttled;                     /* kept samples taken while throttled */
    int discarded;                     /* throttled samples left out */
    double noise_pct;
    enum stop_reason stop;
    int replicas;                      /* forwards per sample (graph), else 1 */
    double energy_j;                   /* per forward; NAN when unknown */
    int energy_from_counter;           /* else median power x median time */
    char note[160];                    /* why readings or energy are missing */
};

/* Energy per forward in joules: from the energy counter's millijoules
 * before and after `count` forwards; from the median power (W) and the
 * median time (ms). */
double timing_energy_from_counter(uint64_t mj_before, uint64_t mj_after, double count);
double timing_energy_from_power(double power_w, double ms);

/* Takes the samples of one set-up method as benchmark `name`. 0, or
 * non-zero with a message (a failed run, a method that cannot be captured
 * in a graph, every sample throttled and discarded). */
int timing_take_samples(const char *name, struct backend *b, const struct device_info *device,
                        const struct attn_method *m, void *state,
                        const struct attn_tensors *t, const struct timing_rules *rules,
                        struct timing_result *res, char *why, size_t why_len);

#endif
