/* nystrom.c — Nyström attention (Xiong et al. 2021) on the GPU:
 * O = F pinv(M) (G V) with Q̃ = landmarks(Q, m), K̃ = landmarks(K, m),
 * F = softmax(Q K̃ᵀ s), M = softmax(Q̃ K̃ᵀ s), G = softmax(Q̃ Kᵀ s).
 * Evaluated right to left so that nothing is larger than m·N per head:
 *   G V          attention of the m landmark queries over all N keys, fp32 out;
 *   Z = pinv(M)  M from the fp32 landmarks, 6 Newton–Schulz steps
 *                (kernels/nystrom_pinv.cu), all fp32;
 *   W = Z (G V)  fp32, rounded to the dtype;
 *   O = F W      attention of the N queries over the m landmark keys.
 * The two attentions are fused tensor-core kernels for bf16/fp16
 * (kernels/softmax.cu) and go through materialized fp32 scores and cuBLAS
 * for fp32, sharing one B·H·m·N-float buffer. Where its windows are long
 * enough, the fused G V takes K̃ on the way (softmax_attention_fused_windows),
 * so that K is read once: five passes over N rows instead of six.
 */
#include <math.h>

#include "attn/cuda/cuda_method.h"
#include "attn/cuda/cuda_methods.h"
#include "kernels/cuda_check.h"
#include "kernels/gemm.h"
#include "kernels/landmarks.h"
#include "kernels/nystrom_pinv.h"
#include "attn/methods.h"
#include "kernels/softmax.h"

struct nystrom_state {
    struct attn_problem p;
    int64_t m;
    cublasHandle_t handle;
    float *landmark_q_fp32, *landmark_k_fp32; /* Q̃, K̃: [B,H,m,d] */
    void *landmark_q, *landmark_k;            /* in the dtype; aliases for fp32 */
    float *gv;                                /* G V: [B,H,m,d] */
    float *mm, *z, *pinv_scratch;             /* M, pinv(M): [B,H,m,m]; the iteration's */
    float *w_fp32;                            /* W = Z G V: [B,H,m,d] */
    void *w;                                  /* W in the dtype; alias for fp32 */
    struct cuda_attention attention;
    void *windows_workspace; /* G V with K̃ on the way; NULL: landmarks(K) first */
    void *cublas_workspace;
};

static size_t nystrom_carve(const struct attn_problem *p, const struct attn_params *a, void *base,
                            struct nystrom_state *st)
{
    struct workspace_carver c = {base, 0};
    const size_t bh = (size_t)p->B * (size_t)p->H;
    const size_t bhm = cuda_size_mul(bh, (size_t)a->m);
    const size_t md = cuda_size_mul(bhm, (size_t)p->d), mm = cuda_size_mul(bhm, (size_t)a->m);
    const struct cuda_attention_step steps[] = {{a->m, p->N, ATTN_FP32},
                                                {p->N, a->m, (int)p->dtype}};
    st->landmark_q_fp32 = workspace_take_floats(&c, md);
    st->landmark_k_fp32 = workspace_take_floats(&c, md);
    st->landmark_q = workspace_take_dtype(&c, md, p->dtype, st->landmark_q_fp32);
    st->landmark_k = workspace_take_dtype(&c, md, p->dtype, st->landmark_k_fp32);
    st->gv = workspace_take_floats(&c, md);
    st->mm = workspace_take_floats(&c, mm);
    st->z = workspace_take_floats(&c, mm);
    st->pinv_scratch = workspace_take_floats(&c, cuda_size_mul(4, mm));
    st->w_fp32 = workspace_take_floats(&c, md);
    st->w = workspace_take_dtype(&c, md, p->dtype, st->w_fp32);
    /* Where the windows path takes G V, the shared attention scratch sizes only the O pass. */
    const size_t windows_bytes =
        softmax_attention_fused_supported(p->d, (int)p->dtype)
            ? softmax_attention_fused_windows_workspace_bytes(a->m, p->N, a->m, p->d,
                                                              (int)p->dtype, ATTN_FP32, (int)bh)
            : 0;
    cuda_attention_carve(&c, p, windows_bytes ? steps + 1 : steps, windows_bytes ? 1 : 2,
                         &st->attention);
    st->windows_workspace = windows_bytes ? workspace_take(&c, windows_bytes) : NULL;
    st->cublas_workspace = workspace_take(&c, CUDA_CUBLAS_WORKSPACE_BYTES);
    return c.used;
}

static const char *nystrom_validate(const struct attn_problem *p, const struct attn_params *a,
                                    char *why, size_t why_len)
{
    return cuda_validate(&attn_cuda_nystrom, p, a, why, why_len);
}

static size_t nystrom_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct nystrom_state measure;
    return nystrom_carve(p, a, NULL, &measure);
}

static int nystrom_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                         void *workspace, char *why, size_t why_len)
{
    struct nystrom_state *st = state;
    st->p = *p;
    st->m = a->m;
    nystrom_carve(p, a, workspace, st);
    return cuda_cublas_create(&st->handle, why, why_len);
}

static cudaError_t nystrom_launch(const struct nystrom_state *st, const struct attn_tensors *t,
                                  cudaStream_t stream)
{
    const struct attn_problem *p = &st->p;
    const int dtype = (int)p->dtype, bh = p->B * p->H, d = p->d;
    const int64_t m = st->m, md = (int64_t)bh * m * d;
    const float scale = 1.0f / sqrtf((float)d);
    CUDA_CHECK(cuda_cublas_bind(st->handle, stream, st->cublas_workspace));
    CUDA_CHECK(landmarks_forward(t->q, dtype, st->landmark_q_fp32, p->B, p->H, p->N, d, m, stream));
    if (dtype != ATTN_FP32)
        CUDA_CHECK(store_fp32_as(st->landmark_q_fp32, st->landmark_q, dtype, md, stream));
    /* G V = softmax(Q̃ Kᵀ s) V, kept in fp32 for the products with pinv(M); K̃ with it where
     * the windows allow, else from landmarks(K) before. */
    if (st->windows_workspace) {
        CUDA_CHECK(softmax_attention_fused_windows(
            st->landmark_q, m, t->k, t->v, p->N, m, d, dtype, scale, st->gv, ATTN_FP32,
            st->landmark_k_fp32, st->landmark_k, st->windows_workspace, bh, stream));
    } else {
        CUDA_CHECK(
            landmarks_forward(t->k, dtype, st->landmark_k_fp32, p->B, p->H, p->N, d, m, stream));
        if (dtype != ATTN_FP32)
            CUDA_CHECK(store_fp32_as(st->landmark_k_fp32, st->landmark_k, dtype, md, stream));
        CUDA_CHECK(cuda_attend(&st->attention, st->handle, p, st->landmark_q, m, t->k, t->v, p->N,
                               st->gv, ATTN_FP32, stream));
    }
    /* M = softmax(Q̃ K̃ᵀ s), in place, and its pseudo-inverse. */
    CUDA_CHECK(gemm_rowmajor_batched(st->handle, 1, m, m, d, scale, st->landmark_q_fp32, d, m * d,
                                     st->landmark_k_fp32, d, m * d, ATTN_FP32, 0.f, st->mm, m,
                                     m * m, ATTN_FP32, bh));
    CUDA_CHECK(softmax_rows(st->mm, m, st->mm, m, ATTN_FP32, (int64_t)bh * m, m, stream));
    CUDA_CHECK(nystrom_pinv(st->handle, st->mm, st->z, st->pinv_scratch, m, bh, stream));
    /* W = pinv(M) (G V) */
    CUDA_CHECK(gemm_rowmajor_batched(st->handle, 0, m, d, m, 1.f, st->z, m, m * m, st->gv, d, m * d,
                                     ATTN_FP32, 0.f, st->w_fp32, d, m * d, ATTN_FP32, bh));
    if (dtype != ATTN_FP32) CUDA_CHECK(store_fp32_as(st->w_fp32, st->w, dtype, md, stream));
    /* O = softmax(Q K̃ᵀ s) W */
    return cuda_attend(&st->attention, st->handle, p, t->q, p->N, st->landmark_k, st->w, m, t->o,
                       dtype, stream);
}

static int nystrom_run(void *state, const struct attn_tensors *t, void *stream)
{
    return (int)nystrom_launch(state, t, (cudaStream_t)stream);
}

static void nystrom_teardown(void *state)
{
    struct nystrom_state *st = state;
    cuda_cublas_destroy(st->handle);
    st->handle = NULL;
}

const struct attn_method attn_cuda_nystrom = {
    ATTN_IDENTITY_NYSTROM,
    .backend = ATTN_CUDA,
    .state_size = sizeof(struct nystrom_state),
    .validate = nystrom_validate,
    .workspace_bytes = nystrom_workspace_bytes,
    .setup = nystrom_setup,
    .run = nystrom_run,
    .teardown = nystrom_teardown,
};
