// pair_bucket.cuh — the buckets of MiTA's attend_pairs (gathered_attention.cu): s_r = 2 sorts
// the queries by their pair of experts e0 < e1 < m (a query's two routes differ) into the
// m(m − 1)/2 buckets of the pairs that can occur, where buckets e0·m + e1 would leave more
// than half of m² empty, each costing the sort's work per bucket (its zeroing, reservations
// and scans). The buckets keep e0·m + e1's order, e0 first: (0, 1), (0, 2), .., (0, m − 1),
// (1, 2), ..; the attention walks the runs in this order, and ordered by e1 first it was
// slower by 1-2.5% at N = 2^20 (H100, kernels/NOTES.md "mita", v52). Host and device code, so
// that tests/kernels checks it on the CPU.
#ifndef KERNELS_PAIR_BUCKET_CUH
#define KERNELS_PAIR_BUCKET_CUH

#include <math.h>
#include <stdint.h>

struct ExpertPair {
    int32_t e0, e1; // e0 < e1 < m
};

__host__ __device__ inline int64_t pair_buckets(int64_t m) { return m * (m - 1) / 2; }

// The bucket of e0's first pair, (e0, e0 + 1): the m − 1, m − 2, .. pairs of the e0 before it.
__host__ __device__ __forceinline__ int32_t pair_first_bucket(int32_t e0, int32_t m)
{
    return e0 * (2 * m - 1 - e0) / 2;
}

__host__ __device__ __forceinline__ int32_t pair_bucket(ExpertPair p, int32_t m)
{
    return pair_first_bucket(p.e0, m) + p.e1 - p.e0 - 1;
}

// The pair of bucket b (0 <= b < m(m − 1)/2): e0 the largest whose first bucket is at most b,
// from the smaller root of e0² − (2m − 1)e0 + 2b = 0, then corrected by integer tests where
// the float root rounded across one.
__host__ __device__ __forceinline__ ExpertPair pair_of_bucket(int32_t b, int32_t m)
{
    const float w = (float)(2 * m - 1);
    int32_t e0 = (int32_t)((w - sqrtf(fmaxf(w * w - 8.f * (float)b, 0.f))) / 2.f);
    while (e0 > 0 && pair_first_bucket(e0, m) > b) e0--;
    while (e0 + 1 < m - 1 && pair_first_bucket(e0 + 1, m) <= b) e0++;
    return ExpertPair{e0, b - pair_first_bucket(e0, m) + e0 + 1};
}

// The pair of bucket pair_bucket(p, m) + 1.
__host__ __device__ __forceinline__ ExpertPair next_pair(ExpertPair p, int32_t m)
{
    return p.e1 + 1 < m ? ExpertPair{p.e0, p.e1 + 1} : ExpertPair{p.e0 + 1, p.e0 + 2};
}

#endif
