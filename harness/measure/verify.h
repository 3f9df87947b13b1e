/* verify.h — `run --verify`: after a point's timed samples, its output
 * against the double reference of the definition its method computes
 * (attn.h's `computes`), at the size measured (docs/correctness.md,
 * "run --verify").
 *
 * Every head is checked, on VERIFY_ROWS_PER_HEAD query rows spread over N.
 * The work goes head by head, so that nothing larger than one head's
 * tensors is ever held in double: that head's Q, K, V and O are copied back
 * from the backend's buffers (what the method read and wrote), the
 * reference computes the sampled rows of that head (everything they depend
 * on whole: linear's sums, the agents, the landmarks, pinv(M), MiTA's
 * experts and V̂), and the error is summed over the sampled rows of all
 * heads. topk and mita are checked in two parts: the selection they
 * exported is valid, then the output matches the reference given that
 * selection. */
#ifndef HARNESS_MEASURE_VERIFY_H
#define HARNESS_MEASURE_VERIFY_H

#include <stdint.h>

#include "measure/backend.h"

enum { VERIFY_ROWS_PER_HEAD = 32 };

enum verify_outcome {
    VERIFY_OK,      /* the sampled rows are within the dtype's bound */
    VERIFY_WRONG,   /* beyond it, not finite, or an invalid selection */
    VERIFY_NONE,    /* nothing to hold the method to: it computes no definition */
    VERIFY_OOM,     /* the check needed more host memory than there is */
    VERIFY_ERROR,   /* the check failed: a copy back, the method's export */
};

struct verify_result {
    enum verify_outcome outcome;
    double error;          /* ‖out − ref‖/‖ref‖ over the sampled rows; NAN when not
                              measured, INFINITY when an element is not finite */
    double seconds;        /* the check's wall time */
    char detail[200];      /* what went wrong, or why there is nothing to check; "" */
};

/* The query rows checked in each head: min(N, want) rows of [0, N) in
 * increasing order, the first (0) and the last (N - 1) among them, the
 * others spread evenly between. Writes them to `out` and returns the
 * count. */
int64_t verify_sample_rows(int64_t N, int64_t want, int64_t *out);

/* Checks the output `t->o` of method `m`, which has just run (p, a) with
 * `state` on backend `b` (a's variant is the point's). Touches neither the
 * inputs nor the output; every byte it allocates is released before it
 * returns. */
void verify_output(const struct attn_method *m, void *state, const struct attn_problem *p,
                   const struct attn_params *a, struct backend *b, const struct attn_tensors *t,
                   struct verify_result *res);

#endif
