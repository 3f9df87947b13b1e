/* suite.h — sweep definitions: the `.suite` file format, command-line axis
 * overrides and the expansion of axes into sweep points.
 *
 * A suite file is line based (README.md, "Suite files"):
 *
 *     # comment to end of line; blank lines are ignored
 *     name     seqlen
 *     describe N from 2^10 to 2^20 for every method
 *     methods  full:flash full:naive linear agent nystrom topk mita mita:route_only
 *     seqlen   2^10..2^20           # doubling range; or a list: 1024,4096 or 1024 4096
 *     B 1
 *     H 8
 *     d 64
 *     dtype bf16
 *     m 64
 *     k 64
 *     s_r 1
 *     shared_scale official
 *     inputs iid clustered          # iid, clustered, image, rising, file:PATH
 *     gather fused                  # mita's gather version
 *     backend cuda
 *     reps 10
 *     warmup 3
 *     budget 30                     # seconds per point; larger N of that series skipped
 *     timeout 600                   # seconds a point may run before its worker is killed
 *     seed 1
 *
 *     zip seqlen+B H+d              # these axes take their i-th values together
 *
 * Every axis (methods, seqlen, B, H, d, dtype, m, k, s_r, shared_scale, inputs,
 * gather) takes a list; the suite is the cartesian product, except that the
 * axes of a `zip` group (equal numbers of values) count as one axis whose
 * i-th value is each one's i-th. Settings (name, describe,
 * backend, reps, warmup, budget, timeout, seed, and the stopping rule's
 * max_noise, min_samples, max_samples, min_time, timing) take one value;
 * `zip` takes its groups. Unknown keys,
 * bad numbers, empty lists and repeated keys are errors that name file:line;
 * a suite without a `methods` line (an empty file too) is an error that
 * names the file.
 */
#ifndef HARNESS_SUITE_H
#define HARNESS_SUITE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "attn.h"
#include "core/axes.h"
#include "core/point.h"
#include "measure/timing.h"

#define SUITE_MAX_VALUES 64

/* One entry of the `methods` list: a method name and an optional variant
 * ("" means the method's default). With `name:variant@axis=v+v` the method
 * runs only where the axis takes one of those values (a version that runs one
 * head dimension, in a suite that zips several), instead of rows `invalid:` at
 * the others. */
struct suite_method {
    char name[SUITE_NAME_LEN];
    char variant[SUITE_NAME_LEN];
    int only_set;                   /* 0: every point of the suite */
    int only_axis;                  /* enum axis_id, when only_set */
    int64_t only[SUITE_MAX_VALUES]; /* the axis's values it runs at */
    int only_count;
};

/* The values listed for one axis, in the order given. Named axes (dtype)
 * hold the index of each name, text axes (inputs) that of each word
 * (core/axes.h). */
struct suite_values {
    int64_t values[SUITE_MAX_VALUES];
    int count;
};

struct suite {
    char name[SUITE_NAME_LEN];
    char description[256];
    char path[512];                 /* where it was read from ("" if from text) */

    struct suite_method methods[SUITE_MAX_VALUES];
    int method_count;
    struct suite_values axes[AXIS_COUNT]; /* by enum axis_id */

    enum attn_backend backend;
    int backend_set;                /* 0: the harness picks (cuda if a GPU is present) */
    int reps, warmup;
    double budget_s;                /* <= 0: no budget */
    double timeout_s;               /* seconds a point may run in its worker; 0: none */
    uint64_t seed;
    /* The stopping rule and the timing (measure/timing.h). */
    double max_noise_pct;           /* 0: no noise target */
    int min_samples, max_samples;
    double min_time_s;
    enum timing_mode timing;
    /* `zip`: zip[a] is axis a's group (1, 2, ...), 0 when not zipped. */
    int zip[AXIS_COUNT];
    int verify;                     /* `verify yes`: as run --verify (measure/verify.h) */
};

/* The defaults a suite starts from (also what `attnbench run` uses with no
 * suite): B=1 H=8 d=64 fp32, m=k=64, s_r=1, official scale, iid inputs,
 * fused gather, reps=10,
 * warmup=2, no budget, no timeout, seed=1, all six methods, seqlen
 * 2^10..2^12; named "default". */
void suite_init_defaults(struct suite *s);

/* Parse a suite from a file / from text. On error returns non-zero and writes
 * "PATH:LINE: what is wrong" into `err`. `s` is reset to the defaults first. */
int suite_parse_file(const char *path, struct suite *s, char *err, size_t err_len);
int suite_parse_text(const char *text, const char *origin, struct suite *s, char *err,
                     size_t err_len);

/* Replace one axis or setting from the command line, e.g. ("seqlen",
 * "2^10..2^14"), ("methods", "full,mita"), ("dtype", "bf16"). Same value
 * syntax as the file. Non-zero with a message on error. */
int suite_set(struct suite *s, const char *key, const char *value, char *err, size_t err_len);

/* The suite key that a command-line flag sets ("--seqlen": "seqlen";
 * "--s-r" and "--s_r": "s_r"): the methods, every axis and every setting but
 * the name and description. NULL for any other flag. */
const char *suite_flag_key(const char *flag);

/* Parse an integer list: "64", "64,128", "64 128", "2^10..2^14" (doubling),
 * "1024..8192". Values must be >= 1. */
int suite_parse_int_list(const char *text, struct suite_values *out, char *err, size_t err_len);

/* Writes the suite as a suite file that parses back to the same suite (the
 * backend only when it was set). */
void suite_write(FILE *f, const struct suite *s);

/* 0 when the suite can be expanded, else non-zero with a message: zipped
 * axes with different numbers of values. suite_parse_* check it; a caller
 * that overrides keys (suite_set) checks it after the last. */
int suite_check(const struct suite *s, char *err, size_t err_len);

/* Expand into points: methods outermost, seqlen innermost, so that each
 * (method, shape) series runs N in ascending order; axes zipped together
 * take their i-th values together (one counter digit). The caller frees
 * *points. Returns the count, or -1 when out of memory. */
long suite_expand(const struct suite *s, struct sweep_point **points);

/* Locate a suite by name or path: an existing path is used as is; else
 * NAME.suite is looked up in $ATTNBENCH_SUITES, then in the suites/ folder of
 * the source tree. Returns 0 and fills `path`, or -1. */
int suite_find(const char *name_or_path, char *path, size_t path_len);

#endif
