/* check.h — one method on one backend against the double-precision
 * reference (docs/correctness.md, "attnbench check"): fresh seeded inputs, a
 * poisoned output, every element written, ‖out − ref‖/‖ref‖ under the
 * dtype's bound, and for topk and mita a valid selection with the output
 * compared against the reference computed with that same selection.
 * `attnbench check` and the tests both use it. */
#ifndef HARNESS_CHECK_H
#define HARNESS_CHECK_H

#include "measure/backend.h"
#include "core/point.h"

struct check_result {
    int passed;
    double rel_error, bound;
    int64_t unwritten;         /* output elements left NaN/Inf */
    char message[640];         /* why it failed, or "" */
};

/* Runs `pt` once on backend `b` (already initialized) and checks it
 * against the reference of the definition its method computes (attn.h's
 * `computes`, so a plugin's method too); a method that computes none
 * fails with a message that says so. */
void check_point(const struct sweep_point *pt, struct backend *b, struct check_result *res);

/* 1 when the method's variant runs `dtype` at head dimension d at all (its
 * validate() accepts the plain shape of check_cases): a kernel version made
 * for fp16 and bf16 only, say, is not checked in fp32. */
int check_supports(const struct attn_method *method, const char *variant, enum attn_dtype dtype,
                   int d);

/* The small shapes `attnbench check` runs for a method: awkward ones
 * included (B·H > 1, N not a multiple of m, k = 1, k = N, m = 1, s_r = 2),
 * each on iid inputs, and the plain one on each other generated
 * distribution (clustered, image, rising: docs/inputs.md). Fills up to `max`
 * points for `method` with every variant and dtype given that
 * check_supports(); returns the count: 0 for a method that computes no
 * definition with a reference (`gather`, a plugin's own). */
int check_cases(const struct attn_method *method, const enum attn_dtype *dtypes, int n_dtypes,
                int d, struct sweep_point *out, int max);

/* Above N = 1024 the reference's quadratic work is done for every
 * (N/512)-th query row only, and the error measured on those rows: the
 * whole double reference at N = 2^14 would take minutes per case. The
 * output is still checked whole for unwritten elements. */
int64_t check_row_step(int64_t N);

#endif
