/* csv.h — the results file: one header, one row per sweep point, each row
 * written and flushed as soon as its point is measured, so that a killed
 * sweep keeps every row it had. RFC 4180 quoting (a field with a comma, a
 * quote or a newline is quoted, quotes doubled).
 *
 * The columns (README.md, "CSV columns") are CSV_COLUMNS below, in order.
 */
#ifndef HARNESS_CSV_H
#define HARNESS_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "sweep/suite.h"

/* One (step, kernel) pair of a profiled point: a row of `<out>.steps.csv`
 * (profile.h). */
struct profile_step {
    char step[32];             /* the attn_step_begin() name open at the launches, "" if none */
    char kernel[96];
    int launches;
    double dram_read_bytes, dram_write_bytes, l2_bytes, kernel_ms;
    double flops;              /* NAN where the GPU has no FLOP counters */
};
#define RESULT_MAX_STEPS 48

/* The result of one sweep point. Times are per run() call. */
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
    char status[256];          /* "ok", "oom", "skipped:budget", "invalid:...", "error:..." */
    char git_rev[48];
    char timestamp[32];        /* UTC, ISO 8601 */
    char samples_ms[2048];     /* every sample, ';'-separated, for `compare` */
    char suite_hash[17];       /* fingerprint of the resolved suite (shard.h), for `merge` */
    char shard[24];            /* "I/N": the shard that measured the point; "1/1" unsharded */
    /* The profiling pass (run --profile, profile.h), one run() under the
     * hardware counters. The flags say which of these have a value; the
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
};

/* Column names, in file order. NULL-terminated. */
extern const char *const CSV_COLUMNS[];

struct csv_writer {
    FILE *f;
    char path[512];
};

/* Open `path` for appending rows. A new or empty file gets the header. An
 * existing file must start with exactly our header (else an error naming the
 * file and the first differing column: we never append to a foreign file).
 * Returns 0, or non-zero with a message. */
int csv_writer_open(struct csv_writer *w, const char *path, char *err, size_t err_len);
/* Write one row and flush it to the operating system. 0 or non-zero. */
int csv_writer_row(struct csv_writer *w, const struct result_row *r);
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
void csv_table_free(struct csv_table *t);
/* Column index by name, or -1. */
int csv_column(const struct csv_table *t, const char *name);

/* A key that identifies a sweep point (method, variant, backend, dtype, B,
 * H, N, d, m, k, s_r, shared_scale): equal keys mean the same point. */
void csv_point_key(const struct sweep_point *p, char *key, size_t key_len);
/* The same key computed from row `r` of a table written by csv_writer.
 * Non-zero when a column is missing. */
int csv_row_key(const struct csv_table *t, long r, char *key, size_t key_len);

#endif
