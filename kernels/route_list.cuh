// route_list.cuh — a lane's running list of the best experts of one query row in MiTA's
// routing (mita_route.cu): host and device code, so that tests/kernels checks it on the CPU.
#ifndef KERNELS_ROUTE_LIST_CUH
#define KERNELS_ROUTE_LIST_CUH

#include <math.h>
#include <stdint.h>

// `#pragma unroll` in the device pass (the lists stay in registers); the host compiler does not
// know the pragma.
#ifdef __CUDA_ARCH__
#define ROUTE_LIST_UNROLL _Pragma("unroll")
#else
#define ROUTE_LIST_UNROLL
#endif

// R scores best first and their experts (expert -1: empty), of which the first s_r are taken.
// A lane sees its columns in increasing expert order, so a strict `>` keeps the lower expert
// of a tie ahead (the order of docs/methods.md) with float compares alone; the 64-bit packing
// of candidate.cuh is left to the quad's merge. Keeping R entries where s_r < R leaves the
// first s_r as they would be.
template <int R> struct RouteList {
    float score[R];
    int32_t expert[R];

    __host__ __device__ __forceinline__ void clear()
    {
ROUTE_LIST_UNROLL
        for (int i = 0; i < R; i++) {
            score[i] = -INFINITY;
            expert[i] = -1;
        }
    }
    // Without a branch: x goes above entry i where it beats it, and as the list is sorted that
    // holds from x's place down. So each entry takes the one above it where x goes above that
    // one too, x where x lands, and stays where x goes below it: a select each, where a loop
    // that stops at x's place compiled to branches that tripled route_wgmma's time at R = 2
    // (kernels/NOTES.md, "mita", v40). An empty entry takes any x, -inf and NaN included.
    __host__ __device__ __forceinline__ void insert(float x, int32_t e)
    {
        bool above[R];
ROUTE_LIST_UNROLL
        for (int i = 0; i < R; i++) above[i] = x > score[i] || expert[i] < 0;
        place(above, x, e);
    }
    // The same where no entry is empty (after R inserts): the compares alone, without the test
    // for an empty entry each (v44).
    __host__ __device__ __forceinline__ void insert_full(float x, int32_t e)
    {
        bool above[R];
ROUTE_LIST_UNROLL
        for (int i = 0; i < R; i++) above[i] = x > score[i];
        place(above, x, e);
    }
    // x into its place where above[i] says whether it goes above entry i.
    __host__ __device__ __forceinline__ void place(const bool (&above)[R], float x, int32_t e)
    {
ROUTE_LIST_UNROLL
        for (int i = R - 1; i > 0; i--) {
            score[i] = above[i - 1] ? score[i - 1] : above[i] ? x : score[i];
            expert[i] = above[i - 1] ? expert[i - 1] : above[i] ? e : expert[i];
        }
        score[0] = above[0] ? x : score[0];
        expert[0] = above[0] ? e : expert[0];
    }
    // The head dropped, the rest moved up.
    __host__ __device__ __forceinline__ void pop()
    {
ROUTE_LIST_UNROLL
        for (int i = 0; i + 1 < R; i++) score[i] = score[i + 1], expert[i] = expert[i + 1];
        score[R - 1] = -INFINITY, expert[R - 1] = -1;
    }
};

#endif
