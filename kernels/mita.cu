// mita.cu — attention over gathered entries: MiTA's step 7 with step 6 read in place, and
// topk's attention over each query's own keys (kernels/mita.h).
//
// Versions (picked by mita_attend; measurements in kernels/NOTES.md "mita"):
//   expert_tiles    s_r = 1 (MiTA's default). Queries are counting-sorted by expert (count,
//                   scan, scatter: three small kernels), then a block takes 64 queries of one
//                   expert: the shared block (Q̃, V̂) and the expert's k keys and values are
//                   staged in shared memory as fp32 once per 64 queries, scores and the
//                   online softmax·V on the CUDA cores in the fragment layout of
//                   simt_tile.cuh. Each gathered row is read once per tile, not once per query.
//   warp_per_query  any s_r, and topk (one key list per query). One warp per query, entries
//                   taken 32 at a time: each lane scores one entry (a row it reads alone with
//                   16-byte loads), an online softmax across groups, then the group's value rows
//                   summed with the lanes spread over the channels. Bound by the per-query
//                   gathers (~2·(m + s_r·k)·d values each, mostly L1/L2 hits): MiTA with
//                   this version for s_r = 1 too ran 3.1× slower in all at N = 2^20.

#include "mita.h"

#include <math.h>

#include "cuda_util.cuh"
#include "simt_tile.cuh"

namespace {

using namespace simt_tile;

constexpr int WARPS = 4;

struct AttendArgs {
    const void *q, *k, *v;            // [heads, N, D]
    const float *landmarks, *shared_values; // [heads, m, D], or NULL: no shared block
    const int32_t *experts;           // [heads, n_experts, kk]
    const int32_t *routes;            // [heads, N, s_r], or NULL: query i uses expert i
    void *o;                          // [heads, N, D]
    int64_t N, m, n_experts, kk, queries; // queries = heads · N
    int s_r;
    float scale, shared_scale;
};

__device__ __forceinline__ float warp_max(float x)
{
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) x = fmaxf(x, __shfl_xor_sync(FULL, x, off));
    return x;
}
__device__ __forceinline__ float warp_sum(float x)
{
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) x += __shfl_xor_sync(FULL, x, off);
    return x;
}

// q·row in fp32. qs: [D] fp32 in shared memory (every lane reads the same word: a broadcast)
// row: [D] T, read by this lane alone.
template <int D, typename T> __device__ __forceinline__ float dot_row(const float *qs, const T *row)
{
    constexpr int VEC = 16 / sizeof(T);
    float acc[2] = {0.f, 0.f}; // two chains: the loads are independent, the FMAs need not wait
#pragma unroll
    for (int c = 0; c < D; c += VEC) {
        union { uint4 u; T e[VEC]; } x;
        x.u = *reinterpret_cast<const uint4 *>(row + c);
#pragma unroll
        for (int i = 0; i < VEC; i++) acc[i & 1] = fmaf(qs[c + i], to_float(x.e[i]), acc[i & 1]);
    }
    return acc[0] + acc[1];
}

// Folds n entries into the running softmax (max, sum) and output o (lane's channels
// lane·D/32 ..). Entry e's key and value rows are row_of(e) of keys / values.
template <int D, typename TK, typename TV, typename RowOf>
__device__ __forceinline__ void attend_entries(const float *qs, int64_t n, RowOf row_of,
                                               const TK *keys, const TV *values, float scale,
                                               float &run_max, float &run_sum,
                                               float (&o)[D / 32], int lane)
{
    constexpr int CPL = D / 32;
    for (int64_t base = 0; base < n; base += 32) {
        const bool valid = base + lane < n;
        const int row = valid ? row_of(base + lane) : 0;
        const float logit = valid ? scale * dot_row<D>(qs, keys + (int64_t)row * D) : -INFINITY;
        const float m = fmaxf(run_max, warp_max(logit)); // finite: lane 0 is always valid
        const float corr = __expf(run_max - m);
        const float w = valid ? __expf(logit - m) : 0.f;
        run_sum = run_sum * corr + warp_sum(w);
        run_max = m;
#pragma unroll
        for (int c = 0; c < CPL; c++) o[c] *= corr;
        const int count = n - base < 32 ? (int)(n - base) : 32;
#pragma unroll 4
        for (int l = 0; l < count; l++) {
            const float wl = __shfl_sync(FULL, w, l);
            const int rl = __shfl_sync(FULL, row, l);
            const TV *vr = values + (int64_t)rl * D + lane * CPL;
#pragma unroll
            for (int c = 0; c < CPL; c++) o[c] = fmaf(wl, to_float(vr[c]), o[c]);
        }
    }
}

// One warp per query; see AttendArgs for the shapes.
template <typename T, int D>
__global__ void __launch_bounds__(WARPS * 32) attend_warp_per_query(AttendArgs a)
{
    constexpr int CPL = D / 32;
    __shared__ __align__(16) float qs_all[WARPS][D];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t w = (int64_t)blockIdx.x * WARPS + warp;
    if (w >= a.queries) return; // no block-wide barrier below
    const int64_t bh = w / a.N, i = w % a.N;
    float *qs = qs_all[warp];
    const T *q = static_cast<const T *>(a.q) + w * D;
#pragma unroll
    for (int c = 0; c < CPL; c++) qs[lane * CPL + c] = to_float(q[lane * CPL + c]);
    __syncwarp();

    float run_max = -INFINITY, run_sum = 0.f, o[CPL] = {};
    if (a.landmarks)
        attend_entries<D>(qs, a.m, [](int64_t e) { return (int)e; }, a.landmarks + bh * a.m * D,
                          a.shared_values + bh * a.m * D, a.shared_scale, run_max, run_sum, o,
                          lane);
    const T *keys = static_cast<const T *>(a.k) + bh * a.N * D;
    const T *values = static_cast<const T *>(a.v) + bh * a.N * D;
    for (int r = 0; r < a.s_r; r++) {
        const int64_t e = a.routes ? a.routes[w * a.s_r + r] : i;
        const int32_t *expert = a.experts + (bh * a.n_experts + e) * a.kk;
        attend_entries<D>(qs, a.kk, [expert](int64_t t) { return (int)expert[t]; }, keys, values,
                          a.scale, run_max, run_sum, o, lane);
    }
    T *out = static_cast<T *>(a.o) + w * D + lane * CPL;
    const float inv = 1.f / run_sum;
#pragma unroll
    for (int c = 0; c < CPL; c++) out[c] = from_float<T>(o[c] * inv);
}

// ---- expert_tiles ---------------------------------------------------------------------------

constexpr int TILE_ROWS = 64; // queries per block: 4 warps × 16

// The counting sort of the queries by their (first) expert. A warp's lanes with the same
// (head, expert) agree on one atomic (__match_any_sync): few atomics per warp even at m = 1.
// routes: [heads, N, s_r]  counts: [heads, m], zero before count_experts.
__device__ __forceinline__ int64_t expert_key(const int32_t *routes, int s_r, int64_t N, int64_t m,
                                              int64_t w, int64_t queries)
{
    return w < queries ? (w / N) * m + routes[w * s_r] : -1;
}

__global__ void __launch_bounds__(256) count_experts(const int32_t *routes, int s_r, int64_t N,
                                                     int64_t m, int64_t queries, int32_t *counts)
{
    const int64_t w = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const int64_t key = expert_key(routes, s_r, N, m, w, queries);
    const unsigned peers = __match_any_sync(FULL, (unsigned long long)key);
    if (key >= 0 && (int)(threadIdx.x % 32) == __ffs(peers) - 1)
        atomicAdd(&counts[key], __popc(peers));
}

// One warp per head: start[e] = queries before expert e, tile_start[e] = 64-query tiles before
// expert e (each expert's tiles are its own); both [heads, m+1]. counts becomes the scatter's
// cursor (= start).
__global__ void __launch_bounds__(32) scan_experts(int32_t *counts, int64_t m, int32_t *start,
                                                   int32_t *tile_start)
{
    const int lane = threadIdx.x;
    int32_t *c = counts + blockIdx.x * m;
    int32_t *st = start + blockIdx.x * (m + 1), *ts = tile_start + blockIdx.x * (m + 1);
    int carry_q = 0, carry_t = 0;
    for (int64_t base = 0; base < m; base += 32) {
        const int64_t e = base + lane;
        const int n = e < m ? c[e] : 0, tiles = (n + TILE_ROWS - 1) / TILE_ROWS;
        int iq = n, it = tiles; // inclusive scans over the lanes
#pragma unroll
        for (int off = 1; off < 32; off <<= 1) {
            const int yq = __shfl_up_sync(FULL, iq, off), yt = __shfl_up_sync(FULL, it, off);
            if (lane >= off) {
                iq += yq;
                it += yt;
            }
        }
        if (e < m) {
            st[e] = c[e] = carry_q + iq - n;
            ts[e] = carry_t + it - tiles;
        }
        carry_q += __shfl_sync(FULL, iq, 31);
        carry_t += __shfl_sync(FULL, it, 31);
    }
    if (lane == 0) {
        st[m] = carry_q;
        ts[m] = carry_t;
    }
}

// order: [heads, N], each head's queries grouped by expert (in no particular order within one).
__global__ void __launch_bounds__(256) scatter_experts(const int32_t *routes, int s_r, int64_t N,
                                                       int64_t m, int64_t queries,
                                                       int32_t *cursor, int32_t *order)
{
    const int64_t w = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const int lane = threadIdx.x % 32;
    const int64_t key = expert_key(routes, s_r, N, m, w, queries);
    const unsigned peers = __match_any_sync(FULL, (unsigned long long)key);
    if (key < 0) return;
    const int leader = __ffs(peers) - 1;
    int base = 0;
    if (lane == leader) base = atomicAdd(&cursor[key], __popc(peers));
    base = __shfl_sync(peers, base, leader);
    order[(w / N) * N + base + __popc(peers & ((1u << lane) - 1))] = (int32_t)(w % N);
}

struct TileArgs {
    const void *q, *k, *v;                  // [heads, N, D]
    const float *landmarks, *shared_values; // [heads, m, D], or NULL: no shared block
    const int32_t *experts;                 // [heads, n_experts, kk]
    const int32_t *order;                   // [heads, N], grouped by expert
    const int32_t *start, *tile_start;      // [heads, n_experts+1]: first query, first tile
    void *o;                                // [heads, N, D]
    int64_t N, m, n_experts, kk;
    float scale, shared_scale;
};

// Shared memory: qs, ks, vs [TILE, D+4] | ws [TILE_ROWS, W_STRIDE] | rows [TILE_ROWS] int.
size_t tile_smem(int d)
{
    return ((size_t)3 * TILE * (d + 4) + (size_t)TILE_ROWS * W_STRIDE) * 4 + TILE_ROWS * 4;
}

// grid: (the most tiles a head can have = ceil(N/64) + n_experts, heads). Block b of head bh
// takes that head's b-th tile, whatever its expert, so that skewed routing stays balanced.
template <typename T, int D>
__global__ void __launch_bounds__(128) attend_expert_tiles(TileArgs a)
{
    constexpr int S = D + 4;
    extern __shared__ __align__(16) unsigned char smem[];
    float *qs = reinterpret_cast<float *>(smem), *ks = qs + TILE * S, *vs = ks + TILE * S;
    float *ws = vs + TILE * S;
    int32_t *rows = reinterpret_cast<int32_t *>(ws + TILE_ROWS * W_STRIDE);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int64_t bh = blockIdx.y, b = blockIdx.x;
    const int64_t ne = a.n_experts;
    const int32_t *ts = a.tile_start + bh * (ne + 1), *st = a.start + bh * (ne + 1);
    if (b >= ts[ne]) return; // the whole block: no barrier is skipped by part of it

    // The expert of tile b: the last e with ts[e] <= b (experts without tiles repeat ts[e]).
    int64_t lo = 0, hi = ne - 1;
    while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        if (ts[mid] <= b) lo = mid;
        else hi = mid - 1;
    }
    const int64_t e = lo, q0 = st[e] + (b - ts[e]) * TILE_ROWS;
    const int64_t valid = min((int64_t)TILE_ROWS, (int64_t)st[e + 1] - q0);
    if (threadIdx.x < TILE_ROWS)
        rows[threadIdx.x] = threadIdx.x < valid ? a.order[bh * a.N + q0 + threadIdx.x] : 0;
    __syncthreads();
    const T *q = static_cast<const T *>(a.q) + bh * a.N * D;
    stage_rows_gather<T, D, TILE_ROWS>(qs, q, rows, valid);

    float rmax[2] = {-INFINITY, -INFINITY}, rsum[2] = {0.f, 0.f};
    float4 o[2][D / 16];
#pragma unroll
    for (int h = 0; h < 2; h++)
#pragma unroll
        for (int i = 0; i < D / 16; i++) o[h][i] = make_float4(0.f, 0.f, 0.f, 0.f);
    float *wsw = ws + warp * WARP_ROWS * W_STRIDE;
    float acc[8][4];

    // Logits are scaled before the softmax so that both blocks share one running max.
    auto attend_tile = [&](int64_t kt, int64_t end, float scale) {
        simt_scores<D>(acc, qs, ks, warp, g, t);
#pragma unroll
        for (int j = 0; j < 8; j++)
#pragma unroll
            for (int x = 0; x < 4; x++) acc[j][x] *= scale;
        softmax_values_tile<D>(acc, kt, end, 1.f, wsw, vs, rmax, rsum, o, g, t);
    };
    if (a.landmarks) {
        const float *lm = a.landmarks + bh * a.m * D, *sv = a.shared_values + bh * a.m * D;
        for (int64_t lt = 0; lt < a.m; lt += TILE) {
            __syncthreads(); // qs staged; the previous tile's readers are done
            stage_rows<float, D, TILE>(ks, lm + lt * D, a.m - lt);
            stage_rows<float, D, TILE>(vs, sv + lt * D, a.m - lt);
            __syncthreads();
            attend_tile(lt, a.m, a.shared_scale);
        }
    }
    const int32_t *expert = a.experts + (bh * ne + e) * a.kk;
    const T *keys = static_cast<const T *>(a.k) + bh * a.N * D;
    const T *values = static_cast<const T *>(a.v) + bh * a.N * D;
    for (int64_t kt = 0; kt < a.kk; kt += TILE) {
        __syncthreads();
        stage_rows_gather<T, D, TILE>(ks, keys, expert + kt, a.kk - kt);
        stage_rows_gather<T, D, TILE>(vs, values, expert + kt, a.kk - kt);
        __syncthreads();
        attend_tile(kt, a.kk, a.scale);
    }

#pragma unroll
    for (int h = 0; h < 2; h++) {
        const float inv = 1.f / row_total(rsum[h]);
        const int r = warp * WARP_ROWS + g + 8 * h;
        if (r < valid) {
            T *out = static_cast<T *>(a.o) + (bh * a.N + rows[r]) * D + 4 * t;
#pragma unroll
            for (int i = 0; i < D / 16; i++) {
                out[16 * i] = from_float<T>(o[h][i].x * inv);
                out[16 * i + 1] = from_float<T>(o[h][i].y * inv);
                out[16 * i + 2] = from_float<T>(o[h][i].z * inv);
                out[16 * i + 3] = from_float<T>(o[h][i].w * inv);
            }
        }
    }
}

// ---- host ---------------------------------------------------------------------------------

// The counting sort's arrays, carved from the caller's scratch (256-byte aligned pieces).
struct SortScratch {
    int32_t *counts, *start, *tile_start, *order;
    size_t bytes;
};
size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }
SortScratch sort_scratch(void *base, int heads, int64_t N, int64_t m)
{
    SortScratch s;
    const size_t pieces[4] = {(size_t)heads * m * 4, (size_t)heads * (m + 1) * 4,
                              (size_t)heads * (m + 1) * 4, (size_t)heads * N * 4};
    int32_t **at[4] = {&s.counts, &s.start, &s.tile_start, &s.order};
    char *p = static_cast<char *>(base);
    s.bytes = 0;
    for (int i = 0; i < 4; i++) {
        *at[i] = reinterpret_cast<int32_t *>(p ? p + s.bytes : nullptr);
        s.bytes += align256(pieces[i]);
    }
    return s;
}

// dispatch_dtype's callables: the launches for storage type T and the head dimension.
struct attend_launch {
    const AttendArgs &a;
    int d;
    cudaStream_t stream;
    template <typename T> cudaError_t operator()() const
    {
        const unsigned blocks = (unsigned)((a.queries + WARPS - 1) / WARPS);
        if (d == 64) attend_warp_per_query<T, 64><<<blocks, WARPS * 32, 0, stream>>>(a);
        else if (d == 128) attend_warp_per_query<T, 128><<<blocks, WARPS * 32, 0, stream>>>(a);
        else return cudaErrorInvalidValue;
        CUDA_CHECK_LAUNCH();
        return cudaSuccess;
    }
};

struct tiles_launch {
    const TileArgs &a;
    int heads, d;
    cudaStream_t stream;
    template <typename T> cudaError_t operator()() const
    {
        const void *kernel = d == 64    ? (const void *)attend_expert_tiles<T, 64>
                             : d == 128 ? (const void *)attend_expert_tiles<T, 128>
                                        : nullptr;
        if (!kernel) return cudaErrorInvalidValue;
        const size_t smem = tile_smem(d);
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        (int)smem));
        const dim3 grid((unsigned)((a.N + TILE_ROWS - 1) / TILE_ROWS + a.n_experts),
                        (unsigned)heads);
        void *params[] = {const_cast<TileArgs *>(&a)};
        CUDA_CHECK(cudaLaunchKernel(kernel, grid, dim3(128), params, smem, stream));
        return cudaSuccess;
    }
};

cudaError_t attend_tiles(const AttendArgs &w, int heads, int d, void *scratch, int dtype,
                         cudaStream_t stream)
{
    const int64_t ne = w.n_experts;
    const SortScratch s = sort_scratch(scratch, heads, w.N, ne);
    const unsigned blocks = (unsigned)((w.queries + 255) / 256);
    CUDA_CHECK(cudaMemsetAsync(s.counts, 0, (size_t)heads * ne * 4, stream));
    count_experts<<<blocks, 256, 0, stream>>>(w.routes, w.s_r, w.N, ne, w.queries, s.counts);
    CUDA_CHECK_LAUNCH();
    scan_experts<<<heads, 32, 0, stream>>>(s.counts, ne, s.start, s.tile_start);
    CUDA_CHECK_LAUNCH();
    scatter_experts<<<blocks, 256, 0, stream>>>(w.routes, w.s_r, w.N, ne, w.queries, s.counts,
                                                s.order);
    CUDA_CHECK_LAUNCH();
    const TileArgs a{w.q,     w.k,     w.v,          w.landmarks, w.shared_values, w.experts,
                     s.order, s.start, s.tile_start, w.o,         w.N,             w.m,
                     ne,      w.kk,    w.scale,      w.shared_scale};
    return dispatch_dtype(dtype, tiles_launch{a, heads, d, stream});
}

} // namespace

extern "C" size_t mita_attend_scratch_bytes(int heads, int64_t N, int64_t n_experts, int s_r)
{
    return s_r == 1 ? sort_scratch(nullptr, heads, N, n_experts).bytes : 0;
}

extern "C" cudaError_t mita_attend(const void *q, const void *k, const void *v, int dtype,
                                   int heads, int64_t N, int d, const float *landmarks,
                                   const float *shared_values, int64_t m, float shared_scale,
                                   const int32_t *experts, int64_t n_experts, int64_t kk,
                                   const int32_t *routes, int s_r, float scale, void *scratch,
                                   void *o, cudaStream_t stream)
{
    if (heads < 1 || N < 1 || N > INT32_MAX || kk < 1 || s_r < 1 || n_experts < 1 ||
        (landmarks && (m < 1 || !shared_values)) || (!routes && s_r != 1) ||
        (routes && s_r == 1 && (!scratch || heads > 65535))) // heads: grid.y of the tiles
        return cudaErrorInvalidValue;
    const AttendArgs a{q, k, v, landmarks, shared_values, experts, routes, o,
                       N, m, n_experts, kk, (int64_t)heads * N, s_r, scale, shared_scale};
    if (routes && s_r == 1) return attend_tiles(a, heads, d, scratch, dtype, stream);
    return dispatch_dtype(dtype, attend_launch{a, d, stream});
}
