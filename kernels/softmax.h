/* softmax.h — softmax attention, out = softmax(scale · q kᵀ) v, for
 * full:naive, agent and nystrom: through materialized scores (the row
 * softmax over fp32 scores between two cuBLAS GEMMs), or fused in one
 * tensor-core kernel for bf16/fp16; plus the fp32 → storage-dtype store that
 * feeds GEMMs their operands. The kernels and the index of their versions
 * are in softmax.cu.
 *
 * dtypes are enum attn_dtype values (attn/attn.h). Every function only
 * enqueues work on `stream` and returns the first error met.
 */
#ifndef KERNELS_SOFTMAX_H
#define KERNELS_SOFTMAX_H

#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* scores: [rows, ld_in] fp32  out: [rows, ld_out] in out_dtype.
 * out[r][0..n) = softmax(scores[r][0..n)), in fp32, stored in out_dtype. In
 * place (out == scores) is allowed for an fp32 out with ld_out == ld_in. */
cudaError_t softmax_rows(const float *scores, int64_t ld_in, void *out, int64_t ld_out,
                         int out_dtype, int64_t rows, int64_t n, cudaStream_t stream);

/* src: [count] fp32  dst: [count] in dtype, rounded to nearest even. */
cudaError_t store_fp32_as(const float *src, void *dst, int dtype, int64_t count,
                          cudaStream_t stream);

/* For each of `batch` problems, out = softmax(scale · q kᵀ) v through
 * materialized scores:
 *   q: [batch, nq, d]  k, v: [batch, nk, d]  in dtype
 *   scores: [batch, nq, nk] fp32 scratch  probs: [batch, nq, nk] in dtype
 *   (probs may be `scores` when dtype is fp32)  out: [batch, nq, d] in
 *   out_dtype (dtype or fp32).
 * Every tensor is contiguous per problem (batch strides nq·d, nk·d, nq·nk).
 * `handle` must already be bound to `stream` (cublasSetStream). */
cudaError_t softmax_attention(cublasHandle_t handle, const void *q, int64_t nq, const void *k,
                              const void *v, int64_t nk, int d, int dtype, float scale, void *out,
                              int out_dtype, float *scores, void *probs, int batch,
                              cudaStream_t stream);

/* 1 when softmax_attention_fused runs head dimension d in dtype (bf16 or
 * fp16, d ∈ {64, 128}), else 0. */
int softmax_attention_fused_supported(int d, int dtype);

/* Scratch bytes softmax_attention_fused needs for this shape on the current
 * device (the per-chunk partial results when it splits the keys), possibly 0. */
size_t softmax_attention_fused_workspace_bytes(int64_t nq, int64_t nk, int d, int dtype,
                                               int out_dtype, int batch);

/* The same attention as softmax_attention in one kernel, no scores stored:
 *   q: [batch, nq, d]  k, v: [batch, nk, d]  in dtype  out: [batch, nq, d]
 *   in out_dtype (dtype or fp32)  workspace: the bytes above, 256-aligned. */
cudaError_t softmax_attention_fused(const void *q, int64_t nq, const void *k, const void *v,
                                    int64_t nk, int d, int dtype, float scale, void *out,
                                    int out_dtype, void *workspace, int batch, cudaStream_t stream);

/* The same attention with the means of k's rows in `windows` windows taken on
 * the way, K read once for both: Nyström's G V with K̃ = landmarks(K, windows)
 * (docs/methods.md, "Landmarks": window j of a problem's keys is rows
 * [floor(j·nk/windows), floor((j+1)·nk/windows))). The keys are split across
 * blocks at the windows' edges, the sums added in a fixed order.
 *   k_mean_fp32: [batch, windows, d] fp32  k_mean: the same in dtype
 * The workspace query returns 0 where the shape is not run this way (windows
 * shorter than two 64-key tiles, more than 65535 problems, or so many windows
 * that their partial results would cost more than K's second read saves: at
 * B·H = 8 and m = 64 below N = 2^17): then landmarks_forward and
 * softmax_attention_fused serve, and this function returns
 * cudaErrorInvalidConfiguration. */
size_t softmax_attention_fused_windows_workspace_bytes(int64_t nq, int64_t nk, int64_t windows,
                                                       int d, int dtype, int out_dtype, int batch);
cudaError_t softmax_attention_fused_windows(const void *q, int64_t nq, const void *k,
                                            const void *v, int64_t nk, int64_t windows, int d,
                                            int dtype, float scale, void *out, int out_dtype,
                                            float *k_mean_fp32, void *k_mean, void *workspace,
                                            int batch, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
