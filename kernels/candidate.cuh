// candidate.cuh — a selection candidate (score, key index) packed into one 64-bit integer whose
// integer order is the selection order of docs/methods.md ("Selection: top-k and argmax"): score
// descending, ties to the lower index.
// Shared by the top-k selection (topk_select.cu) and MiTA's routing (mita_route.cu), so that
// both break ties the same way.
#ifndef KERNELS_CANDIDATE_CUH
#define KERNELS_CANDIDATE_CUH

#include <stdint.h>

// 0 sorts below every candidate and pads short lists. -0 becomes +0 first: equal scores must
// be ordered by index alone.
__device__ __forceinline__ uint64_t pack_candidate(float score, int64_t key)
{
    if (score == 0.0f) score = 0.0f;
    uint32_t u = __float_as_uint(score);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return ((uint64_t)u << 32) | (uint32_t)~(uint32_t)key;
}
__device__ __forceinline__ float candidate_score(uint64_t c)
{
    uint32_t u = (uint32_t)(c >> 32);
    return __uint_as_float((u & 0x80000000u) ? (u & 0x7fffffffu) : ~u);
}
__device__ __forceinline__ int32_t candidate_key(uint64_t c) { return (int32_t)~(uint32_t)c; }

#endif
