/* work_models.c — see work_models.h; the formulas are docs/work-models.md's,
 * per head. */
#include "attn/work_models.h"

#include "attn/gathers.h"

static double heads(const struct attn_problem *p) { return (double)p->B * p->H; }

double attn_flops_full(const struct attn_problem *p, const struct attn_params *a)
{
    (void)a;
    return heads(p) * 4.0 * (double)p->N * (double)p->N * p->d;
}

double attn_flops_linear(const struct attn_problem *p, const struct attn_params *a)
{
    (void)a;
    return heads(p) * 4.0 * (double)p->N * p->d * p->d;
}

double attn_flops_agent(const struct attn_problem *p, const struct attn_params *a)
{
    return heads(p) * 8.0 * (double)p->N * (double)a->m * p->d;
}

double attn_flops_nystrom(const struct attn_problem *p, const struct attn_params *a)
{
    const double N = (double)p->N, m = (double)a->m, d = p->d;
    return heads(p) *
           (8.0 * N * m * d + 4.0 * m * m * d + ATTN_NYSTROM_PINV_ITERATIONS * 4.0 * m * m * m);
}

double attn_flops_topk(const struct attn_problem *p, const struct attn_params *a)
{
    const double N = (double)p->N, d = p->d;
    return heads(p) * (2.0 * N * N * d + 4.0 * N * (double)a->k * d);
}

double attn_flops_mita(const struct attn_problem *p, const struct attn_params *a)
{
    const double N = (double)p->N, m = (double)a->m, k = (double)a->k, d = p->d;
    const double probe = 2 * m * N * d, compress = 2 * m * N * d, route = 2 * N * m * d;
    const double attend = 4 * N * (m + a->s_r * k) * d;
    return heads(p) * (probe + compress + route + attend);
}

double attn_bytes_floor(const struct attn_problem *p, const struct attn_params *a)
{
    (void)a;
    return 4.0 * (double)attn_tensor_elems(p) * (double)attn_dtype_size(p->dtype);
}

double attn_bytes_mita(const struct attn_problem *p, const struct attn_params *a)
{
    const double size = (double)attn_dtype_size(p->dtype);
    const double six_passes = 6.0 * (double)attn_tensor_elems(p) * size;
    if (attn_gather_is_fused(a->gather)) return six_passes;
    /* A gather version materializes K_E and V_E (the gather's own floor), and
     * the attention reads them back. */
    const double expert_rows = heads(p) * (double)a->m * (double)a->k;
    return six_passes + attn_bytes_gather(p, a) + expert_rows * 2.0 * p->d * size;
}

double attn_flops_gather(const struct attn_problem *p, const struct attn_params *a)
{
    (void)p, (void)a;
    return 0.0;
}

double attn_bytes_gather(const struct attn_problem *p, const struct attn_params *a)
{
    const double rows = heads(p) * (double)a->m * (double)a->k;
    return rows * (4.0 * p->d * (double)attn_dtype_size(p->dtype) + 4.0);
}
