/* full.c — exact softmax attention, O = softmax(Q Kᵀ s) V, on the GPU.
 *
 *   flash  the fused kernel of kernels/flash_attn.cu: online softmax, tensor
 *          cores for bf16/fp16, O(N) memory, no workspace.
 *   naive  S = s Q Kᵀ (cuBLAS, fp32 out), P = softmax(S) by rows, O = P V
 *          (cuBLAS): the B·H·N² fp32 scores (and P in the dtype, unless fp32,
 *          where P overwrites S) live in the workspace, so a large N asks for
 *          more than the device has and the harness reports `oom`.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attn/cuda/cuda_method.h"
#include "attn/cuda/cuda_methods.h"
#include "kernels/flash_attn.h"
#include "kernels/softmax.h"
#include "attn/work_models.h"

static const char *const full_variants[] = {"flash", "naive", NULL};

struct full_state {
    struct attn_problem p;
    int naive;
    cublasHandle_t handle; /* naive only */
    float *scores;         /* [B,H,N,N] fp32 */
    void *probs;           /* [B,H,N,N] dtype; == scores for fp32 */
    void *cublas_workspace;
};

static int full_is_naive(const struct attn_params *a)
{
    const char *variant = attn_variant_of(&attn_cuda_full, a);
    return variant && strcmp(variant, "naive") == 0;
}

/* The workspace layout, on a NULL base to measure it; flash needs none. */
static size_t full_carve(const struct attn_problem *p, int naive, void *base, struct full_state *st)
{
    struct workspace_carver c = {base, 0};
    if (!naive) return 0;
    size_t elems =
        cuda_size_mul(cuda_size_mul((size_t)p->B * (size_t)p->H, (size_t)p->N), (size_t)p->N);
    st->scores = workspace_take_floats(&c, elems);
    st->probs = workspace_take_dtype(&c, elems, p->dtype, st->scores);
    st->cublas_workspace = workspace_take(&c, CUDA_CUBLAS_WORKSPACE_BYTES);
    return c.used;
}

static const char *full_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    const char *bad = cuda_validate(&attn_cuda_full, p, a, why, why_len);
    if (bad) return bad;
    if (!full_is_naive(a) && !flash_attn_supported(p->d, (int)p->dtype)) {
        snprintf(why, why_len, "d=%d dtype=%s: the flash kernel does not run this combination",
                 p->d, attn_dtype_name(p->dtype));
        return why;
    }
    return NULL;
}

static size_t full_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct full_state measure;
    return full_carve(p, full_is_naive(a), NULL, &measure);
}

static int full_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                      void *workspace, char *why, size_t why_len)
{
    struct full_state *st = state;
    st->p = *p;
    st->naive = full_is_naive(a);
    full_carve(p, st->naive, workspace, st);
    return st->naive ? cuda_cublas_create(&st->handle, why, why_len) : 0;
}

static int full_run(void *state, const struct attn_tensors *t, void *stream)
{
    const struct full_state *st = state;
    const struct attn_problem *p = &st->p;
    const float scale = 1.0f / sqrtf((float)p->d);
    if (!st->naive)
        return (int)flash_attn_forward(t->q, t->k, t->v, t->o, p->B, p->H, p->N, p->d,
                                       (int)p->dtype, scale, (cudaStream_t)stream);
    cudaError_t err = cuda_cublas_bind(st->handle, stream, st->cublas_workspace);
    if (err == cudaSuccess)
        err = softmax_attention(st->handle, t->q, p->N, t->k, t->v, p->N, p->d, (int)p->dtype,
                                scale, t->o, (int)p->dtype, st->scores, st->probs, p->B * p->H,
                                (cudaStream_t)stream);
    return (int)err;
}

static void full_teardown(void *state)
{
    struct full_state *st = state;
    cuda_cublas_destroy(st->handle);
    st->handle = NULL;
}

const struct attn_method attn_cuda_full = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "full",
    .description = "exact softmax attention; flash: fused kernel, naive: N x N scores via cuBLAS",
    .variants = full_variants,
    .backend = ATTN_CUDA,
    .uses = 0,
    .state_size = sizeof(struct full_state),
    .validate = full_validate,
    .workspace_bytes = full_workspace_bytes,
    .setup = full_setup,
    .run = full_run,
    .teardown = full_teardown,
    .flops = attn_flops_full,
    .bytes = attn_bytes_floor,
};
