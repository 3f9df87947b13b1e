/* cuda_method_util.c — see cuda_method_util.h. */
#include "attn/cuda/cuda_method_util.h"

#include <stdio.h>

const char *cuda_validate(const struct attn_method *m, const struct attn_problem *p,
                          const struct attn_params *a, char *why, size_t why_len)
{
    const char *bad = attn_validate_common(m, p, a, why, why_len);
    if (bad) return bad;
    if (p->d != 64 && p->d != 128) {
        snprintf(why, why_len, "d=%d: the cuda backend supports d = 64 or 128", p->d);
        return why;
    }
    return NULL;
}

const char *cuda_validate_selection_size(const char *name, int64_t value, int64_t max, int d,
                                         char *why, size_t why_len)
{
    if (value <= max) return NULL;
    snprintf(why, why_len, "%s=%lld: the candidate buffers hold at most %s=%lld at d=%d on sm_90",
             name, (long long)value, name, (long long)max, d);
    return why;
}

void *workspace_take(struct workspace_carver *c, size_t bytes)
{
    /* 256-byte alignment: what cudaMalloc gives, enough for any vector load. */
    size_t start = (c->used + 255) & ~(size_t)255;
    c->used = start + bytes;
    return c->base ? c->base + start : NULL;
}
