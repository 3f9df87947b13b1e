/* point.h — what every part of the harness shares: a sweep point (what one
 * results row measures) and the result row itself. Below everything else in
 * harness/: it includes only attn.h. */
#ifndef HARNESS_CORE_POINT_H
#define HARNESS_CORE_POINT_H

#include "attn.h"
#include "core/stats.h"

/* The longest name of a suite, a method or a variant, with its NUL. */
#define SUITE_NAME_LEN 64
_Static_assert(SUITE_NAME_LEN > ATTN_NAME_MAX, "a method's names must fit a point's fields");

/* The longest value of a text axis (core/axes.h), with its NUL: an inputs
 * file's `file:PATH`. */
#define POINT_TEXT_LEN 256

/* One sweep point: a method and variant at one value of every axis
 * (core/axes.h). Text values live in the point itself, so that a point is
 * whole as bytes (a worker's request, a row sent back). */
struct sweep_point {
    char method[SUITE_NAME_LEN];
    char variant[SUITE_NAME_LEN];   /* "" = the method's default */
    struct attn_problem problem;
    struct attn_params params;      /* params.variant and params.gather are NULL: use
                                       point_params() */
    unsigned uses;                  /* the method's enum attn_uses bits, once known;
                                       parameters it does not use are written as
                                       empty CSV cells */
    char inputs[POINT_TEXT_LEN];    /* what Q, K, V hold (inputs/inputs.h); "" = iid */
    char gather[SUITE_NAME_LEN];    /* mita's gather version; "" = fused */
};

/* The parameters a method is given for the point: its params with the
 * variant and the gather version (NULL for the defaults) pointing into it. */
static inline struct attn_params point_params(const struct sweep_point *p)
{
    struct attn_params a = p->params;
    a.variant = p->variant[0] ? p->variant : NULL;
    a.gather = p->gather[0] ? p->gather : NULL;
    return a;
}

/* One (step, kernel) pair of a profiled point: a row of `<out>.steps.csv`
 * (measure/profile.h). */
struct profile_step {
    char step[32];             /* the attn_step_begin() name open at the launches, "" if none */
    char kernel[96];
    int launches;
    double dram_read_bytes, dram_write_bytes, l2_bytes, kernel_ms;
    double flops;              /* NAN where the GPU has no FLOP counters */
};
#define RESULT_MAX_STEPS 48

/* The result of one sweep point: a row of the results file
 * (results/csv.h). Times are per run() call. */
struct result_row {
    char suite[SUITE_NAME_LEN];
    struct sweep_point point;
    char device[128];          /* "NVIDIA H100 80GB HBM3", "cpu: <model> (2 threads)" */
    char driver[32];           /* CUDA driver version, "" on the CPU */
    char runtime[32];          /* CUDA runtime version, "" on the CPU */
    int sm_clock_mhz;          /* 0 when unknown */
    int reps;                  /* samples taken */
    double ms_median, ms_min, ms_max, ms_stddev, ms_p10, ms_p90;
    double flops_model, bytes_model;
    double tflops, gbps;       /* from the models and ms_median */
    char status[256];          /* "ok", "oom", "skipped:budget", "invalid:...", "error:...",
                                  "timeout", "wrong:..." (timed, then failed --verify) */
    char git_rev[48];
    char timestamp[32];        /* UTC, ISO 8601 */
    char samples_ms[2048];     /* every sample, ';'-separated, for `compare` */
    char suite_hash[17];       /* fingerprint of the resolved suite (sweep/shard.h), for `merge` */
    char shard[24];            /* "I/N": the shard that measured the point; "1/1" unsharded */
    /* The profiling pass (run --profile, measure/profile.h), one run() under
     * the hardware counters. The flags say which of these have a value; the
     * note says why the others have none. */
    int has_counters, has_flops_measured, has_intensity, has_roof;
    double dram_read_bytes, dram_write_bytes, l2_bytes; /* summed over the run's kernels */
    double kernel_ms;          /* the kernels' summed durations under the profiler */
    double flops_measured;     /* tensor fp16 + bf16 and fp32 FLOPs the GPU counted */
    double gather_dram_bytes;  /* DRAM read + written by the gather step's kernels */
    double intensity;          /* FLOPs over DRAM bytes read + written */
    double roof_fraction;      /* achieved over min(peak, intensity x DRAM bandwidth) */
    double achieved_tflops;    /* FLOPs (measured, else the model's) over ms_median */
    char profile_note[384];
    int step_count;
    struct profile_step steps[RESULT_MAX_STEPS];
    /* How the samples were taken, and what the GPU did meanwhile
     * (measure/timing.h, measure/nvml.h). */
    char timing[8];            /* "events", "graph" */
    int replicas;              /* forwards per sample (graph), else 1 */
    double noise_pct;          /* the median's precision reached; INFINITY below 6 samples */
    char stop_reason[16];      /* "budget", "max-samples", "noise", "time" */
    int has_readings;          /* NVML read every kept sample: the next four have values */
    double sm_clock_median_mhz, mem_clock_median_mhz, power_median_w, temp_max_c;
    int throttled_samples;     /* kept samples taken while the GPU throttled */
    int discarded_samples;     /* throttled samples left out (--discard-throttled) */
    double energy_j;           /* per forward; NAN when unknown */
    int energy_from_counter;   /* else the median power times the median time */
    double tflops_per_w;       /* FLOP model over energy_j; NAN when unknown */
    char gpu_note[160];        /* why readings or energy are missing, or "" */
    /* run --verify (measure/verify.h): "" when not asked (or the point was not
     * timed), "ok", "wrong" (the status says why), "none:<why>" (the method
     * computes no definition), "oom:<why>" (the check ran out of host
     * memory) or "error" (the status says why). */
    char verify[224];
    double verify_error;       /* over the sampled rows; NAN when not measured */
    double verify_s;           /* the check's wall time */
    /* What MiTA selected, after the timed samples (measure/selection_stats.h);
     * for MiTA rows only. */
    int has_selection_stats;
    double route_imbalance, expert_overlap;
    /* The kernels one forward launched, in order (measure/kernel_list.h);
     * "" on the CPU, or where CUPTI cannot log launches. */
    char kernels[1024];
    /* Each kept sample, for the JSON file: ms, and its reading. */
    double sample_ms[STATS_MAX_SAMPLES];
    float sample_sm_mhz[STATS_MAX_SAMPLES], sample_power_w[STATS_MAX_SAMPLES];
    unsigned char sample_throttled[STATS_MAX_SAMPLES];
};

#endif
