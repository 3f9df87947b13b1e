/* gather.c — MiTA's step 6 alone, for the `gather` suite: one variant per
 * gather version of the list (attn/gathers.h: the built-in naive,
 * warp_row, vec16, sorted, then those of loaded plugins), and `copy`, the
 * same bytes copied contiguously as this shape's ceiling.
 *
 * Not attention: run() writes nothing to O (the harness's poisoned O stays
 * as it is) and there is no double reference; tests/gpu/test_gather.c checks
 * the outputs bit-exactly against a gather on the CPU. FLOPs 0; bytes the
 * gather's floor (docs/work-models.md, "The gather step"): the rows read,
 * the rows written, the indices.
 *
 * setup() draws the experts once, [B,H,m,k] int32 (gather_expert_key:
 * k distinct keys per expert clustered around its landmark's window, as
 * MiTA's top-k picks), and poisons KE and VE; run() launches the gather
 * alone, so the measured region is the gather.
 *
 * Workspace, in order: the indices, KE and VE ([B,H,m,k,d] in the dtype),
 * the version's scratch (attn_cuda_gather_outputs finds KE and VE there).
 */
#include <stdio.h>
#include <string.h>

#include <cuda_runtime.h>

#include "attn/cuda/cuda_method.h"
#include "attn/cuda/cuda_methods.h"
#include "attn/gathers.h"
#include "kernels/cuda_check.h"
#include "kernels/gather.h"
#include "attn/work_models.h"

struct gather_buffers {
    int32_t *idx;   /* [B,H,m,k] */
    void *ke, *ve;  /* [B,H,m,k,d] */
    void *scratch;
};

struct gather_state {
    struct attn_problem p;
    int64_t m, k;
    const struct attn_gather_version *version;
    struct gather_buffers b;
    int has_run;
};

/* The variant's version (a valid variant: validate() ran); the default
 * (NULL) is the first. */
static const struct attn_gather_version *gather_version_of(const struct attn_params *a)
{
    const char *name = attn_variant_of(&attn_cuda_gather, a);
    return strcmp(name, "copy") == 0 ? &gather_copy : attn_gather_find(name);
}

/* The arguments of one launch; the pointers NULL while only sizing. */
static struct attn_gather_args gather_args_of(const struct attn_problem *p, int64_t m,
                                              int64_t k, const void *K, const void *V,
                                              const struct gather_buffers *b)
{
    return (struct attn_gather_args){K, V, p->dtype, p->B * p->H, p->N, p->d,
                                     b->idx, m, k, b->ke, b->ve, b->scratch};
}

static void gather_carve(const struct attn_problem *p, const struct attn_params *a,
                         struct workspace_carver *c, struct gather_buffers *b)
{
    const int heads = p->B * p->H;
    const size_t rows = cuda_size_mul((size_t)heads, cuda_size_mul(a->m, a->k));
    const size_t row_bytes = (size_t)p->d * attn_dtype_size(p->dtype);
    const struct attn_gather_version *v = gather_version_of(a);
    const struct gather_buffers none = {0};
    const struct attn_gather_args sizes = gather_args_of(p, a->m, a->k, NULL, NULL, &none);
    b->idx = workspace_take(c, cuda_size_mul(rows, sizeof(int32_t)));
    b->ke = workspace_take(c, cuda_size_mul(rows, row_bytes));
    b->ve = workspace_take(c, cuda_size_mul(rows, row_bytes));
    b->scratch = workspace_take(c, v->scratch_bytes ? v->scratch_bytes(&sizes) : 0);
}

static const char *gather_validate(const struct attn_problem *p, const struct attn_params *a,
                                   char *why, size_t why_len)
{
    const char *bad = cuda_validate(&attn_cuda_gather, p, a, why, why_len);
    if (bad) return bad;
    if (p->N > INT32_MAX || (int64_t)p->B * p->H > 65535) {
        snprintf(why, why_len, "N=%lld B·H=%lld: need N <= %d (int32 indices) and B·H <= 65535",
                 (long long)p->N, (long long)p->B * p->H, INT32_MAX);
        return why;
    }
    if (a->m * a->k > INT32_MAX) {
        snprintf(why, why_len, "m=%lld k=%lld: need m·k <= %d rows per head", (long long)a->m,
                 (long long)a->k, INT32_MAX);
        return why;
    }
    return NULL;
}

static size_t gather_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct workspace_carver c = {NULL, 0};
    struct gather_buffers b;
    gather_carve(p, a, &c, &b);
    return c.used;
}

void attn_cuda_gather_outputs(const struct attn_problem *p, const struct attn_params *a,
                              void *workspace, void **ke, void **ve)
{
    struct workspace_carver c = {workspace, 0};
    struct gather_buffers b;
    gather_carve(p, a, &c, &b);
    *ke = b.ke;
    *ve = b.ve;
}

/* The experts' indices, and KE and VE poisoned. Not timed: on the legacy
 * stream, waited for, so that the harness's stream (whatever its flags)
 * sees them. */
static cudaError_t gather_draw_experts(const struct gather_state *st, const struct attn_problem *p)
{
    const size_t out_bytes = (size_t)p->B * p->H * (size_t)st->m * (size_t)st->k * (size_t)p->d *
                             attn_dtype_size(p->dtype);
    CUDA_CHECK(gather_make_indices(st->b.idx, p->B * p->H, p->N, st->m, st->k, p->seed, 0));
    CUDA_CHECK(cudaMemset(st->b.ke, 0xFF, out_bytes));
    CUDA_CHECK(cudaMemset(st->b.ve, 0xFF, out_bytes));
    CUDA_CHECK(cudaDeviceSynchronize());
    return cudaSuccess;
}

static int gather_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                        void *workspace, char *why, size_t why_len)
{
    struct gather_state *st = state;
    struct workspace_carver c = {workspace, 0};
    gather_carve(p, a, &c, &st->b);
    st->p = *p;
    st->m = a->m;
    st->k = a->k;
    st->version = gather_version_of(a);
    cudaError_t err = gather_draw_experts(st, p);
    if (err != cudaSuccess) {
        char cause[512];
        cuda_check_describe(err, cause, sizeof cause);
        snprintf(why, why_len, "drawing the experts' indices: %s", cause);
        return (int)err;
    }
    return 0;
}

static int gather_run_method(void *state, const struct attn_tensors *t, void *stream)
{
    struct gather_state *st = state;
    const struct attn_problem *p = &st->p;
    const struct attn_gather_args args = gather_args_of(p, st->m, st->k, t->k, t->v, &st->b);
    const int err = st->version->launch(&args, stream);
    st->has_run = err == 0;
    return err;
}

/* The experts gathered from, [B,H,m,k]. */
static int gather_export_selection(void *state, struct attn_selection *out)
{
    const struct gather_state *st = state;
    if (!st->has_run || !out->keys) return -1;
    const size_t count = (size_t)st->p.B * st->p.H * (size_t)st->m * (size_t)st->k;
    if (cudaDeviceSynchronize() != cudaSuccess) return -1;
    return cudaMemcpy(out->keys, st->b.idx, count * sizeof(int32_t), cudaMemcpyDeviceToHost) !=
           cudaSuccess;
}

/* The floor of the bytes moved; `copy` reads no indices. */
static double gather_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    const double all = attn_bytes_gather(p, a);
    if (a->variant && strcmp(a->variant, "copy") == 0)
        return all - 4.0 * p->B * p->H * (double)a->m * (double)a->k;
    return all;
}

const struct attn_method attn_cuda_gather = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "gather",
    .description = "MiTA's gather step alone: m·k rows of K and V copied out (not attention)",
    .variants = attn_gather_variants,
    .backend = ATTN_CUDA,
    .uses = ATTN_USES_M | ATTN_USES_K,
    .state_size = sizeof(struct gather_state),
    .validate = gather_validate,
    .workspace_bytes = gather_workspace_bytes,
    .setup = gather_setup,
    .run = gather_run_method,
    .flops = attn_flops_gather,
    .bytes = gather_bytes,
    .export_selection = gather_export_selection,
};
