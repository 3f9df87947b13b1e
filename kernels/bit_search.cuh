// bit_search.cuh — one round of the bitwise search for a row's k-th largest score that
// topk_select.cu's one pass runs over its ordered scores (uint32 with the floats' order): host
// and device code, so that tests/kernels checks it on the CPU.
#ifndef KERNELS_BIT_SEARCH_CUH
#define KERNELS_BIT_SEARCH_CUH

#include <stdint.h>

// `#pragma unroll` in the device pass; the host compiler does not know the pragma.
#ifdef __CUDA_ARCH__
#define BIT_SEARCH_UNROLL _Pragma("unroll")
#else
#define BIT_SEARCH_UNROLL
#endif

// The search keeps a prefix, the largest with at least k scores at or above it, and fixes it
// BITS bits (1 or 2) a round from bit 31 down, stopping once exactly k scores reach it
// (`separated`: those k are the top k, with no ties to break). A round from `bit` down: the
// thresholds w[] = prefix + 1 there (one bit), or prefix + 01, 10 and 11 (two), whose counts
// the caller adds up in one read of the row (count) and sums over the warp, and of them the
// largest reached by at least k scores (take), as one-bit rounds would take it. Where a
// two-bit round stops at 11 with as many scores as 10 (exactly k), one-bit rounds stop at 10:
// another prefix, the same k scores at or above it; where the search does not separate, both
// end at the k-th largest score.
template <int BITS> struct SearchRound {
    static constexpr int N = (1 << BITS) - 1;
    uint32_t w[N];
    __host__ __device__ __forceinline__ SearchRound(uint32_t prefix, int bit)
    {
        const uint32_t step = 1u << (bit - BITS + 1);
BIT_SEARCH_UNROLL
        for (int j = 0; j < N; j++) w[j] = prefix | (uint32_t)(j + 1) * step;
    }
    __host__ __device__ __forceinline__ void count(uint32_t x, unsigned (&c)[N]) const
    {
BIT_SEARCH_UNROLL
        for (int j = 0; j < N; j++) c[j] += x >= w[j];
    }
    // c: the whole row's counts
    __host__ __device__ __forceinline__ void take(const unsigned (&c)[N], int64_t k,
                                                  uint32_t &prefix, bool &separated) const
    {
BIT_SEARCH_UNROLL
        for (int j = N - 1; j >= 0; j--)
            if (c[j] >= (unsigned)k) {
                prefix = w[j];
                separated = c[j] == (unsigned)k;
                return;
            }
    }
};

#endif
