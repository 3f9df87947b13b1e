/* mita.h — attention of each query over a short list of gathered entries: MiTA's step 7
 * (SPEC.md), with the gather of step 6 read in place from K and V. The kernels and the
 * index of their versions are in mita.cu; the selection steps are in topk_select.h.
 *
 * For query i of head bh, the logits are
 *     [ q_i·q̃_j · shared_scale  for j < m ]                    (when landmarks != NULL)
 *  ++ [ q_i·k_t · scale  for t in experts[e], e in routes_i ]  (s_r experts, in order)
 * and o_i = softmax(logits) · [ shared_values ; V rows ], duplicates kept. With
 * routes == NULL query i uses expert i (s_r = 1): per-query key lists, topk's attention.
 *
 * q, k, v, o: [heads, N, d] in `dtype` (enum attn_dtype)  landmarks, shared_values:
 * [heads, m, d] fp32  experts: [heads, n_experts, kk] int32 key indices  routes:
 * [heads, N, s_r] int32 expert indices. Logits, softmax and sums in fp32; o stored in
 * `dtype`. Supported: d ∈ {64, 128}, N < 2^31 (and heads <= 65535 for the
 * sorted path). Only enqueues work on `stream`. With routes (s_r = 1, or any s_r
 * in bf16/fp16) the (query, route) pairs are sorted by expert first, so that a
 * block serves 64 or 128 of them against one expert's staged rows (mita.cu).
 */
#ifndef KERNELS_MITA_H
#define KERNELS_MITA_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Scratch for mita_attend with routes on its sorted path (s_r = 1, or any s_r in
 * bf16/fp16): the counting sort of the (query, route) pairs by expert, Q̃ and V̂ in
 * `dtype`, and for s_r > 1 each route's partial output; 0 otherwise. */
size_t mita_attend_scratch_bytes(int heads, int64_t N, int64_t m, int64_t n_experts, int d,
                                 int dtype, int s_r);

/* `scratch`: at least mita_attend_scratch_bytes(heads, N, m, n_experts, d, dtype, s_r),
 * 256-byte aligned; may be NULL when that is 0. */
cudaError_t mita_attend(const void *q, const void *k, const void *v, int dtype, int heads,
                        int64_t N, int d, const float *landmarks, const float *shared_values,
                        int64_t m, float shared_scale, const int32_t *experts,
                        int64_t n_experts, int64_t kk, const int32_t *routes, int s_r,
                        float scale, void *scratch, void *o, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
