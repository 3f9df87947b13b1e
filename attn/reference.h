/* reference.h — the double-precision reference of every method of
 * docs/methods.md (docs/correctness.md, "The reference"), written for
 * clarity, not speed: scores are materialized row by row and top-k is a
 * plain selection over the whole row (independent rows are shared among
 * OpenMP threads; the result does not depend on their number). `attnbench check` and the tests
 * compare every backend against it.
 *
 * All tensors are [B,H,N,d] doubles. Selection-based methods (topk, mita)
 * can be handed the selection an implementation made (`given`), so that the
 * output is compared for the same selection (docs/correctness.md,
 * "Selection-based methods"); with `given == NULL` they select themselves,
 * and write what they chose to `chosen` when it is not NULL.
 */
#ifndef ATTN_REFERENCE_H
#define ATTN_REFERENCE_H

#include "attn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs method `name` (variant from params->variant, NULL = default) in double
 * precision. Returns 0, or non-zero with a message (unknown method, invalid
 * shape, out of memory). */
int attn_reference(const char *name, const struct attn_problem *p, const struct attn_params *a,
                   const double *q, const double *k, const double *v, double *o,
                   const struct attn_selection *given, struct attn_selection *chosen,
                   char *why, size_t why_len);

/* As attn_reference, but the output rows (the per-query work of every
 * method) are computed only for the rows i of each head with
 * i % row_step == 0; other output rows are left untouched. Everything the
 * sampled rows depend on (landmarks, experts, V̂, linear's sums, ...) is
 * computed whole. For checks at large N, where the whole reference would
 * take minutes. `chosen` must be NULL unless row_step is 1. */
int attn_reference_sampled(const char *name, const struct attn_problem *p,
                           const struct attn_params *a, const double *q, const double *k,
                           const double *v, double *o, const struct attn_selection *given,
                           struct attn_selection *chosen, int64_t row_step, char *why,
                           size_t why_len);

/* As attn_reference_sampled, for the listed query rows of each head:
 * `rows` holds row_count increasing rows of [0, N), and `o` is
 * [B,H,row_count,d], its row t of a head being query rows[t] of that head.
 * `run --verify` calls it one head at a time (B = H = 1), on that head's
 * slices and selection. */
int attn_reference_rows(const char *name, const struct attn_problem *p,
                        const struct attn_params *a, const double *q, const double *k,
                        const double *v, const int64_t *rows, int64_t row_count, double *o,
                        const struct attn_selection *given, char *why, size_t why_len);

/* 1 when attn_reference knows method `name`, 0 for the methods that are not
 * attention (`gather`: tests/gpu/test_gather.c checks it) or a plugin's. */
int attn_reference_known(const char *name);

/* The variant of definition `name` that a method's `variant` selects: the
 * variant itself when the definition has one of that name (mita's
 * route_only), else NULL, the definition's default: other variants name
 * implementations of one definition (full's flash and naive, a plugin's
 * kernel versions). */
const char *attn_reference_variant(const char *name, const char *variant);

/* 0 when attn_reference runs definition `name` at (p, a), else -1 with the
 * message it would give (an unknown name, a shape out of range). */
int attn_reference_check(const char *name, const struct attn_problem *p,
                         const struct attn_params *a, char *why, size_t why_len);

/* Elements of the keys and routes arrays of a struct attn_selection of
 * definition `name` at (p, a) (attn.h): topk [B,H,N,k] and none; mita
 * [B,H,m,k] and [B,H,N,s_r]; 0 and 0 for a definition that selects
 * nothing. */
void attn_selection_sizes(const char *name, const struct attn_problem *p,
                          const struct attn_params *a, int64_t *keys, int64_t *routes);

/* The selection tolerance for scores of head dimension d: fp32 dot products
 * of d terms differ from double ones by far less than this, a wrong choice
 * by far more (docs/correctness.md, "Selection-based methods"). */
double attn_selection_tolerance(int d);

/* ‖out − ref‖_F / ‖ref‖_F; +INFINITY when `out` holds a NaN or an Inf. */
double attn_rel_error(const double *out, const double *ref, int64_t n);

/* The bound of a dtype (docs/correctness.md, "Error metric and bounds"):
 * fp32 1e-4, fp16 5e-3, bf16 2e-2. */
double attn_error_bound(enum attn_dtype t);

/* Selection validity (docs/correctness.md, "Selection-based methods"):
 * every chosen index is in range and distinct within its set, and every
 * chosen score >= every unchosen score - tol, with scores recomputed in
 * double from the stored inputs.
 *   topk: sel->keys [B,H,N,k] against S_i = q_i·K (the scale does not change
 *         the order);
 *   mita: sel->keys [B,H,m,k] against P_j = q̃_j·K, and sel->routes
 *         [B,H,N,s_r] against R_i = q_i·q̃ (best first).
 * Returns 0, or non-zero with the first offending index in `why`. */
int attn_check_selection(const char *name, const struct attn_problem *p,
                         const struct attn_params *a, const double *q, const double *k,
                         const struct attn_selection *sel, double tol, char *why,
                         size_t why_len);

/* As attn_check_selection, checking topk's per-query sets only for the rows
 * i % row_step == 0 (mita's experts and routes are always checked whole). */
int attn_check_selection_sampled(const char *name, const struct attn_problem *p,
                                 const struct attn_params *a, const double *q, const double *k,
                                 const struct attn_selection *sel, double tol, int64_t row_step,
                                 char *why, size_t why_len);

/* The same for topk's sets of the listed rows (as attn_reference_rows). */
int attn_check_selection_rows(const char *name, const struct attn_problem *p,
                              const struct attn_params *a, const double *q, const double *k,
                              const struct attn_selection *sel, double tol, const int64_t *rows,
                              int64_t row_count, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
#endif
