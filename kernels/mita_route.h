/* mita_route.h — MiTA's routing (step 5 of docs/methods.md, "MiTA") on the tensor cores: for
 * each query q_i the s_r experts j of largest q_i·q̃_j (fp32-level scores, ties to the lower
 * j). The kernel and its design notes are in mita_route.cu; the general selection (fp32
 * inputs, any s_r) is topk_select.h's.
 *
 * q: [heads, N, d] bf16 or fp16 (enum attn_dtype)  landmarks: [heads, m, d] fp32
 * routes: [heads, N, s_r] int32, each query's experts best first. Only enqueues work. */
#ifndef KERNELS_MITA_ROUTE_H
#define KERNELS_MITA_ROUTE_H

#include <stdint.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most routes per query the kernel keeps in registers. */
#define MITA_ROUTE_MAX_SR 4

/* Whether mita_route serves this shape: dtype bf16 or fp16, d ∈ {64, 128},
 * 1 <= s_r <= min(m, MITA_ROUTE_MAX_SR), heads <= 65535. */
int mita_route_supported(int dtype, int heads, int d, int64_t m, int s_r);

cudaError_t mita_route(const void *q, int dtype, const float *landmarks, int heads, int64_t N,
                       int d, int64_t m, int s_r, int32_t *routes, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
