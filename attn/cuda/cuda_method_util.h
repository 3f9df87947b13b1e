/* cuda_method_util.h — what the CUDA methods' host code shares. */
#ifndef ATTN_CUDA_METHOD_UTIL_H
#define ATTN_CUDA_METHOD_UTIL_H

#include "attn.h"

/* attn_validate_common, then the CUDA backend's own limits: d ∈ {64, 128}.
 * NULL or a message in `why`. */
const char *cuda_validate(const struct attn_method *m, const struct attn_problem *p,
                          const struct attn_params *a, char *why, size_t why_len);

/* topk's and mita's selections keep their candidates in shared memory:
 * NULL when `value`, the size of a selection (parameter `name`: k, s_r),
 * is at most `max` (topk_select_max_k at head dimension d on sm_90), else
 * a message in `why`. */
const char *cuda_validate_selection_size(const char *name, int64_t value, int64_t max, int d,
                                         char *why, size_t why_len);

/* Carves aligned pieces out of the harness-allocated workspace, in order.
 * Methods compute their workspace_bytes with the same calls on a NULL base,
 * so that the size and the layout cannot disagree:
 *     struct workspace_carver c = {base, 0};
 *     float *scores = workspace_take(&c, n * sizeof(float));
 *     ... c.used is the total. */
struct workspace_carver {
    char *base;     /* NULL while only measuring */
    size_t used;
};
void *workspace_take(struct workspace_carver *c, size_t bytes);

#endif
