/* cuda_shared.h — what the CUDA full, linear, agent and nystrom share:
 * the cuBLAS handle of the methods that run GEMMs (created in setup(), bound
 * to the harness's stream and to a piece of the method's workspace in run(),
 * so that cuBLAS allocates no device memory of its own: attn.h), a size
 * product that cannot wrap, and SPEC.md's byte floor. */
#ifndef ATTN_CUDA_SHARED_H
#define ATTN_CUDA_SHARED_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "attn.h"
#include "attn/cuda/cuda_method_util.h"
#include "kernels/cuda_check.h"
#include "kernels/gemm.h"
#include "kernels/softmax.h"

/* cuBLAS's workspace: NVIDIA's recommendation for Hopper (split-K GEMMs
 * such as the m×d = (m×N)(N×d) products of agent and nystrom use it). */
enum { CUDA_CUBLAS_WORKSPACE_BYTES = 32 << 20 };

/* 0, or non-zero with a message in `why`. */
static inline int cuda_cublas_create(cublasHandle_t *handle, char *why, size_t why_len)
{
    cublasStatus_t s = cublasCreate(handle);
    if (s != CUBLAS_STATUS_SUCCESS) {
        *handle = NULL;
        snprintf(why, why_len, "cublasCreate: %s", cublasGetStatusString(s));
        return (int)gemm_status_to_cuda(s);
    }
    return 0;
}

/* cublasSetStream resets the workspace to cuBLAS's own pool, hence both,
 * in this order, before every run. */
static inline cudaError_t cuda_cublas_bind(cublasHandle_t handle, void *stream, void *workspace)
{
    cublasStatus_t s = cublasSetStream(handle, (cudaStream_t)stream);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasSetWorkspace(handle, workspace, CUDA_CUBLAS_WORKSPACE_BYTES);
    return gemm_status_to_cuda(s);
}

static inline void cuda_cublas_destroy(cublasHandle_t handle)
{
    if (handle) cublasDestroy(handle);
}

/* x·y, saturating at SIZE_MAX/8: a workspace of a few such pieces still
 * sums without wrapping, so a shape too large for the device asks for an
 * impossible size and fails at the harness's cudaMalloc (`oom`). */
static inline size_t cuda_size_mul(size_t x, size_t y)
{
    const size_t cap = SIZE_MAX / 8;
    if (x != 0 && y > cap / x) return cap;
    return x * y;
}

/* `n` floats of the workspace. */
static inline float *workspace_take_floats(struct workspace_carver *c, size_t n)
{
    return workspace_take(c, cuda_size_mul(n, sizeof(float)));
}

/* `n` elements of `dtype`; for fp32 the fp32 buffer `fp32_twin` itself, so
 * that a value kept in fp32 and rounded to the dtype is stored once. */
static inline void *workspace_take_dtype(struct workspace_carver *c, size_t n,
                                         enum attn_dtype dtype, void *fp32_twin)
{
    if (dtype == ATTN_FP32) return fp32_twin;
    return workspace_take(c, cuda_size_mul(n, attn_dtype_size(dtype)));
}

/* One softmax attention step of agent or nystrom, softmax(s q kᵀ) v over
 * B·H problems of nq queries and nk keys, and how it runs: fused in one
 * tensor-core kernel for bf16/fp16 (kernels/softmax.cu), else through
 * materialized fp32 scores and cuBLAS. The steps of a method run one after
 * the other and share one piece of the workspace, sized for the largest. */
struct cuda_attention_step {
    int64_t nq, nk;
    int out_dtype;
};
struct cuda_attention {
    int fused;
    void *fused_workspace; /* fused: the partial results of split keys */
    float *scores;         /* materialized: [B·H, nq, nk] fp32 */
    void *probs;           /* the same in the dtype; == scores for fp32 */
};

static inline void cuda_attention_carve(struct workspace_carver *c, const struct attn_problem *p,
                                        const struct cuda_attention_step *steps, int n_steps,
                                        struct cuda_attention *at)
{
    const int bh = p->B * p->H;
    size_t most = 0;
    at->fused = softmax_attention_fused_supported(p->d, (int)p->dtype);
    for (int i = 0; i < n_steps; i++) {
        size_t need = at->fused ? softmax_attention_fused_workspace_bytes(steps[i].nq, steps[i].nk,
                                                                          p->d, (int)p->dtype,
                                                                          steps[i].out_dtype, bh)
                                : cuda_size_mul(cuda_size_mul((size_t)bh, (size_t)steps[i].nq),
                                                (size_t)steps[i].nk);
        if (need > most) most = need;
    }
    at->fused_workspace = at->fused ? workspace_take(c, most) : NULL;
    at->scores = at->fused ? NULL : workspace_take_floats(c, most);
    at->probs = at->fused ? NULL : workspace_take_dtype(c, most, p->dtype, at->scores);
}

/* q: [B·H, nq, d]  k, v: [B·H, nk, d]  out: [B·H, nq, d] in out_dtype.
 * `handle` (bound to `stream`) is used by the materialized path only. */
static inline cudaError_t cuda_attend(const struct cuda_attention *at, cublasHandle_t handle,
                                      const struct attn_problem *p, const void *q, int64_t nq,
                                      const void *k, const void *v, int64_t nk, void *out,
                                      int out_dtype, cudaStream_t stream)
{
    const float scale = 1.0f / sqrtf((float)p->d);
    const int bh = p->B * p->H;
    if (at->fused)
        return softmax_attention_fused(q, nq, k, v, nk, p->d, (int)p->dtype, scale, out, out_dtype,
                                       at->fused_workspace, bh, stream);
    return softmax_attention(handle, q, nq, k, v, nk, p->d, (int)p->dtype, scale, out, out_dtype,
                             at->scores, at->probs, bh, stream);
}

#endif
