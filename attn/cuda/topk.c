/* topk.c — per-query exact top-k attention on the GPU: S_i = q_i Kᵀ s,
 * T_i = topk(S_i, k), o_i = softmax(S_i[T_i]) V[T_i].
 *
 * Two launches: topk_select (kernels/topk_select.h) streams key tiles past
 * every query tile and keeps each query's k best keys above a sampled floor,
 * a threshold selection (fp32 scores, tensor cores for bf16/fp16), writing
 * the indices [B,H,N,k] to the workspace; then the attention over each
 * query's own keys (gathered_attend_own_keys, kernels/gathered_attention.h).
 * Memory: the indices (N·k int32 per head, kept for export_selection) and
 * the candidate buffers of the resident blocks; never O(N²).
 */
#include <math.h>

#include <cuda_runtime.h>

#include "attn/attn_nvtx.h"
#include "attn/cuda/cuda_method.h"
#include "attn/cuda/cuda_methods.h"
#include "kernels/cuda_check.h"
#include "kernels/gathered_attention.h"
#include "kernels/topk_select.h"
#include "attn/methods.h"

struct topk_state {
    struct attn_problem p;
    int64_t k;
    int32_t *keys;  /* [B,H,N,k] */
    void *scratch;  /* topk_select's */
    int has_run;
};

struct topk_buffers {
    int32_t *keys;
    void *scratch;
};

static void topk_carve(const struct attn_problem *p, const struct attn_params *a,
                       struct workspace_carver *c, struct topk_buffers *b)
{
    const int heads = p->B * p->H;
    b->keys = workspace_take(c, (size_t)heads * (size_t)p->N * (size_t)a->k * sizeof(int32_t));
    b->scratch = workspace_take(c, topk_select_scratch_bytes(heads, p->N, p->N, p->d, p->dtype,
                                                             p->dtype, a->k));
}

static const char *topk_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    const char *bad = cuda_validate(&attn_cuda_topk, p, a, why, why_len);
    if (bad) return bad;
    bad = attn_validate_int32_indices(p, why, why_len);
    if (bad) return bad;
    const int64_t max_k = topk_select_max_k(p->d, p->dtype, p->dtype, 0,
                                              TOPK_SELECT_SMEM_OPTIN_SM90);
    return cuda_validate_selection_size("k", a->k, max_k, p->d, why, why_len);
}

static size_t topk_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct workspace_carver c = {NULL, 0};
    struct topk_buffers b;
    topk_carve(p, a, &c, &b);
    return c.used;
}

static int topk_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                      void *workspace, char *why, size_t why_len)
{
    (void)why, (void)why_len;
    struct topk_state *st = state;
    struct workspace_carver c = {workspace, 0};
    struct topk_buffers b;
    topk_carve(p, a, &c, &b);
    st->p = *p;
    st->k = a->k;
    st->keys = b.keys;
    st->scratch = b.scratch;
    return 0;
}

static cudaError_t topk_launch(const struct topk_state *st, const struct attn_tensors *t,
                               cudaStream_t stream)
{
    const struct attn_problem *p = &st->p;
    const int heads = p->B * p->H;
    /* Two steps (docs/methods.md, "Step names"), so that a profile splits the selection's
     * time from the attention's. */
    attn_step_begin("select");
    cudaError_t err = topk_select(t->q, p->dtype, t->k, p->dtype, heads, p->N, p->N, p->d, st->k,
                                  st->scratch, st->keys, stream);
    attn_step_end();
    if (err != cudaSuccess) return err;
    attn_step_begin("attend");
    err = gathered_attend_own_keys(t->q, t->k, t->v, p->dtype, heads, p->N, p->d, st->keys, st->k,
                                   1.0f / sqrtf((float)p->d), t->o, stream);
    attn_step_end();
    return err;
}

static int topk_run(void *state, const struct attn_tensors *t, void *stream)
{
    struct topk_state *st = state;
    cudaError_t err = topk_launch(st, t, (cudaStream_t)stream);
    st->has_run = err == cudaSuccess;
    return (int)err;
}

static int topk_export_selection(void *state, struct attn_selection *out)
{
    const struct topk_state *st = state;
    if (!st->has_run || !out->keys) return -1;
    const size_t count = (size_t)st->p.B * st->p.H * (size_t)st->p.N * (size_t)st->k;
    if (cudaDeviceSynchronize() != cudaSuccess) return -1;
    return cudaMemcpy(out->keys, st->keys, count * sizeof(int32_t), cudaMemcpyDeviceToHost) !=
           cudaSuccess;
}

const struct attn_method attn_cuda_topk = {
    ATTN_IDENTITY_TOPK,
    .backend = ATTN_CUDA,
    .state_size = sizeof(struct topk_state),
    .validate = topk_validate,
    .workspace_bytes = topk_workspace_bytes,
    .setup = topk_setup,
    .run = topk_run,
    .export_selection = topk_export_selection,
};
