// gathered_attention.cu — attention over gathered entries, the rows read in place from K and V,
// or from the experts' rows gathered beforehand (K_E, V_E) (kernels/gathered_attention.h). Two
// entry points:
//   mita_attend               the `mita` method's steps 6-7: expert_tiles (fp32, s_r = 1),
//                             expert_tiles_mma (bf16/fp16, any s_r; shared_merge_mma after it
//                             for s_r > 1), warp_per_query (fp32, s_r > 1).
//   gathered_attend_own_keys  the `topk` method's attention, each query over its own k keys:
//                             warp_per_query (mita_attend without routes).
//
// Versions (picked by mita_attend; measurements in kernels/NOTES.md "mita"):
//   expert_tiles    s_r = 1 (MiTA's default), fp32. Queries are counting-sorted by expert (count,
//                   scan, scatter: three small kernels), then a block takes 64 queries of one
//                   expert: the shared block (Q̃, V̂) and the expert's k keys and values are
//                   staged in shared memory as fp32 once per 64 queries, scores and the
//                   online softmax·V on the CUDA cores in the fragment layout of
//                   simt_tile.cuh. Each gathered row is read once per tile, not once per query.
//   expert_tiles_mma  the same schedule on the tensor cores, bf16/fp16, any s_r: the (query,
//                   route) pairs are sorted by expert; 128 of them (8 warps) per block, Q rows
//                   gathered by cp.async, 64-key tiles of the shared block (Q̃, V̂ rounded to T
//                   once per run) then of the expert (K_E, V_E gathered in place), double-
//                   buffered, mma.sync + ldmatrix, one online softmax, O staged through shared
//                   memory for 16-byte stores. s_r > 1: each pair's normalized partial and its
//                   (max, sum) instead, and shared_merge_mma takes 128 consecutive queries,
//                   their shared block, and folds the s_r partials in (2·s_r + 2 Q-sized
//                   passes more than s_r = 1's, in T, against one gather per query and route).
//   expert_runs     expert_tiles_mma's 128-entry tiles on an sm_90a build and device, where a
//                   run's 64-key tiles fit in shared memory (ceil(m/64) + ceil(k/64) <= 4 at
//                   d = 64, <= 2 at d = 128) and runs average 16 items or more (runs_long):
//                   one block an SM walks 32-entry chunks of the tile maps, a run of items of
//                   one (head, expert) shares its key and value tiles, gathered once;
//                   producer warps gather the Q rows behind mbarriers, two consumer warpgroups
//                   attend by wgmma (section "expert_runs"). Elsewhere on sm_90a
//                   expert_tiles_wgmma, persistent, gathers the key tiles for every item.
//                   s_r = 2 where a run's slot holds the shared block and two experts and the
//                   pairs' tiles are mostly full (use_pairs): the queries sorted by their pair
//                   of experts, each attended once over both (attend_pairs), O written
//                   directly — no partials and no shared_merge_mma.
//   warp_per_query  fp32 with s_r > 1, and topk (one key list per query). One warp per query, entries
//                   taken 32 at a time: each lane scores one entry (a row it reads alone with
//                   16-byte loads), an online softmax across groups, then the group's value rows
//                   summed with the lanes spread over the channels. Bound by the per-query
//                   gathers (~2·(m + s_r·k)·d values each, mostly L1/L2 hits): MiTA with
//                   this version for s_r = 1 too ran 3.1× slower in all at N = 2^20.
//
// Every version reads an expert's key and value rows one of two ways (expert_rows): in place,
// through the expert's indices into K and V (MiTA's default, `fused`), or, when mita_attend is
// given no indices (experts = NULL), as the contiguous rows e·kk .. e·kk + kk − 1 of K_E and V_E
// that a gather kernel materialized in a step of its own (params.gather). The rows hold the same
// values either way and every kernel does the same arithmetic on them in the same order, so the
// two give the same output bit for bit; the materialized one trades the attention's scattered
// reads for the gather's extra pass (kernels/NOTES.md, "mita": the materialized gather).

#include "gathered_attention.h"

#include <math.h>

#include <cub/block/block_scan.cuh>

#include "cuda_util.cuh"
#include "hopper.cuh"        // wgmma, SW128 descriptors: the sm_90a expert tiles
#include "mma_util.cuh"
#include "pair_bucket.cuh"   // attend_pairs' buckets
#include "simt_tile.cuh"
#include "wgmma_softmax.cuh" // the online softmax in wgmma's layout

namespace {

using namespace simt_tile;

constexpr int WARPS = 4;

struct AttendArgs {
    const void *q, *k, *v;            // [heads, N, D]; K_E, V_E [heads, n_experts, kk, D] when
                                      // experts is NULL
    const float *landmarks, *shared_values; // [heads, m, D], or NULL: no shared block
    const int32_t *experts;           // [heads, n_experts, kk], or NULL: k, v are K_E, V_E
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

// Expert e of head bh as rows to read: `idx` (its kk key indices) into `keys` and `values` (the
// head's K and V), or, when `experts` is NULL, idx = NULL and `keys`, `values` its own kk rows
// of the materialized K_E and V_E (k, v: [heads, n_experts, kk, D]).
template <typename T> struct ExpertRows {
    const T *keys, *values;
    const int32_t *idx;
};
template <typename T, int D>
__device__ __forceinline__ ExpertRows<T> expert_rows(const void *k, const void *v,
                                                     const int32_t *experts, int64_t bh,
                                                     int64_t e, int64_t N, int64_t n_experts,
                                                     int64_t kk)
{
    const int64_t expert = bh * n_experts + e;
    if (!experts)
        return {static_cast<const T *>(k) + expert * kk * D,
                static_cast<const T *>(v) + expert * kk * D, nullptr};
    return {static_cast<const T *>(k) + bh * N * D, static_cast<const T *>(v) + bh * N * D,
            experts + expert * kk};
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
    for (int r = 0; r < a.s_r; r++) {
        const int64_t e = a.routes ? a.routes[w * a.s_r + r] : i;
        const ExpertRows<T> x = expert_rows<T, D>(a.k, a.v, a.experts, bh, e, a.N, a.n_experts,
                                                  a.kk);
        attend_entries<D>(qs, a.kk, [x](int64_t t) { return x.idx ? (int)x.idx[t] : (int)t; },
                          x.keys, x.values, a.scale, run_max, run_sum, o, lane);
    }
    T *out = static_cast<T *>(a.o) + w * D + lane * CPL;
    const float inv = 1.f / run_sum;
#pragma unroll
    for (int c = 0; c < CPL; c++) out[c] = from_float<T>(o[c] * inv);
}

// ---- expert_tiles ---------------------------------------------------------------------------

constexpr int TILE_ROWS = 64; // queries per block: 4 warps × 16

// The counting sort of the entries (query·s_r + r, one per route; queries for s_r = 1) by
// expert: routes [heads, N·s_r] read as [heads, N] with N the entries per head, here and in
// scatter_experts. A block takes SORT_QUERIES entries of one head (grid (ceil(N / SORT_QUERIES), heads)) and counts them per expert in shared
// memory first, so that the global counters see one atomic per (block, expert) rather than one
// per query: at m = 64, 2^23 queries on 512 counters serialized for 1.3 ms per kernel (H100).
// Past SORT_SMEM_EXPERTS experts the counts go straight to global memory (few collide there).
// counts: [heads, m], zero before count_experts.
constexpr int SORT_QUERIES = 4096, SORT_SMEM_EXPERTS = 12288; // 48 KB of counters
constexpr int SORT_THREADS = 256, SORT_PER_THREAD = SORT_QUERIES / SORT_THREADS;

size_t sort_smem(int64_t m) { return m <= SORT_SMEM_EXPERTS ? (size_t)m * 4 : 0; }

// The block's entries' experts, PER a thread (entry i0 + threadIdx.x + j·THREADS; -1 past the
// head's end), all loaded before the first atomic: a load after an atomic waits for it, so a
// loop of load-then-atomic pays one memory latency an entry. (Measured on an H100:
// scatter_experts 0.139 -> 0.122 ms at 2^20; what is left is its atomics and scattered
// stores, NOTES "mita" v29.)
template <int THREADS, int PER>
__device__ __forceinline__ void load_routes(const int32_t *routes, int64_t N, int64_t i0,
                                            int32_t (&e)[PER])
{
#pragma unroll
    for (int j = 0; j < PER; j++) {
        const int64_t i = i0 + threadIdx.x + (int64_t)j * THREADS;
        e[j] = i < N ? routes[i] : -1;
    }
}

__global__ void __launch_bounds__(SORT_THREADS) count_experts(const int32_t *routes, int64_t N,
                                                              int64_t m, int32_t *counts)
{
    extern __shared__ int32_t local[]; // [m], when m <= SORT_SMEM_EXPERTS
    const bool in_smem = m <= SORT_SMEM_EXPERTS;
    const int64_t bh = blockIdx.y, i0 = (int64_t)blockIdx.x * SORT_QUERIES;
    int32_t *c = counts + bh * m;
    int32_t e[SORT_PER_THREAD];
    load_routes<SORT_THREADS>(routes + bh * N, N, i0, e);
    if (in_smem) {
        for (int64_t x = threadIdx.x; x < m; x += blockDim.x) local[x] = 0;
        __syncthreads();
    }
#pragma unroll
    for (int j = 0; j < SORT_PER_THREAD; j++)
        if (e[j] >= 0) atomicAdd(in_smem ? &local[e[j]] : &c[e[j]], 1);
    if (!in_smem) return;
    __syncthreads();
    for (int64_t x = threadIdx.x; x < m; x += blockDim.x)
        if (local[x]) atomicAdd(&c[x], local[x]);
}

// One block per head: turns the counts into each expert's first entry (counts becomes the
// scatter's cursor) and writes the head's tile map: tile i of tile_rows entries of one expert
// (each expert's tiles are its own) as {expert, first entry, entries, head}, and {0, 0, 0,
// head} for the tiles past the last, up to tiles_max = the grid's x. The tile kernels then find
// their work in one load (a binary search over the experts cost a block 6 dependent loads, ~30%
// of the attention at N = 2^20); the head spares the ones that walk several heads' maps a
// 64-bit division an item. Each of the THREADS threads takes a run of consecutive experts; one
// block scan of the runs' entries and tiles, packed in 64 bits (the entries in the low word: a
// head has fewer than 2^31), gives each run its first entry and first tile. (One warp walking
// the experts 32 at a time took 0.074 ms for 4096 buckets, 8 heads, on an H100.)
// c: the head's m counts (global or shared memory; each thread reads and rewrites its run
// only)  map: the head's tiles_max entries  pair_m: 0 where the buckets are experts; else the
// buckets are attend_pairs' pairs of pair_m experts (pair_bucket), and the map's first word is
// the pair as the attention reads it, e0·pair_m + e1.
template <int THREADS>
using CountScan = cub::BlockScan<unsigned long long, THREADS, cub::BLOCK_SCAN_WARP_SCANS>;
template <int THREADS>
__device__ void scan_expert_counts(int32_t *c, int64_t m, int tile_rows, int64_t tiles_max,
                                   int4 *map, int head, int pair_m,
                                   typename CountScan<THREADS>::TempStorage &scratch)
{
    const int64_t per = (m + THREADS - 1) / THREADS, x0 = min(m, threadIdx.x * per),
                  x1 = min(m, x0 + per);
    auto tiles_of = [&](int n) { return (n + tile_rows - 1) / tile_rows; };
    unsigned long long sum = 0, first, total;
    for (int64_t x = x0; x < x1; x++)
        sum += (unsigned long long)(uint32_t)c[x] + ((unsigned long long)tiles_of(c[x]) << 32);
    CountScan<THREADS>(scratch).ExclusiveSum(sum, first, total);
    int entry = (int)(uint32_t)first, tile = (int)(first >> 32);
    // With pair_m: bucket x's pair, stepped with x.
    ExpertPair pair = pair_m ? pair_of_bucket((int32_t)x0, pair_m) : ExpertPair{0, 1};
    for (int64_t x = x0; x < x1; x++) {
        const int n = c[x], tiles = tiles_of(n);
        const int key = pair_m ? pair.e0 * pair_m + pair.e1 : (int)x;
        c[x] = entry;
        for (int i = 0; i < tiles; i++)
            map[tile + i] = make_int4(key, entry + i * tile_rows,
                                      min(tile_rows, n - i * tile_rows), head);
        entry += n;
        tile += tiles;
        if (pair_m) pair = next_pair(pair, pair_m);
    }
    for (int64_t i = (int64_t)(total >> 32) + threadIdx.x; i < tiles_max; i += THREADS)
        map[i] = make_int4(0, 0, 0, head);
}

constexpr int SCAN_THREADS = 1024;
__global__ void __launch_bounds__(SCAN_THREADS) scan_experts(int32_t *counts, int64_t m,
                                                             int tile_rows, int64_t tiles_max,
                                                             int4 *tile_map, int pair_m)
{
    __shared__ CountScan<SCAN_THREADS>::TempStorage scratch;
    scan_expert_counts<SCAN_THREADS>(counts + blockIdx.x * m, m, tile_rows, tiles_max,
                                     tile_map + blockIdx.x * tiles_max, (int)blockIdx.x, pair_m,
                                     scratch);
}

// Exclusive scan in place of the m counters c (shared memory) by the block's SORT_THREADS
// threads: each thread sums its run of consecutive counters, cub::BlockScan scans the runs'
// sums, each thread rewrites its run. A block scan waits for every thread's input, so every
// read of c before the call is done before any run is rewritten. Returns the counters' total
// to every thread, after a barrier.
using SortScan = cub::BlockScan<int, SORT_THREADS, cub::BLOCK_SCAN_WARP_SCANS>;
__device__ int block_exclusive_scan(int32_t *c, int m, SortScan::TempStorage &scratch)
{
    const int per = (m + SORT_THREADS - 1) / SORT_THREADS, x0 = threadIdx.x * per,
              x1 = min(m, x0 + per);
    int sum = 0, run, total;
    for (int x = x0; x < x1; x++) sum += c[x];
    SortScan(scratch).ExclusiveSum(sum, run, total);
    for (int x = x0; x < x1; x++) {
        const int n = c[x];
        c[x] = run;
        run += n;
    }
    __syncthreads(); // every run rewritten before any thread reads another's
    return total;
}

// order: [heads, N], each head's entries grouped by expert (in no particular order within one).
// Per block, up to SORT_SMEM_EXPERTS experts: count in shared memory (each entry's rank among
// its expert's in the block kept), reserve each expert's range of `order` with one atomic on
// its cursor, place the entries by expert in a shared-memory copy of the block's part of
// `order`, then write that out in order of position: consecutive threads write consecutive
// words of one expert's range (~4096/m entries an expert a block), where placing each entry
// straight into `order` made a warp's 32 stores touch up to 32 sectors of as many experts'
// ranges (NOTES "mita" v37). Past it, one global atomic an entry on its expert's cursor (many
// experts: few collide). Shared memory: 8 bytes an expert and 24 KB, up to 120 KB (the launch
// opts in past the default 48 KB).
size_t scatter_smem(int64_t m)
{
    return m <= SORT_SMEM_EXPERTS ? (size_t)m * 8 + (size_t)SORT_QUERIES * 6 : 0;
}
__global__ void __launch_bounds__(SORT_THREADS) scatter_experts(const int32_t *routes, int64_t N,
                                                                int64_t m, int32_t *cursor,
                                                                int32_t *order)
{
    extern __shared__ int32_t local[];
    __shared__ SortScan::TempStorage scan_scratch;
    const int64_t bh = blockIdx.y, i0 = (int64_t)blockIdx.x * SORT_QUERIES;
    int32_t *cur = cursor + bh * m, *out = order + bh * N;
    int32_t e[SORT_PER_THREAD];
    load_routes<SORT_THREADS>(routes + bh * N, N, i0, e);
    auto entry = [&](int j) { return (int32_t)(i0 + threadIdx.x + (int64_t)j * SORT_THREADS); };
    if (m > SORT_SMEM_EXPERTS) {
#pragma unroll
        for (int j = 0; j < SORT_PER_THREAD; j++)
            if (e[j] >= 0) out[atomicAdd(&cur[e[j]], 1)] = entry(j);
        return;
    }
    // [m] counts, then each expert's first slot in `stage` | [m] its offset from `stage` to
    // `order` | stage [SORT_QUERIES] entries | stage_x [SORT_QUERIES] their experts (16 bits)
    int32_t *first = local, *shift = local + m, *stage = local + 2 * m;
    int16_t *stage_x = reinterpret_cast<int16_t *>(stage + SORT_QUERIES);
    for (int64_t x = threadIdx.x; x < m; x += blockDim.x) first[x] = 0;
    __syncthreads();
    int32_t rank[SORT_PER_THREAD];
#pragma unroll
    for (int j = 0; j < SORT_PER_THREAD; j++)
        rank[j] = e[j] >= 0 ? atomicAdd(&first[e[j]], 1) : 0;
    __syncthreads();
    // A reservation's store waits for its atomic's return: a thread issues RESERVE atomics
    // before the first store, so that their round trips overlap (pair mode's 2016 buckets at
    // m = 64 give a thread 8, ~1700 of a block's non-empty).
    constexpr int RESERVE = 8;
    for (int64_t x0 = threadIdx.x; x0 < m; x0 += RESERVE * SORT_THREADS) {
        int32_t got[RESERVE];
#pragma unroll
        for (int b = 0; b < RESERVE; b++) {
            const int64_t x = x0 + b * SORT_THREADS;
            const int32_t n = x < m ? first[x] : 0;
            got[b] = n ? atomicAdd(&cur[x], n) : 0;
        }
#pragma unroll
        for (int b = 0; b < RESERVE; b++)
            if (x0 + b * SORT_THREADS < m) shift[x0 + b * SORT_THREADS] = got[b];
    }
    const int n = block_exclusive_scan(first, (int)m, scan_scratch); // after the reads above
    for (int64_t x = threadIdx.x; x < m; x += blockDim.x) shift[x] -= first[x];
#pragma unroll
    for (int j = 0; j < SORT_PER_THREAD; j++)
        if (e[j] >= 0) {
            const int at = first[e[j]] + rank[j];
            stage[at] = entry(j);
            stage_x[at] = (int16_t)e[j];
        }
    __syncthreads();
    for (int i = threadIdx.x; i < n; i += SORT_THREADS) out[shift[stage_x[i]] + i] = stage[i];
}

// The sorted path's arguments. An entry is a (query, route) pair, entry = query·s_r + r; for
// s_r = 1 entries are queries.
struct TileArgs {
    const void *q, *k, *v;                  // [heads, N, D]; k, v: K_E, V_E [heads, n_experts,
                                            // kk, D] when experts is NULL
    const float *landmarks, *shared_values; // [heads, m, D], or NULL: no shared block
    const void *shared_keys, *shared_vals;  // the same rounded to T (tensor-core kernels)
    const int32_t *experts;                 // [heads, n_experts, kk], or NULL: k, v are K_E, V_E
    const int32_t *order;                   // [heads, entries], grouped by expert
    const int4 *tile_map;                   // [heads, tiles_max]: {expert, first entry, entries,
                                            // head}
    int64_t tiles_max;
    void *o;                                // [heads, N, D]
    void *partial_o;                        // s_r > 1: [heads, entries, D] T, softmax-normalized
    float *partial_ms;                      // s_r > 1: [heads, entries, 2]: max (log2 units), sum
    int64_t N, m, n_experts, kk, entries;
    int s_r;
    int tile_rows;                          // entries a tile of the map holds (tile_rows_for)
    bool pairs;                             // s_r = 2 sorted by expert pair: a map tile's
                                            // "expert" is e0·n_experts + e1 (attend_pairs)
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
    const int4 tile = a.tile_map[bh * a.tiles_max + b];
    if (tile.z == 0) return; // the whole block: no barrier is skipped by part of it
    const int64_t e = tile.x, q0 = tile.y, valid = tile.z;
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
    const ExpertRows<T> x = expert_rows<T, D>(a.k, a.v, a.experts, bh, e, a.N, ne, a.kk);
    for (int64_t kt = 0; kt < a.kk; kt += TILE) {
        __syncthreads();
        if (x.idx) {
            stage_rows_gather<T, D, TILE>(ks, x.keys, x.idx + kt, a.kk - kt);
            stage_rows_gather<T, D, TILE>(vs, x.values, x.idx + kt, a.kk - kt);
        } else {
            stage_rows<T, D, TILE>(ks, x.keys + kt * D, a.kk - kt);
            stage_rows<T, D, TILE>(vs, x.values + kt * D, a.kk - kt);
        }
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

// ---- expert_tiles_mma, shared_merge_mma --------------------------------------------------------

constexpr int MMA_WARPS = 8, MMA_TILE_ROWS = MMA_WARPS * 16; // 128 queries (entries) a block
// Short N, where an expert holds ~N/m <= 32 entries: 32-entry tiles of 2 warps, so that the
// tiles are mostly full and all resident at once (128-entry tiles at N = 2^10, m = 64 were
// 1/8 busy, three waves of a chain of four dependent loads: 13 µs on the H200).
constexpr int SHORT_TILE_WARPS = 2, SHORT_TILE_ROWS = SHORT_TILE_WARPS * 16;
constexpr int KEY_TILE = 64;

// Shared memory of both: sQ [rows, D] (O on the way out) | sK, sV [2, KEY_TILE, D], all T,
// swizzled (mma_util.cuh swz) | rows [rows] int.
__host__ __device__ constexpr size_t tile_mma_smem(int d, int rows = MMA_TILE_ROWS)
{
    return ((size_t)rows * d + (size_t)4 * KEY_TILE * d) * 2 + rows * 4;
}

// 8 fp32 → one 16-byte chunk of T.
template <typename T> __device__ __forceinline__ uint4 pack8(float4 x, float4 y)
{
    return make_uint4(mma_t<T>::pack(x.x, x.y), mma_t<T>::pack(x.z, x.w),
                      mma_t<T>::pack(y.x, y.y), mma_t<T>::pack(y.z, y.w));
}

// Elements i..i+7 of Q̃ and V̂ rounded to T (i a multiple of 8; so is every count, d being one).
template <typename T>
__device__ __forceinline__ void round_shared_chunk(const float *landmarks,
                                                   const float *shared_values, int64_t i, T *keys,
                                                   T *vals)
{
    const float4 *l = reinterpret_cast<const float4 *>(landmarks + i);
    const float4 *v = reinterpret_cast<const float4 *>(shared_values + i);
    *reinterpret_cast<uint4 *>(keys + i) = pack8<T>(l[0], l[1]);
    *reinterpret_cast<uint4 *>(vals + i) = pack8<T>(v[0], v[1]);
}

// Q̃ and V̂ (fp32) rounded to T once per run, so that the tiles stage them by cp.async like
// any key row (converting them in every block cost a synchronous fp32 read each).
template <typename T>
__global__ void __launch_bounds__(256) round_shared_block(const float *landmarks,
                                                          const float *shared_values, int64_t n,
                                                          T *keys, T *vals)
{
    const int64_t i = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) * 8;
    if (i < n) round_shared_chunk(landmarks, shared_values, i, keys, vals);
}

// Short heads (entries <= SHORT_SORT_ENTRIES, m <= SORT_SMEM_EXPERTS): the whole sort of one
// head in one block — count in shared memory, scan (scan_expert_counts), scatter — and the
// head's part of round_shared_block first, under the routes' loads (keys, vals non-NULL:
// 16-bit T with a shared block). At N = 2^10 this is one launch for a memset and four kernels
// (~13 µs on the H200, each a few µs of launch and tail for ~1k entries).
// grid: heads  routes, order: [heads, N]  shared_n: m·d, the block's elements of the shared block
constexpr int64_t SHORT_SORT_ENTRIES = 16384;
constexpr int SHORT_SORT_THREADS = 1024;
template <typename T>
__global__ void __launch_bounds__(SHORT_SORT_THREADS, 1)
    sort_experts_block(const int32_t *routes, int64_t N, int64_t m, int pair_m, int tile_rows,
                       int64_t tiles_max, int4 *tile_map, int32_t *order,
                       const float *landmarks, const float *shared_values, int64_t shared_n,
                       T *keys, T *vals)
{
    extern __shared__ int32_t local[]; // [m]: counts, then the next free slot of each expert
    __shared__ CountScan<SHORT_SORT_THREADS>::TempStorage scan_scratch;
    const int64_t bh = blockIdx.x;
    constexpr int PER_THREAD = SHORT_SORT_ENTRIES / SHORT_SORT_THREADS;
    int32_t e[PER_THREAD];
    load_routes<SHORT_SORT_THREADS>(routes + bh * N, N, 0, e);
    if constexpr (sizeof(T) == 2) { // while the routes' loads are in flight
        if (keys)
            for (int64_t i = bh * shared_n + threadIdx.x * 8; i < (bh + 1) * shared_n;
                 i += blockDim.x * 8)
                round_shared_chunk(landmarks, shared_values, i, keys, vals);
    }
    for (int64_t x = threadIdx.x; x < m; x += blockDim.x) local[x] = 0;
    __syncthreads();
#pragma unroll
    for (int j = 0; j < PER_THREAD; j++)
        if (e[j] >= 0) atomicAdd(&local[e[j]], 1);
    __syncthreads();
    scan_expert_counts<SHORT_SORT_THREADS>(local, m, tile_rows, tiles_max,
                                           tile_map + bh * tiles_max, (int)bh, pair_m,
                                           scan_scratch);
    __syncthreads(); // every run rewritten before the scatter's atomics
    order += bh * N;
#pragma unroll
    for (int j = 0; j < PER_THREAD; j++)
        if (e[j] >= 0)
            order[atomicAdd(&local[e[j]], 1)] = (int32_t)threadIdx.x + j * SHORT_SORT_THREADS;
}

// KEY_TILE rows of keys and values into a stage: rows kt.. of `keys`/`values` ([*, D] T), or
// rows idx[kt..] when idx is given (a gather); rows at and past `end` are zero-filled.
template <typename T, int D>
__device__ __forceinline__ void stage_key_tile(uint32_t k_buf, uint32_t v_buf, const T *keys,
                                               const T *values, const int32_t *idx, int64_t kt,
                                               int64_t end)
{
    constexpr int CHUNKS = D / 8;
    for (int c = threadIdx.x; c < KEY_TILE * CHUNKS; c += blockDim.x) {
        const int r = c / CHUNKS, ch = c % CHUNKS;
        const bool ok = kt + r < end;
        const int64_t row = !ok ? 0 : idx ? idx[kt + r] : kt + r;
        cp_async16(k_buf + swz<D>(r, ch), keys + row * D + ch * 8, ok ? 16 : 0);
        cp_async16(v_buf + swz<D>(r, ch), values + row * D + ch * 8, ok ? 16 : 0);
    }
}

// The warp's 16 rows against one staged key tile (keys kt.. of `end`, logits · scale): one
// step of the online softmax, O += P·V. rmax, rsum, o as in flash attention; rsum is the
// lane's share (row_total sums the quad).
template <typename T, int D>
__device__ __forceinline__ void attend_key_tile(const uint32_t (&qf)[D / 16][4], uint32_t k_buf,
                                                uint32_t v_buf, int64_t kt, int64_t end,
                                                float scale, float (&rmax)[2], float (&rsum)[2],
                                                float (&o)[D / 8][4], int lane)
{
    const int t = lane % 4;
    float s[KEY_TILE / 8][4] = {};
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
        for (int n2 = 0; n2 < KEY_TILE / 16; n2++) {
            uint32_t kb[4];
            ldsm_x4(kb, k_buf + swz<D>(16 * n2 + lane % 8 + 8 * (lane / 16), 2 * kk + (lane / 8) % 2));
            mma_t<T>::mma(s[2 * n2], qf[kk], kb[0], kb[1]);
            mma_t<T>::mma(s[2 * n2 + 1], qf[kk], kb[2], kb[3]);
        }
    // Logits in one unit for every block (scaled, in log2 units), so that they share the
    // running max. Only a block's last tile can be partial: its keys from `valid` on are
    // masked (a 32-bit bound, not a 64-bit key index a score).
    const int valid = kt + KEY_TILE <= end ? KEY_TILE : (int)(end - kt);
    const float sl = scale * LOG2E;
    // Two chains per row (columns x & 1) for the max and the sum: one chain of 16 dependent
    // operations stalled the warp.
    float tm[2][2] = {{-INFINITY, -INFINITY}, {-INFINITY, -INFINITY}};
#pragma unroll
    for (int n = 0; n < KEY_TILE / 8; n++)
#pragma unroll
        for (int x = 0; x < 4; x++) {
            const bool ok = 8 * n + 2 * t + (x & 1) < valid;
            s[n][x] = ok ? s[n][x] * sl : -INFINITY;
            tm[x >> 1][x & 1] = fmaxf(tm[x >> 1][x & 1], s[n][x]);
        }
    float tmax[2] = {fmaxf(tm[0][0], tm[0][1]), fmaxf(tm[1][0], tm[1][1])}, corr[2];
#pragma unroll
    for (int h = 0; h < 2; h++) {
        tmax[h] = fmaxf(tmax[h], __shfl_xor_sync(FULL, tmax[h], 1));
        tmax[h] = fmaxf(tmax[h], __shfl_xor_sync(FULL, tmax[h], 2));
        const float m = fmaxf(rmax[h], tmax[h]); // finite: a tile holds a key
        corr[h] = fast_exp2(rmax[h] - m);
        rmax[h] = m;
    }
    float ws[2][2] = {{0.f, 0.f}, {0.f, 0.f}};
#pragma unroll
    for (int n = 0; n < KEY_TILE / 8; n++)
#pragma unroll
        for (int x = 0; x < 4; x++) {
            s[n][x] = fast_exp2(s[n][x] - rmax[x >> 1]); // 2^-inf = 0 masks
            ws[x >> 1][x & 1] += s[n][x];
        }
    const float wsum[2] = {ws[0][0] + ws[0][1], ws[1][0] + ws[1][1]};
#pragma unroll
    for (int h = 0; h < 2; h++) rsum[h] = rsum[h] * corr[h] + wsum[h];
#pragma unroll
    for (int n = 0; n < D / 8; n++)
#pragma unroll
        for (int x = 0; x < 4; x++) o[n][x] *= corr[x >> 1];
    mma_pv_swizzled<T, KEY_TILE, D>(o, s, v_buf, lane);
}

// Where a key tile's logits come from: keys first.. of `end`, logits · scale.
struct KeyTile {
    int64_t first, end;
    float scale;
};

// A partial key tile's keys at and past its end set to -inf (wgmma's layout: s[4j+2h+e] is key
// 8j+2t+e); a whole one (every tile at m = k = 64) is left as it is, by a uniform branch. The
// scale is the softmax's (wgmma_softmax_p_groups: a tile's group takes its own).
// OFF: where the tile's 64 keys start in s (0, or KEY_TILE / 2 for the second tile of a pair).
template <int OFF, int N>
__device__ __forceinline__ void mask_past_end(float (&s)[N], const KeyTile &kt, int t)
{
    if (kt.first + KEY_TILE <= kt.end) return;
    const int valid = (int)(kt.end - kt.first); // 1 .. KEY_TILE - 1
#pragma unroll
    for (int i = 0; i < KEY_TILE / 2; i++)
        if (8 * (i / 4) + 2 * t + (i & 1) >= valid) s[OFF + i] = -INFINITY;
}

// The key tiles of one expert tile: the shared block's ceil(m/64) (when the tile has one: s_r =
// 1), then the expert's ceil(kk/64), rows gathered in place through its indices or read from
// K_E, V_E.
// With a.pairs (attend_pairs; PAIRS: the kernel takes them, attend_expert_runs alone), the
// map's "expert" e is a pair e0·n_experts + e1: the shared block's tiles, then e0's, then e1's —
// one softmax over their concatenation, as MiTA's definition has for s_r = 2.
template <typename T, int D, bool PAIRS = false> struct TileKeys {
    bool pairs;
    int64_t shared_tiles, expert_tiles, tiles;
    ExpertRows<T> x, x2; // x2: the pair's second expert
    const T *sh_k, *sh_v;

    __device__ TileKeys(const TileArgs &a, int64_t bh, int64_t e)
        : pairs(PAIRS && a.pairs), shared_tiles(a.shared_keys ? (a.m + KEY_TILE - 1) / KEY_TILE : 0),
          expert_tiles((a.kk + KEY_TILE - 1) / KEY_TILE),
          tiles(shared_tiles + (pairs ? 2 : 1) * expert_tiles),
          x(expert_rows<T, D>(a.k, a.v, a.experts, bh, pairs ? e / a.n_experts : e, a.N,
                              a.n_experts, a.kk)),
          x2(pairs ? expert_rows<T, D>(a.k, a.v, a.experts, bh, e % a.n_experts, a.N,
                                       a.n_experts, a.kk)
                   : x),
          sh_k(a.shared_keys ? static_cast<const T *>(a.shared_keys) + bh * a.m * D : nullptr),
          sh_v(a.shared_keys ? static_cast<const T *>(a.shared_vals) + bh * a.m * D : nullptr)
    {
    }
    __device__ bool is_shared(int64_t j) const { return j < shared_tiles; }
    // The rows key tile j reads: the shared block's (Q̃, V̂ in T, no indices), the expert's, or
    // the pair's second. By value: a select, not a local copy.
    __device__ ExpertRows<T> rows_of(int64_t j) const
    {
        if (is_shared(j)) return {sh_k, sh_v, nullptr};
        return !PAIRS || j - shared_tiles < expert_tiles ? x : x2;
    }
    __device__ KeyTile tile(const TileArgs &a, int64_t j) const
    {
        const int64_t jj = j - shared_tiles; // past the shared block: e0's tiles, then e1's
        return is_shared(j) ? KeyTile{j * KEY_TILE, a.m, a.shared_scale}
                            : KeyTile{(!PAIRS || jj < expert_tiles ? jj : jj - expert_tiles) * KEY_TILE,
                                      a.kk, a.scale};
    }
};

// The warp's 16 rows of sQ against `tiles` key tiles, double-buffered in sK and sV
// (for_each_staged_tile, tile 0 staged by the caller): stage(j, buf) as there, tile_of(j) the
// KeyTile of tile j. Warps that are not `busy` (past the block's entries) only stage and wait.
template <typename T, int D, typename Stage, typename TileOf>
__device__ __forceinline__ void attend_key_tiles(int64_t tiles, Stage &&stage, TileOf &&tile_of,
                                                 bool busy, uint32_t sQ, uint32_t sK,
                                                 uint32_t sV, float (&rmax)[2],
                                                 float (&rsum)[2], float (&o)[D / 8][4],
                                                 int warp, int lane)
{
    uint32_t qf[D / 16][4];
    for_each_staged_tile(tiles, stage, [&](int64_t j, int buf) {
        if (!busy) return;
        if (j == 0)
#pragma unroll
            for (int kk = 0; kk < D / 16; kk++)
                ldsm_x4(qf[kk], sQ + swz<D>(warp * 16 + lane % 16, 2 * kk + lane / 16));
        const KeyTile kt = tile_of(j);
        attend_key_tile<T, D>(qf, sK + buf * KEY_TILE * D * 2, sV + buf * KEY_TILE * D * 2,
                              kt.first, kt.end, kt.scale, rmax, rsum, o, lane);
    });
}

// The warp's 16 rows of o·inv[h] as T through its own rows of sQ (their Q fragments are in
// registers by now), then out in 16-byte stores: row r of the tile to dst + dst_row[r]·D, rows
// at and past `valid` skipped.
template <typename T, int D>
__device__ __forceinline__ void store_rows(const float (&o)[D / 8][4], const float (&inv)[2],
                                           uint32_t sQ, T *dst, const int32_t *dst_row,
                                           int valid, int warp, int lane)
{
    constexpr int CHUNKS = D / 8;
    const int g = lane / 4, t = lane % 4;
#pragma unroll
    for (int h = 0; h < 2; h++)
#pragma unroll
        for (int n = 0; n < D / 8; n++) {
            const uint32_t x = mma_t<T>::pack(o[n][2 * h] * inv[h], o[n][2 * h + 1] * inv[h]);
            asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(sQ + swz<D>(warp * 16 + g + 8 * h, n) + 4 * t),
                         "r"(x)
                         : "memory");
        }
    __syncwarp();
    for (int c = lane; c < 16 * CHUNKS; c += 32) {
        const int r = warp * 16 + c / CHUNKS, ch = c % CHUNKS;
        if (r >= valid) continue;
        *reinterpret_cast<uint4 *>(dst + (int64_t)dst_row[r] * D + ch * 8) = lds128(sQ + swz<D>(r, ch));
    }
}

// As attend_expert_tiles, on the tensor cores (bf16/fp16): grid (ceil(entries/128) + n_experts,
// heads), block b of head bh takes that head's b-th tile of up to 128 entries of one expert:
// their query rows gathered by cp.async, then 64-key tiles of the shared block (Q̃, V̂ rounded
// to T) and of the expert (K_E, V_E gathered in place), double-buffered against the previous
// tile's mma, one online softmax over all. s_r = 1: O of the queries. s_r > 1 (no shared block
// here; shared_merge_mma adds it): each entry's normalized partial and its (max, sum).
// WARPS: 8 (128-entry tiles), or SHORT_TILE_WARPS at short N (tile_rows_for).
// Two 8-warp blocks an SM at d = 64 (128 registers a thread; 1 block = 8 warps hid no
// latency); eight 2-warp blocks (six fit by shared memory).
template <typename T, int D, int WARPS = MMA_WARPS>
__global__ void __launch_bounds__(WARPS * 32, WARPS == MMA_WARPS ? (D == 64 ? 2 : 1) : (D == 64 ? 8 : 4))
    attend_expert_tiles_mma(TileArgs a)
{
    constexpr int CHUNKS = D / 8; // 16-byte chunks per row
    constexpr int ROWS = WARPS * 16;
    extern __shared__ __align__(16) unsigned char smem[];
    const uint32_t sQ = smem_u32(smem), sK = sQ + ROWS * D * 2;
    const uint32_t sV = sK + 2 * KEY_TILE * D * 2;
    int32_t *rows = reinterpret_cast<int32_t *>(smem + tile_mma_smem(D, ROWS) - ROWS * 4);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int64_t bh = blockIdx.y, b = blockIdx.x;
    const int4 tile = a.tile_map[bh * a.tiles_max + b];
    if (tile.z == 0) return; // the whole block: no barrier is skipped by part of it
    const int64_t e = tile.x, q0 = tile.y;
    const int valid = tile.z;
    for (int r = threadIdx.x; r < ROWS; r += blockDim.x) // the tile's entries
        rows[r] = r < valid ? a.order[bh * a.entries + q0 + r] : 0;
    __syncthreads();
    const T *q = static_cast<const T *>(a.q) + bh * a.N * D;
    for (int c = threadIdx.x; c < ROWS * CHUNKS; c += blockDim.x) {
        const int r = c / CHUNKS, ch = c % CHUNKS;
        cp_async16(sQ + swz<D>(r, ch), q + (int64_t)(rows[r] / a.s_r) * D + ch * 8,
                   r < valid ? 16 : 0);
    }

    const TileKeys<T, D> keys(a, bh, e);
    auto stage = [&](int64_t j, int buf) {
        const uint32_t k_buf = sK + buf * KEY_TILE * D * 2, v_buf = sV + buf * KEY_TILE * D * 2;
        const KeyTile kt = keys.tile(a, j);
        if (keys.is_shared(j)) // two calls, not rows_of's select: through it d = 64 spilled 40 bytes
            stage_key_tile<T, D>(k_buf, v_buf, keys.sh_k, keys.sh_v, nullptr, kt.first, kt.end);
        else
            stage_key_tile<T, D>(k_buf, v_buf, keys.x.keys, keys.x.values, keys.x.idx, kt.first,
                                 kt.end);
        cp_async_commit();
    };
    stage(0, 0); // one group with the Q rows

    const bool busy = warp * 16 < valid;
    float rmax[2] = {-INFINITY, -INFINITY}, rsum[2] = {0.f, 0.f}, o[D / 8][4] = {};
    attend_key_tiles<T, D>(
        keys.tiles, stage, [&](int64_t j) { return keys.tile(a, j); }, busy, sQ, sK, sV, rmax,
        rsum, o, warp, lane);
    if (!busy) return;
    float inv[2];
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const float sum = row_total(rsum[h]);
        inv[h] = 1.f / sum;
        const int r = warp * 16 + g + 8 * h;
        if (a.partial_ms && t == 0 && r < valid)
            *reinterpret_cast<float2 *>(a.partial_ms + (bh * a.entries + rows[r]) * 2) =
                make_float2(rmax[h], sum);
    }
    if (a.partial_o) {
        store_rows<T, D>(o, inv, sQ, static_cast<T *>(a.partial_o) + bh * a.entries * D, rows,
                         valid, warp, lane);
    } else {
        store_rows<T, D>(o, inv, sQ, static_cast<T *>(a.o) + bh * a.N * D, rows, valid, warp,
                         lane); // s_r = 1: entries are queries
    }
}

// ---- expert_tiles_wgmma (sm_90a) -------------------------------------------------------------
//
// attend_expert_tiles_mma's work on Hopper's wgmma: at N = 2^20 its 275 GFLOP (each query
// against m + k = 128 keys) ran on mma.sync at ~146 TFLOP/s (H100). Two warpgroups of 64
// entries make the same 128-entry tile of the tile map. Every thread gathers by cp.async: the
// tile's Q rows, then each 64-key tile of the shared block (Q̃, V̂ rounded) and of the expert (K_E,
// V_E in place), double-buffered, all in the SW128 layout (hopper.cuh) that wgmma's
// descriptors read — TMA cannot gather rows on Hopper. After each tile lands, a proxy fence
// hands the cp.async writes to wgmma: S = Q·Kᵀ (both from shared memory), the logits scaled
// into log2 units by the tile's own scale (the shared block's and the expert's differ), the
// online softmax of wgmma_softmax.cuh, O += P·V (P from registers). Same outputs as the mma.sync
// tiles: O rows scattered to their queries (s_r = 1), or each entry's normalized partial and
// its (max, sum) for shared_merge_mma (s_r > 1).
//
// Persistent: an item is one tile of one head's map (item = head · tiles_max + tile), and the
// grid is the blocks that fit at once; block i takes items i, i + gridDim.x, ..., skipping the
// empty ones. A tile's work is two key tiles at m = k = 64, too little to hide the chain that
// starts it (its map entry, then its order, then its Q rows) behind the other resident blocks
// (two an SM at d = 64, one at d = 128): so the next item's map and order are read during the
// current one (after its first key tile's MMAs, while the second's copy is in flight), and its
// Q rows and first key tile copied with the current one's last key tile, into the other of two
// Q buffers: one stream of key tiles through two stages.
constexpr int WG_ROWS = 128, WG_THREADS = 256;

// Shared memory: Q [2][128 rows] | 2 stages × (K, V) [64 rows] SW128 | rows [2][128] int, from
// a 1024-byte boundary (+1 KB of slack for it).
__host__ __device__ constexpr size_t tile_wgmma_smem(int d)
{
    return (size_t)2 * WG_ROWS * d * 2 + (size_t)4 * KEY_TILE * d * 2 + 2 * WG_ROWS * 4 + 1024;
}

// items = heads · tiles_max; grid: min(items, the resident blocks).
template <typename T, int D>
__global__ void __launch_bounds__(WG_THREADS, D == 64 ? 2 : 1)
    attend_expert_tiles_wgmma(TileArgs a, int64_t items)
{
#if HOPPER_WGMMA
    constexpr int CHUNKS = D / 8;
    constexpr uint32_t Q_BLOCK = WG_ROWS * 128, K_BLOCK = KEY_TILE * 128;
    constexpr uint32_t Q_TILE = Q_BLOCK * (D / 64), KV_TILE = K_BLOCK * (D / 64);
    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = hopper_smem_align1024(smem_raw);
    const uint32_t sQ = smem_u32(smem), sK = sQ + 2 * Q_TILE, sV = sK + 2 * KV_TILE;
    int32_t *rows = reinterpret_cast<int32_t *>(smem + 2 * Q_TILE + 4 * KV_TILE); // [2][128]
    const int tid = threadIdx.x, wg = tid / 128, t = tid % 4;

    // The first item at or after i, in the block's steps, whose tile has entries (items if
    // none), its map entry in *tile. Every thread reads the same entries: uniform.
    auto next_item = [&](int64_t i, int4 *tile) {
        for (; i < items; i += gridDim.x) {
            *tile = a.tile_map[i];
            if (tile->z) return i;
        }
        return items;
    };
    // An item's entries into rows[qb] (0 past its valid ones); read after a barrier. The
    // map entry's fourth word is its head (scan_expert_counts).
    auto load_rows = [&](int4 tile, int qb) {
        if (tid < WG_ROWS)
            rows[qb * WG_ROWS + tid] = tid < tile.z ? a.order[tile.w * a.entries + tile.y + tid] : 0;
    };
    // An item's Q rows into Q buffer qb (the caller commits).
    auto stage_q = [&](int4 tile, int qb) {
        const T *q = static_cast<const T *>(a.q) + tile.w * a.N * D;
        for (int c = tid; c < WG_ROWS * CHUNKS; c += WG_THREADS) {
            const int r = c / CHUNKS, ch = c % CHUNKS;
            cp_async16(sQ + qb * Q_TILE + hopper_sw128_offset(r, ch, Q_BLOCK),
                       q + (int64_t)(rows[qb * WG_ROWS + r] / a.s_r) * D + ch * 8,
                       r < tile.z ? 16 : 0);
        }
    };
    // Key tile j of an item (its TileKeys) into stage buf (the caller commits).
    auto stage_keys = [&](const TileKeys<T, D> &keys, int64_t j, int buf) {
        const KeyTile kt = keys.tile(a, j);
        const ExpertRows<T> x = keys.rows_of(j);
        for (int c = tid; c < KEY_TILE * CHUNKS; c += WG_THREADS) {
            const int r = c / CHUNKS, ch = c % CHUNKS;
            const bool ok = kt.first + r < kt.end;
            const int64_t row = !ok ? 0 : x.idx ? x.idx[kt.first + r] : kt.first + r;
            const uint32_t at = hopper_sw128_offset(r, ch, K_BLOCK) + buf * KV_TILE;
            cp_async16(sK + at, x.keys + row * D + ch * 8, ok ? 16 : 0);
            cp_async16(sV + at, x.values + row * D + ch * 8, ok ? 16 : 0);
        }
    };

    int4 tile;
    int64_t cur = next_item(blockIdx.x, &tile);
    if (cur == items) return; // the whole block
    int qb = 0, buf = 0;
    load_rows(tile, 0);
    __syncthreads(); // rows[0] before the Q copies read it
    stage_q(tile, 0);
    stage_keys(TileKeys<T, D>(a, tile.w, tile.x), 0, 0);
    cp_async_commit();
    while (cur < items) {
        const int64_t bh = tile.w;
        const TileKeys<T, D> keys(a, bh, tile.x);
        // The next item and its entries (into rows[qb ^ 1], whose last reader, the item
        // before, is done): with two key tiles or more, after the first one's MMAs, while the
        // second's copy is in flight, so that the chain map -> order stalls no one; the
        // barrier that ends that key tile orders rows[qb ^ 1] before the next item's Q copies
        // (issued with the last key tile). With one key tile, here.
        int4 next_tile = {};
        int64_t nxt = items;
        auto find_next = [&] {
            nxt = next_item(cur + gridDim.x, &next_tile);
            if (nxt < items) load_rows(next_tile, qb ^ 1);
        };
        if (keys.tiles == 1) {
            find_next();
            __syncthreads();
        }

        float s[KEY_TILE / 2], o[D / 2], row_max[2] = {-INFINITY, -INFINITY},
                                         row_sum[2] = {0.f, 0.f};
        uint32_t p[KEY_TILE / 16][4];
#pragma unroll
        for (int i = 0; i < D / 2; i++) o[i] = 0.f;
        const uint32_t sQw = sQ + qb * Q_TILE + wg * 64 * 128; // this warpgroup's rows
        for (int64_t j = 0; j < keys.tiles; j++, buf ^= 1) {
            // Next in the stream: this item's next key tile, else the next item's Q rows and
            // first key tile (into the other Q buffer), else nothing.
            if (j + 1 < keys.tiles) {
                stage_keys(keys, j + 1, buf ^ 1);
                cp_async_commit();
                cp_async_wait<1>();
            } else if (nxt < items) {
                stage_q(next_tile, qb ^ 1);
                stage_keys(TileKeys<T, D>(a, next_tile.w, next_tile.x), 0, buf ^ 1);
                cp_async_commit();
                cp_async_wait<1>();
            } else {
                cp_async_wait<0>();
            }
            // Each thread's copies, a proxy fence, then the barrier before wgmma reads them.
            hopper_fence_proxy_async();
            __syncthreads();
            const uint32_t kb = sK + buf * KV_TILE, vb = sV + buf * KV_TILE;
            hopper_wgmma_fence();
#pragma unroll
            for (int kk = 0; kk < D / 16; kk++)
                hopper_wgmma_ss<T, KEY_TILE, 0>(s, hopper_desc_kmajor(sQw, Q_BLOCK, kk),
                                                hopper_desc_kmajor(kb, K_BLOCK, kk), kk > 0);
            hopper_wgmma_commit();
            hopper_wgmma_wait<0>();
            hopper_pin(s);
            const KeyTile kt = keys.tile(a, j);
            mask_past_end<0>(s, kt, t);
            const float sl[1] = {kt.scale * LOG2E};
            float alpha[2];
            wgmma_softmax_p_groups<T, KEY_TILE, 1>(s, p, alpha, row_max, row_sum, t, sl);
            wgmma_rescale_pv<T, D, KEY_TILE>(o, p, alpha, vb, K_BLOCK);
            if (j == 0 && keys.tiles > 1) find_next();
            __syncthreads(); // this stage is refilled two key tiles on
        }

        // Out: this thread's rows 64wg + 16w + g (+8) of the tile, straight from the
        // accumulators.
        const int w = (tid % 128) / 32, g = (tid % 32) / 4;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const float sum = row_total(row_sum[h]), inv = 1.f / sum;
            const int r = 64 * wg + 16 * w + g + 8 * h;
            if (r >= tile.z) continue;
            const int64_t entry = rows[qb * WG_ROWS + r];
            if (a.partial_ms && t == 0)
                *reinterpret_cast<float2 *>(a.partial_ms + (bh * a.entries + entry) * 2) =
                    make_float2(row_max[h], sum);
            T *dst = a.partial_o ? static_cast<T *>(a.partial_o) + (bh * a.entries + entry) * D
                                 : static_cast<T *>(a.o) + (bh * a.N + entry) * D; // s_r = 1
#pragma unroll
            for (int jj = 0; jj < D / 8; jj++)
                *reinterpret_cast<uint32_t *>(dst + 8 * jj + 2 * t) =
                    mma_t<T>::pack(o[4 * jj + 2 * h] * inv, o[4 * jj + 2 * h + 1] * inv);
        }
        // rows[qb] and Q buffer qb are the item after next's: every thread is past them.
        __syncthreads();
        cur = nxt;
        tile = next_tile;
        qb ^= 1;
    }
#endif
}

// ---- expert_runs (sm_90a) --------------------------------------------------------------------
//
// The wgmma expert tiles with the copies off the consumers' path, where a run's 64-key tiles
// fit in shared memory (runs_fit: RunShape::KV_TILES of them, the shared block's ceil(m/64)
// and the expert's ceil(k/64), or both experts' with pairs; MiTA's m = k = 64 takes 2).
// attend_expert_tiles_wgmma ran at ~4× its bytes (NOTES.md, "mita" v15): each item waited on
// its own chain map -> order -> Q rows, and gathered its expert's keys and values again for
// every 128 entries. Here one block holds an SM and walks 32-entry chunks of the heads' tile
// maps (RunWalk), where consecutive items mostly share (head, expert): a run. A run's key and
// value tiles (shared block, then the expert's, gathered in place) are copied once into one of
// two run slots and stay while its items pass. Warp-specialized:
//   producer warps, one per Q stage: warp w takes the block's non-empty items w, w + STAGES, ...:
//     waits for its stage to be free, copies (cp.async) the item's entries' Q rows into it,
//     and, for the first item of a run, the run's tiles into its slot once that is free; then
//     waits for its own copies, fences them to the async proxy and arrives on the stage's (and
//     slot's) full barrier: STAGES items' rows in flight an SM, none waited on by a consumer.
//   two consumer warpgroups, 64 entries of every item each: per key tile of the run, S = Q·Kᵀ,
//     the online softmax and O += P·V by wgmma; then O through their own rows of the stage
//     (swizzled; each warp stores its 16 rows as 16-byte chunks of whole rows), and the stage
//     released. Same outputs as the other tile kernels (s_r = 1: O; s_r > 1: the partials).
// Every warp walks the same items with a RunWalk, so that an item's stage (its place among the
// non-empty items modulo STAGES) and its run's slot (the run's place modulo 2) agree. The
// consumers release run r − 1's slot as they start run r, on kv_empty[(r − 1) % 4]; the producer
// of run r waits for run r − 2's release there. Four release barriers, not two: a producer may
// be STAGES items ahead of the consumers, and with runs of one item that is four runs, so that a
// barrier per slot could still be a whole phase behind, and its parity wait pass at once.
template <int D> struct RunShape {
    static constexpr int STAGES = D == 64 ? 4 : 2;   // Q stages = producer warps
    static_assert(STAGES <= 4, "a producer STAGES runs ahead: four slot release barriers");
    static constexpr int KV_TILES = D == 64 ? 4 : 2; // 64-key tiles a run slot holds
    static constexpr int THREADS = 256 + 32 * STAGES;
    static constexpr uint32_t Q_BLOCK = MMA_TILE_ROWS * 128, Q_STAGE = Q_BLOCK * (D / 64);
    static constexpr uint32_t K_BLOCK = KEY_TILE * 128, KV_TILE = K_BLOCK * (D / 64);
    static constexpr uint32_t SLOT = 2 * KV_TILES * KV_TILE; // K tiles, then V tiles
    // Q stages | 2 run slots | ones (1024 bytes: the row sums' B operand) | rows [STAGES][128]
    // int | barriers (full, empty [STAGES], kv_full [2], kv_empty [4]), from a 1024-byte
    // boundary.
    static constexpr uint32_t ONES = STAGES * Q_STAGE + 2 * SLOT, ROWS_AT = ONES + 1024;
    static constexpr size_t SMEM = (size_t)ROWS_AT + (size_t)STAGES * MMA_TILE_ROWS * 4 +
                                   (2 * STAGES + 6) * 8 + 1024;
};

// attend_expert_runs needs runs long enough to pipeline: a block holds two runs' key
// tiles, and a producer gathers a run's only once the run two back is done, so runs of one or
// two items leave the block one item deep (measured on an H100 at N = 2^12-2^16, m = 64: MiTA
// 1.2-1.8× slower than with attend_expert_tiles_wgmma, which gathers every item's keys four
// items ahead). It takes a call whose runs average RUN_MIN_ITEMS items or more (entries ≥
// 2048 · n_experts a head: N ≥ 2^17 at m = 64), and every pair-mode call (only it reads pairs).
constexpr int64_t RUN_MIN_ITEMS = 16;
bool runs_long(int64_t entries_per_head, int64_t n_experts)
{
    return entries_per_head >= RUN_MIN_ITEMS * MMA_TILE_ROWS * n_experts;
}

// Whether a run's key tiles fit a slot: the shared block's (when the tiles have one) and the
// expert's (both experts' with pairs).
bool runs_fit(int d, int64_t m, bool shared, int64_t kk, bool pairs)
{
    const int64_t tiles = (shared ? (m + KEY_TILE - 1) / KEY_TILE : 0) +
                          (pairs ? 2 : 1) * ((kk + KEY_TILE - 1) / KEY_TILE);
    return tiles <= (d == 64 ? RunShape<64>::KV_TILES : RunShape<128>::KV_TILES);
}

#if HOPPER_WGMMA // the walk serves attend_expert_runs alone, whose body only the sm_90a pass keeps
// One item of a block's walk: its head, map entry, place among the block's non-empty items
// (seq) and among its runs (run), and whether it starts a run.
struct RunItem {
    int64_t bh, seq, run;
    int4 tile;
    bool starts_run;
};

// The non-empty items of a block's chunks of the map, in order, for one warp (uniform): chunk
// c is the 32 entries from 32c, and block b takes chunks b, b + G, b + 2G, ... of the `end`
// entries (G blocks), read a lane an entry, the block's next chunk loaded ahead, so that the
// walk waits on a load once per 32 items, not per item. Dealt round-robin, the chunks spread
// each head's empty tail (a quarter of pair mode's map at 2^20) over every block; within a
// chunk consecutive items mostly share (head, expert).
struct RunWalk {
    const int4 *map;
    int64_t end, stride, base; // base: the map index of lane 0's entry in `mine`
    int4 mine, ahead;
    unsigned live = 0;            // the lanes of `mine` not yet walked whose tiles have entries
    int lane;
    int64_t seq = -1, run = -1, bh = -1;
    int expert = -1;

    __device__ RunWalk(const int4 *map_, int64_t end_, int lane_)
        : map(map_), end(end_), stride(32 * (int64_t)gridDim.x),
          base(32 * (int64_t)blockIdx.x - stride), lane(lane_)
    {
        ahead = load(base + stride);
    }
    __device__ int4 load(int64_t at) const
    {
        return at + lane < end ? map[at + lane] : make_int4(0, 0, 0, 0);
    }
    __device__ bool next(RunItem &it)
    {
        while (live == 0) {
            base += stride;
            if (base >= end) return false;
            mine = ahead;
            ahead = load(base + stride);
            live = __ballot_sync(FULL, mine.z != 0);
        }
        const int l = __ffs(live) - 1;
        live &= live - 1;
        it.tile = make_int4(__shfl_sync(FULL, mine.x, l), __shfl_sync(FULL, mine.y, l),
                            __shfl_sync(FULL, mine.z, l), 0);
        it.bh = __shfl_sync(FULL, mine.w, l); // scan_expert_counts writes the head there
        it.starts_run = it.bh != bh || it.tile.x != expert;
        bh = it.bh;
        expert = it.tile.x;
        run += it.starts_run;
        it.seq = ++seq;
        it.run = run;
        return true;
    }
};

#endif

// Grid: one block an SM (at most one an item); block b walks the map's 32-entry chunks b, b + G, ...
template <typename T, int D>
__global__ void __launch_bounds__(RunShape<D>::THREADS, 1)
    attend_expert_runs(TileArgs a, int64_t items)
{
#if HOPPER_WGMMA
    using L = RunShape<D>;
    constexpr int CHUNKS = D / 8, ROWS = MMA_TILE_ROWS;
    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = hopper_smem_align1024(smem_raw);
    const uint32_t sQ = hopper_smem_base(smem), sKV = sQ + L::STAGES * L::Q_STAGE;
    int32_t *rows = reinterpret_cast<int32_t *>(smem + L::ROWS_AT);
    uint64_t *full = reinterpret_cast<uint64_t *>(rows + L::STAGES * ROWS);
    uint64_t *empty = full + L::STAGES, *kv_full = empty + L::STAGES, *kv_empty = kv_full + 2;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (threadIdx.x == 0) {
        for (int s = 0; s < L::STAGES; s++) {
            cuda::ptx::mbarrier_init(&full[s], 32);   // the producer warp's lanes
            cuda::ptx::mbarrier_init(&empty[s], 256); // the consumer threads
        }
        for (int s = 0; s < 2; s++) cuda::ptx::mbarrier_init(&kv_full[s], 32);
        for (int s = 0; s < 4; s++) cuda::ptx::mbarrier_init(&kv_empty[s], 8);
        cuda::ptx::fence_mbarrier_init(cuda::ptx::sem_release, cuda::ptx::scope_cluster);
    }
    for (int i = threadIdx.x; i < 1024 / 4; i += blockDim.x)
        reinterpret_cast<uint32_t *>(smem + L::ONES)[i] = mma_t<T>::pack(1.f, 1.f);
    hopper_fence_proxy_async(); // the ones, before wgmma reads them
    __syncthreads(); // the block's only one: the roles part here
    RunWalk walk(a.tile_map, items, lane);
    RunItem it;

    if (warp >= 8) { // ---- producer warp w: stage w
        const int w = warp - 8;
        const T *q = static_cast<const T *>(a.q);
        while (walk.next(it)) {
            if (it.seq % L::STAGES != w) continue;
            hopper_wait(&empty[w], ((it.seq / L::STAGES) & 1) ^ 1);
            const int slot = (int)(it.run & 1);
            if (it.starts_run) { // the run's key and value tiles, once run - 2's are read
                if (it.run >= 2) hopper_wait(&kv_empty[(it.run - 2) & 3], ((it.run - 2) >> 2) & 1);
                const TileKeys<T, D, true> keys(a, it.bh, it.tile.x);
                const uint32_t k_slot = sKV + slot * L::SLOT, v_slot = k_slot + L::KV_TILES * L::KV_TILE;
                for (int64_t j = 0; j < keys.tiles; j++) {
                    const KeyTile kt = keys.tile(a, j);
                    const ExpertRows<T> x = keys.rows_of(j);
                    // Row lane + 32i's source in src[i], then whole rows an instruction (as the
                    // Q rows below).
                    int64_t src[KEY_TILE / 32];
#pragma unroll
                    for (int i = 0; i < KEY_TILE / 32; i++) {
                        const int64_t r = kt.first + lane + 32 * i;
                        src[i] = r >= kt.end ? -1 : x.idx ? x.idx[r] : r;
                    }
#pragma unroll
                    for (int i = 0; i < KEY_TILE * CHUNKS / 32; i++) {
                        const int c = lane + 32 * i, r = c / CHUNKS, ch = c % CHUNKS;
                        const int64_t row = __shfl_sync(FULL, src[i / CHUNKS], r % 32);
                        const uint32_t at = j * L::KV_TILE + hopper_sw128_offset(r, ch, L::K_BLOCK);
                        cp_async16(k_slot + at, x.keys + (row < 0 ? 0 : row) * D + ch * 8, row < 0 ? 0 : 16);
                        cp_async16(v_slot + at, x.values + (row < 0 ? 0 : row) * D + ch * 8, row < 0 ? 0 : 16);
                    }
                }
            }
            // The item's entries (for the consumers' stores) and their Q rows. Entry
            // lane + 32j's query (entry / s_r, divided once a row, not once a copy) in
            // query[j]; then each copy instruction takes whole rows (CHUNKS lanes a row: full
            // sectors), a row's query shuffled from its lane.
            const int32_t *order = a.order + it.bh * a.entries + it.tile.y;
            int32_t query[ROWS / 32];
#pragma unroll
            for (int j = 0; j < ROWS / 32; j++) {
                const int32_t e = lane + 32 * j < it.tile.z ? order[lane + 32 * j] : 0;
                rows[w * ROWS + lane + 32 * j] = e;
                query[j] = a.s_r == 1 ? e : e / a.s_r;
            }
            const T *head_q = q + it.bh * a.N * D;
            const uint32_t stage = sQ + w * L::Q_STAGE;
#pragma unroll
            for (int i = 0; i < ROWS * CHUNKS / 32; i++) {
                const int c = lane + 32 * i, r = c / CHUNKS, ch = c % CHUNKS;
                const int32_t qr = __shfl_sync(FULL, query[i / CHUNKS], r % 32); // row r / 32 = i / CHUNKS
                cp_async16(stage + hopper_sw128_offset(r, ch, L::Q_BLOCK),
                           head_q + (int64_t)qr * D + ch * 8, r < it.tile.z ? 16 : 0);
            }
            cp_async_commit();
            cp_async_wait<0>();
            hopper_fence_proxy_async(); // this lane's copies, before wgmma reads them
            // Every lane arrives for its own copies and entries (full and kv_full count 32,
            // empty counts the 256 consumer threads): each write is released by the thread
            // that made it, not through a warp barrier and one lane's arrive, which is as
            // correct but which compute-sanitizer's racecheck cannot follow (it reported every
            // other lane's accesses as races; measured: no cost, NOTES "mita" v31).
            if (it.starts_run) cuda::ptx::mbarrier_arrive(&kv_full[slot]);
            cuda::ptx::mbarrier_arrive(&full[w]);
        }
        return;
    }

    // ---- consumer warpgroup c: rows 64c .. 64c + 63 of every item
    const int c = warp / 4, w = warp % 4, g = lane / 4, t = lane % 4;
    // The entries' and the barriers' shared addresses, from sQ (hopper_smem_base: held)
    // rather than from generic pointers (a conversion each use).
    const uint32_t rows_at = sQ + L::ROWS_AT, ones = sQ + L::ONES;
    // The barriers' offsets from rows_at: full, empty [STAGES], kv_full [2], kv_empty [4].
    constexpr uint32_t AT_FULL = L::STAGES * ROWS * 4, AT_EMPTY = AT_FULL + 8 * L::STAGES;
    constexpr uint32_t AT_KV_FULL = AT_EMPTY + 8 * L::STAGES, AT_KV_EMPTY = AT_KV_FULL + 16;
    while (walk.next(it)) {
        const int st = (int)(it.seq % L::STAGES), slot = (int)(it.run & 1);
        if (it.starts_run) {
            if (it.run > 0) { // the previous run's tiles are read: its slot is free
                __syncwarp();
                if (lane == 0) hopper_arrive(rows_at + AT_KV_EMPTY + 8 * ((it.run - 1) & 3));
            }
            hopper_wait(rows_at + AT_KV_FULL + 8 * slot, (it.run >> 1) & 1);
        }
        hopper_wait(rows_at + AT_FULL + 8 * st, (it.seq / L::STAGES) & 1);
        const TileKeys<T, D, true> keys(a, it.bh, it.tile.x);
        const uint32_t sQw = sQ + st * L::Q_STAGE + c * 64 * 128, k_slot = sKV + slot * L::SLOT;
        // O and the rows' sums L, both wgmma accumulators (wgmma_rescale_pv_sum).
        float o[D / 2], l[4] = {0.f, 0.f, 0.f, 0.f}, row_max[2] = {-INFINITY, -INFINITY}, alpha[2];
#pragma unroll
        for (int i = 0; i < D / 2; i++) o[i] = 0.f;
        for (int64_t j = 0; j < keys.tiles; j++) {
            const uint32_t kb = k_slot + j * L::KV_TILE, vb = kb + L::KV_TILES * L::KV_TILE;
            if constexpr (D == 64) {
                if (j + 1 < keys.tiles) {
                    // Two tiles as one of 128 keys (d = 64: the second's K and V rows follow
                    // the first's in one column block): S by m64n128 wgmma, one softmax step,
                    // P·V in eight k-steps — half the waits, reductions and rescales of O.
                    float s[2 * KEY_TILE / 2];
                    uint32_t p[2 * KEY_TILE / 16][4];
                    hopper_scores_kmajor<T, 2 * KEY_TILE, D, 1>(s, 0, 0, sQw, kb, L::Q_BLOCK, L::K_BLOCK);
                    const KeyTile k0 = keys.tile(a, j), k1 = keys.tile(a, j + 1);
                    mask_past_end<0>(s, k0, t);
                    mask_past_end<KEY_TILE / 2>(s, k1, t);
                    const float sl[2] = {k0.scale * LOG2E, k1.scale * LOG2E};
                    wgmma_softmax_p_groups<T, 2 * KEY_TILE, 2, false>(s, p, alpha, row_max, nullptr, t, sl);
                    wgmma_rescale_pv_sum<T, D, 2 * KEY_TILE>(o, l, p, alpha, vb, L::K_BLOCK, ones);
                    j++;
                    continue;
                }
            }
            {
                float s[KEY_TILE / 2];
                uint32_t p[KEY_TILE / 16][4];
                hopper_scores_kmajor<T, KEY_TILE, D, 1>(s, 0, 0, sQw, kb, L::Q_BLOCK, L::K_BLOCK);
                const KeyTile kt = keys.tile(a, j);
                mask_past_end<0>(s, kt, t);
                const float sl[1] = {kt.scale * LOG2E};
                wgmma_softmax_p_groups<T, KEY_TILE, 1, false>(s, p, alpha, row_max, nullptr, t, sl);
                wgmma_rescale_pv_sum<T, D, KEY_TILE>(o, l, p, alpha, vb, L::K_BLOCK, ones);
            }
        }

        // The rows' reciprocals (their sums from the tensor cores, l[2h]: whole rows).
        float inv[2];
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const float sum = l[2 * h];
            inv[h] = fast_rcp(sum);
            const int r = 64 * c + 16 * w + g + 8 * h;
            if (a.partial_ms && t == 0 && r < it.tile.z)
                *reinterpret_cast<float2 *>(a.partial_ms + (it.bh * a.entries + lds32(rows_at + 4 * (st * ROWS + r))) * 2) =
                    make_float2(row_max[h], sum);
        }

        // Out: O in T into this warp's own 16 rows of the stage (the wgmma that read them are
        // done) by stmatrix, and the warp stores those rows as whole 16-byte chunks: no
        // warpgroup barrier, every load of a store (its entry, its chunk) issued before the
        // first store, each store predicated rather than branched around.
        const uint32_t stage = sQ + st * L::Q_STAGE;
        const uint32_t entries = rows_at + st * ROWS * 4;
        const int row0 = 64 * c + 16 * w; // this warp's rows
        hopper_stmatrix_rows<D>(stage, L::Q_BLOCK, row0, lane, [&](int j, int h) {
            return mma_t<T>::pack(o[4 * j + 2 * h] * inv[h], o[4 * j + 2 * h + 1] * inv[h]);
        });
        __syncwarp(); // the warp's stmatrix, before its lanes read other lanes' rows
        T *dst = a.partial_o ? static_cast<T *>(a.partial_o) + it.bh * a.entries * D
                             : static_cast<T *>(a.o) + it.bh * a.N * D; // s_r = 1: entries are queries
        // Lane: chunk lane % CHUNKS of rows row0 + lane / CHUNKS + RSTEP·k (RSTEP rows a store
        // instruction, whole rows: full sectors). Rows past the item's entries read entry 0
        // (the producer writes 0 there) and store nothing.
        constexpr int RSTEP = 32 / CHUNKS, STORES = 16 / RSTEP;
        const int ch = lane % CHUNKS, r0 = row0 + lane / CHUNKS;
        int32_t e[STORES];
        uint4 v[STORES];
#pragma unroll
        for (int k = 0; k < STORES; k++) {
            e[k] = lds32(entries + 4 * (r0 + RSTEP * k));
            v[k] = lds128(stage + hopper_sw128_offset(r0 + RSTEP * k, ch, L::Q_BLOCK));
        }
#pragma unroll
        for (int k = 0; k < STORES; k++)
            stg128_if(dst + (int64_t)e[k] * D + ch * 8, v[k], r0 + RSTEP * k < it.tile.z);
        hopper_arrive(rows_at + AT_EMPTY + 8 * st); // this thread's reads of the stage are done
    }
#endif
}

// s_r > 1, after attend_expert_tiles_mma's partials: 128 consecutive queries a block (grid
// (ceil(N/128), heads)), the shared block by mma as there, then each route's partial folded
// into the same softmax: with (m_r, l_r) the partial's max (log2 units, as every max here)
// and sum and p_r its normalized output, M = max(max, m_r), sum' = sum·2^(max−M) +
// l_r·2^(m_r−M), o' = o·2^(max−M) + p_r·l_r·2^(m_r−M). Q is read in order here; O written in
// order.
template <typename T, int D>
__global__ void __launch_bounds__(MMA_WARPS * 32, D == 64 ? 2 : 1) shared_merge_mma(TileArgs a)
{
    constexpr int CHUNKS = D / 8;
    extern __shared__ __align__(16) unsigned char smem[];
    const uint32_t sQ = smem_u32(smem), sK = sQ + MMA_TILE_ROWS * D * 2;
    const uint32_t sV = sK + 2 * KEY_TILE * D * 2;
    int32_t *rows = reinterpret_cast<int32_t *>(smem + tile_mma_smem(D) - MMA_TILE_ROWS * 4);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int64_t bh = blockIdx.y, q0 = (int64_t)blockIdx.x * MMA_TILE_ROWS;
    const int valid = (int)min((int64_t)MMA_TILE_ROWS, a.N - q0);
    if (threadIdx.x < MMA_TILE_ROWS) rows[threadIdx.x] = (int32_t)(q0 + threadIdx.x);
    const T *q = static_cast<const T *>(a.q) + (bh * a.N + q0) * D;
    for (int c = threadIdx.x; c < MMA_TILE_ROWS * CHUNKS; c += blockDim.x) {
        const int r = c / CHUNKS, ch = c % CHUNKS;
        cp_async16(sQ + swz<D>(r, ch), q + (int64_t)(r < valid ? r : 0) * D + ch * 8,
                   r < valid ? 16 : 0);
    }
    const int64_t tiles = a.shared_keys ? (a.m + KEY_TILE - 1) / KEY_TILE : 0;
    const T *sh_k = static_cast<const T *>(a.shared_keys) + bh * a.m * D;
    const T *sh_v = static_cast<const T *>(a.shared_vals) + bh * a.m * D;
    auto stage = [&](int64_t j, int buf) {
        stage_key_tile<T, D>(sK + buf * KEY_TILE * D * 2, sV + buf * KEY_TILE * D * 2, sh_k, sh_v,
                             nullptr, j * KEY_TILE, a.m);
        cp_async_commit();
    };
    if (tiles) stage(0, 0);
    else cp_async_commit();
    const bool busy = warp * 16 < valid;
    float rmax[2] = {-INFINITY, -INFINITY}, rsum[2] = {0.f, 0.f}, o[D / 8][4] = {};
    attend_key_tiles<T, D>(
        tiles, stage, [&](int64_t j) { return KeyTile{j * KEY_TILE, a.m, a.shared_scale}; },
        busy, sQ, sK, sV, rmax, rsum, o, warp, lane);
    cp_async_wait<0>();
    __syncthreads(); // route_only: the Q rows' copy is done before sQ takes O
    if (!busy) return;
    float sum[2], inv[2];
#pragma unroll
    for (int h = 0; h < 2; h++) sum[h] = row_total(rsum[h]); // the quad's total, in each lane
    const T *po = static_cast<const T *>(a.partial_o);
    for (int r = 0; r < a.s_r; r++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int row = warp * 16 + g + 8 * h;
            const int64_t entry = bh * a.entries + (q0 + (row < valid ? row : 0)) * a.s_r + r;
            const float2 ms = *reinterpret_cast<const float2 *>(a.partial_ms + entry * 2);
            const float m = fmaxf(rmax[h], ms.x); // both maxima in log2 units
            const float keep = fast_exp2(rmax[h] - m), add = ms.y * fast_exp2(ms.x - m);
            rmax[h] = m;
            sum[h] = sum[h] * keep + add;
            const T *p = po + entry * D + 2 * t;
#pragma unroll
            for (int n = 0; n < D / 8; n++) {
                const float2 x = unpack2<T>(*reinterpret_cast<const uint32_t *>(p + 8 * n));
                o[n][2 * h] = o[n][2 * h] * keep + x.x * add;
                o[n][2 * h + 1] = o[n][2 * h + 1] * keep + x.y * add;
            }
        }
#pragma unroll
    for (int h = 0; h < 2; h++) inv[h] = 1.f / sum[h];
    store_rows<T, D>(o, inv, sQ, static_cast<T *>(a.o) + bh * a.N * D, rows, valid, warp, lane);
}

// ---- host ---------------------------------------------------------------------------------

// The sorted path's scratch, carved in 256-byte aligned pieces: the counting sort of the
// entries, then (tensor cores) Q̃ and V̂ in T, then (s_r > 1) the routes' partial outputs.
struct SortScratch {
    int32_t *counts, *order;
    int4 *tile_map;
    void *shared_keys, *shared_vals, *partial_o;
    float *partial_ms;
    int32_t *pair_keys; // attend_pairs: each query's expert pair
    size_t bytes;
};
size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }
// The tiles of the sorted path: fp32 on the CUDA cores (64 entries a tile), bf16/fp16 on the
// tensor cores (128 entries a tile, 32 where the experts average 32 entries or fewer); a head
// has at most tiles_max of them.
int tile_rows_for(int dtype, int64_t entries_per_head, int64_t n_experts)
{
    if (dtype == ATTN_FP32) return TILE_ROWS;
    return entries_per_head <= (int64_t)SHORT_TILE_ROWS * n_experts ? SHORT_TILE_ROWS
                                                                     : MMA_TILE_ROWS;
}
int64_t tiles_max(int64_t entries_per_head, int64_t n_experts, int dtype)
{
    const int rows = tile_rows_for(dtype, entries_per_head, n_experts);
    return (entries_per_head + rows - 1) / rows + n_experts;
}

// s_r = 2 as one attention over the shared block and both experts of a query, the queries
// sorted by their pair of experts (attend_pairs) — possible where the pairs' counters fit the
// sort's shared memory (use_pairs has the other conditions).
bool pairs_possible(int dtype, int s_r, int64_t n_experts)
{
    return s_r == 2 && dtype != ATTN_FP32 && pair_buckets(n_experts) <= SORT_SMEM_EXPERTS;
}

// pairs: whether the call runs as attend_pairs (use_pairs), which sorts queries by their pair
// and writes no partials.
SortScratch sort_scratch(void *base, int heads, int64_t N, int64_t m, int64_t n_experts, int d,
                         int dtype, int s_r, bool pairs)
{
    SortScratch s;
    const size_t entries = (size_t)heads * N * s_r, mma = dtype != ATTN_FP32;
    const bool partials = s_r > 1 && !pairs;
    // What the counting sort orders (attend_tiles): queries by pair, or entries by expert.
    const int64_t buckets = pairs ? pair_buckets(n_experts) : n_experts;
    const int64_t map = tiles_max(pairs ? N : N * s_r, buckets, dtype);
    const size_t pieces[8] = {(size_t)heads * buckets * 4,
                              (size_t)heads * map * 16,
                              entries * 4,
                              mma ? (size_t)heads * m * d * 2 : 0,
                              mma ? (size_t)heads * m * d * 2 : 0,
                              partials ? entries * d * 2 : 0,
                              partials ? entries * 8 : 0,
                              pairs ? (size_t)heads * N * 4 : 0};
    void **at[8] = {(void **)&s.counts,  (void **)&s.tile_map, (void **)&s.order,
                    &s.shared_keys,      &s.shared_vals,       &s.partial_o,
                    (void **)&s.partial_ms, (void **)&s.pair_keys};
    char *p = static_cast<char *>(base);
    s.bytes = 0;
    for (int i = 0; i < 8; i++) {
        *at[i] = p && pieces[i] ? p + s.bytes : nullptr;
        s.bytes += align256(pieces[i]);
    }
    return s;
}

// The sorted path serves s_r = 1 in every dtype, and s_r > 1 on the tensor cores.
bool sorted_path(int dtype, int s_r) { return s_r == 1 || dtype != ATTN_FP32; }

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
    cudaError_t launch(const void *kernel, size_t smem, int64_t blocks, int threads) const
    {
        CUDA_CHECK(kernel_shared_memory(kernel, smem));
        void *params[] = {const_cast<TileArgs *>(&a)};
        CUDA_CHECK(cudaLaunchKernel(kernel, dim3((unsigned)blocks, (unsigned)heads),
                                    dim3(threads), params, smem, stream));
        return cudaSuccess;
    }
    // A persistent kernel (kernel(TileArgs, items)) over the heads' items = heads · tiles_max
    // map tiles: as many blocks as fit at once, at most one an item.
    cudaError_t persistent(const void *kernel, size_t smem, int threads) const
    {
        CUDA_CHECK(kernel_shared_memory(kernel, smem));
        int dev, sms, per_sm = 0;
        CUDA_CHECK(cudaGetDevice(&dev));
        CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
        CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, smem));
        if (per_sm < 1) return cudaErrorInvalidConfiguration;
        int64_t items = (int64_t)heads * a.tiles_max;
        const int64_t resident = (int64_t)sms * per_sm;
        void *params[] = {const_cast<TileArgs *>(&a), &items};
        CUDA_CHECK(cudaLaunchKernel(kernel, dim3((unsigned)(items < resident ? items : resident)),
                                    dim3(threads), params, smem, stream));
        return cudaSuccess;
    }
    template <typename T> cudaError_t operator()() const
    {
        if (d != 64 && d != 128) return cudaErrorInvalidValue;
        if constexpr (sizeof(T) == 2) {
            // s_r = 1: the tiles write O. s_r > 1: the tiles write each route's partial (no
            // shared block), then shared_merge_mma adds the shared block and writes O.
            TileArgs tiles = a;
            if (a.s_r > 1) tiles.shared_keys = tiles.shared_vals = nullptr;
            const tiles_launch first{tiles, heads, d, stream};
            const int rows = a.tile_rows;
            const bool short_tiles = rows == SHORT_TILE_ROWS;
            bool wgmma = false; // the 128-entry tiles on wgmma where they run
            CUDA_CHECK(hopper_sm90a_runs(&wgmma));
            const bool runs = wgmma && !short_tiles &&
                              runs_fit(d, a.m, tiles.shared_keys != nullptr, a.kk, a.pairs) &&
                              (a.pairs || runs_long(a.entries, a.n_experts));
            if (a.pairs && !runs) return cudaErrorInvalidValue; // only expert_runs reads pairs
            if (runs) {
                CUDA_CHECK(first.persistent(d == 64 ? (const void *)attend_expert_runs<T, 64>
                                                    : (const void *)attend_expert_runs<T, 128>,
                                            d == 64 ? RunShape<64>::SMEM : RunShape<128>::SMEM,
                                            d == 64 ? RunShape<64>::THREADS : RunShape<128>::THREADS));
            } else if (wgmma && !short_tiles) {
                CUDA_CHECK(first.persistent(d == 64 ? (const void *)attend_expert_tiles_wgmma<T, 64>
                                                    : (const void *)attend_expert_tiles_wgmma<T, 128>,
                                            tile_wgmma_smem(d), WG_THREADS));
            } else {
                const void *kernel =
                    short_tiles
                        ? (d == 64 ? (const void *)attend_expert_tiles_mma<T, 64, SHORT_TILE_WARPS>
                                   : (const void *)attend_expert_tiles_mma<T, 128, SHORT_TILE_WARPS>)
                        : (d == 64 ? (const void *)attend_expert_tiles_mma<T, 64>
                                   : (const void *)attend_expert_tiles_mma<T, 128>);
                CUDA_CHECK(first.launch(kernel, tile_mma_smem(d, rows), a.tiles_max, rows * 2));
            }
            if (a.s_r == 1) return cudaSuccess;
            return launch(d == 64 ? (const void *)shared_merge_mma<T, 64>
                                  : (const void *)shared_merge_mma<T, 128>,
                          tile_mma_smem(d), (a.N + MMA_TILE_ROWS - 1) / MMA_TILE_ROWS,
                          MMA_WARPS * 32);
        } else {
            return launch(d == 64 ? (const void *)attend_expert_tiles<T, 64>
                                  : (const void *)attend_expert_tiles<T, 128>,
                          tile_smem(d), a.tiles_max, 128);
        }
    }
};

struct round_launch {
    const float *landmarks, *shared_values;
    int64_t n;
    void *keys, *vals;
    cudaStream_t stream;
    template <typename T> cudaError_t operator()() const
    {
        if constexpr (sizeof(T) == 2) {
            round_shared_block<T><<<(unsigned)((n / 8 + 255) / 256), 256, 0, stream>>>(
                landmarks, shared_values, n, static_cast<T *>(keys), static_cast<T *>(vals));
            CUDA_CHECK_LAUNCH();
        }
        return cudaSuccess;
    }
};

struct short_sort_launch {
    const AttendArgs &w;
    const SortScratch &s;
    int heads, d;
    int64_t entries, n_tiles;
    int pair_m; // scan_expert_counts's
    int tile_rows;
    bool round_shared; // the shared block's rounding too
    cudaStream_t stream;
    template <typename T> cudaError_t operator()() const
    {
        sort_experts_block<T><<<(unsigned)heads, SHORT_SORT_THREADS, sort_smem(w.n_experts),
                                stream>>>(
            w.routes, entries, w.n_experts, pair_m, tile_rows, n_tiles, s.tile_map, s.order,
            w.landmarks, w.shared_values, w.m * d,
            round_shared ? static_cast<T *>(s.shared_keys) : nullptr,
            round_shared ? static_cast<T *>(s.shared_vals) : nullptr);
        CUDA_CHECK_LAUNCH();
        return cudaSuccess;
    }
};

// Whether s_r = 2 runs as attend_pairs: its scratch (pairs_possible), the expert runs kernel
// with a run's key tiles (the shared block's and both experts') in its slot, and tiles mostly
// full: N >= 64 m² (at m = 64, N >= 2^18), where the pairs' runs are long enough to share their
// keys. tiles_launch takes the expert runs kernel for every such call (the same checks).
// (mita_attend_scratch_bytes asks too, so that the scratch holds the partials only where
// they are written.)
cudaError_t use_pairs(int64_t N, int64_t m, int64_t n_experts, int64_t kk, int s_r, int d,
                      int dtype, bool shared, bool *yes)
{
    *yes = false;
    if (!pairs_possible(dtype, s_r, n_experts) || (d != 64 && d != 128) ||
        N < 64 * n_experts * n_experts || !runs_fit(d, m, shared, kk, true))
        return cudaSuccess;
    return hopper_sm90a_runs(yes);
}

// routes [n, 2] -> the bucket of the pair e0 < e1 (pair_bucket; the order of a query's two
// routes does not change its attention: one softmax over the concatenation).
__global__ void __launch_bounds__(256) pair_keys(const int32_t *routes, int64_t n, int64_t m,
                                                 int32_t *keys)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        const int32_t r0 = routes[2 * i], r1 = routes[2 * i + 1];
        keys[i] = pair_bucket(ExpertPair{min(r0, r1), max(r0, r1)}, (int32_t)m);
    }
}


// attend_pairs (s_r = 2 where use_pairs says so): the queries counting-sorted by their expert
// pair instead of their (query, route) entries by expert, then the expert runs kernel over
// the shared block and both experts at once, writing O: no partials written and read back and
// no merge pass (shared_merge_mma), so s_r = 2 reads Q and writes O once, as s_r = 1 does.
// part (enum mita_attend_part): split, the one-block sort leaves the shared block's rounding
// to round_shared_block in the rest, since only the sort can run before the probe has made V̂;
// MITA_ATTEND_REST_ROUNDED, the rest where the probe has rounded it (mita_attend_shared_block).
cudaError_t attend_tiles(const AttendArgs &w, int heads, int d, void *scratch, int dtype,
                         int part, cudaStream_t stream)
{
    const bool shared = w.landmarks != nullptr && dtype != ATTN_FP32;
    bool pairs = false;
    CUDA_CHECK(use_pairs(w.N, w.m, w.n_experts, w.kk, w.s_r, d, dtype, shared, &pairs));
    const SortScratch s =
        sort_scratch(scratch, heads, w.N, w.m, w.n_experts, d, dtype, w.s_r, pairs);
    // What the counting sort orders: (query, route) entries by expert, or queries by pair.
    AttendArgs sorted = w;
    const bool sorts = part == MITA_ATTEND_ALL || part == MITA_ATTEND_SORT; // else the rest alone
    if (pairs && sorts) {
        pair_keys<<<(unsigned)((heads * w.N + 255) / 256 < 65535 ? (heads * w.N + 255) / 256 : 65535),
                    256, 0, stream>>>(w.routes, heads * w.N, w.n_experts, s.pair_keys);
        CUDA_CHECK_LAUNCH();
    }
    if (pairs) {
        sorted.routes = s.pair_keys;
        sorted.n_experts = pair_buckets(w.n_experts);
        sorted.s_r = 1;
    }
    const int64_t ne = sorted.n_experts, entries = w.N * sorted.s_r;
    const int64_t n_tiles = tiles_max(entries, ne, dtype);
    const int tile_rows = tile_rows_for(dtype, entries, ne);
    const bool short_sort = entries <= SHORT_SORT_ENTRIES && ne <= SORT_SMEM_EXPERTS;
    // The one-block sort rounds the shared block while it scans, where it runs with the rest.
    const bool sort_rounds = short_sort && part == MITA_ATTEND_ALL;
    if (sorts && short_sort) {
        CUDA_CHECK(dispatch_dtype(dtype, short_sort_launch{sorted, s, heads, d, entries, n_tiles,
                                                           pairs ? (int)w.n_experts : 0,
                                                           tile_rows, shared && sort_rounds,
                                                           stream}));
    } else if (sorts) {
        const dim3 sort_grid((unsigned)((entries + SORT_QUERIES - 1) / SORT_QUERIES),
                             (unsigned)heads);
        CUDA_CHECK(cudaMemsetAsync(s.counts, 0, (size_t)heads * ne * 4, stream));
        count_experts<<<sort_grid, SORT_THREADS, sort_smem(ne), stream>>>(sorted.routes, entries,
                                                                          ne, s.counts);
        CUDA_CHECK_LAUNCH();
        scan_experts<<<heads, SCAN_THREADS, 0, stream>>>(s.counts, ne, tile_rows, n_tiles,
                                                        s.tile_map, pairs ? (int)w.n_experts : 0);
        CUDA_CHECK_LAUNCH();
        CUDA_CHECK(allow_shared_memory(scatter_experts, scatter_smem(ne)));
        scatter_experts<<<sort_grid, SORT_THREADS, scatter_smem(ne), stream>>>(
            sorted.routes, entries, ne, s.counts, s.order);
        CUDA_CHECK_LAUNCH();
    }
    if (part == MITA_ATTEND_SORT) return cudaSuccess;
    if (shared && !sort_rounds && part != MITA_ATTEND_REST_ROUNDED)
        CUDA_CHECK(dispatch_dtype(dtype, round_launch{w.landmarks, w.shared_values,
                                                      (int64_t)heads * w.m * d, s.shared_keys,
                                                      s.shared_vals, stream}));
    TileArgs a{};
    a.q = w.q, a.k = w.k, a.v = w.v, a.o = w.o;
    a.landmarks = w.landmarks, a.shared_values = w.shared_values;
    a.shared_keys = shared ? s.shared_keys : nullptr;
    a.shared_vals = shared ? s.shared_vals : nullptr;
    a.experts = w.experts, a.order = s.order, a.tile_map = s.tile_map, a.tiles_max = n_tiles;
    a.partial_o = s.partial_o, a.partial_ms = s.partial_ms; // NULL where none are written
    a.N = w.N, a.m = w.m, a.n_experts = w.n_experts, a.kk = w.kk, a.entries = entries;
    a.s_r = sorted.s_r; // 1 with pairs: entries are queries, O written by the tiles
    a.pairs = pairs;
    a.tile_rows = tile_rows;
    a.scale = w.scale, a.shared_scale = w.shared_scale;
    return dispatch_dtype(dtype, tiles_launch{a, heads, d, stream});
}

// The scratch's layout for a call with these arguments (attend_tiles's); pairs false where
// the device cannot be asked (room for the partials).
SortScratch call_scratch(void *scratch, int heads, int64_t N, int64_t m, int64_t n_experts,
                         int64_t kk, bool shared, int d, int dtype, int s_r)
{
    bool pairs = false;
    if (use_pairs(N, m, n_experts, kk, s_r, d, dtype, shared && dtype != ATTN_FP32, &pairs) !=
        cudaSuccess)
        pairs = false;
    return sort_scratch(scratch, heads, N, m, n_experts, d, dtype, s_r, pairs);
}

} // namespace

extern "C" size_t mita_attend_scratch_bytes(int heads, int64_t N, int64_t m, int64_t n_experts,
                                            int64_t kk, int shared, int d, int dtype, int s_r)
{
    if (!sorted_path(dtype, s_r)) return 0;
    return call_scratch(nullptr, heads, N, m, n_experts, kk, shared != 0, d, dtype, s_r).bytes;
}

extern "C" void mita_attend_shared_block(void *scratch, int heads, int64_t N, int64_t m,
                                         int64_t n_experts, int64_t kk, int shared, int d,
                                         int dtype, int s_r, void **keys, void **vals)
{
    *keys = *vals = nullptr;
    if (!shared || dtype == ATTN_FP32 || !sorted_path(dtype, s_r)) return;
    const SortScratch s = call_scratch(scratch, heads, N, m, n_experts, kk, true, d, dtype, s_r);
    *keys = s.shared_keys;
    *vals = s.shared_vals;
}

extern "C" cudaError_t mita_attend_part(int part, const void *q, const void *k, const void *v,
                                        int dtype, int heads, int64_t N, int d,
                                        const float *landmarks, const float *shared_values,
                                        int64_t m, float shared_scale, const int32_t *experts,
                                        int64_t n_experts, int64_t kk, const int32_t *routes,
                                        int s_r, float scale, void *scratch, void *o,
                                        cudaStream_t stream)
{
    if (heads < 1 || N < 1 || N > INT32_MAX || kk < 1 || s_r < 1 || n_experts < 1 ||
        (landmarks && (m < 1 || !shared_values)) || (!routes && s_r != 1) ||
        (routes && sorted_path(dtype, s_r) &&
         (!scratch || heads > 65535 || N * s_r > INT32_MAX)) || // heads: grid.y of the tiles
        part < MITA_ATTEND_ALL || part > MITA_ATTEND_REST_ROUNDED)
        return cudaErrorInvalidValue;
    const AttendArgs a{q, k, v, landmarks, shared_values, experts, routes, o,
                       N, m, n_experts, kk, (int64_t)heads * N, s_r, scale, shared_scale};
    if (routes && sorted_path(dtype, s_r))
        return attend_tiles(a, heads, d, scratch, dtype, part, stream);
    if (part == MITA_ATTEND_SORT) return cudaSuccess; // nothing sorted: all of it is the rest
    return dispatch_dtype(dtype, attend_launch{a, d, stream});
}

extern "C" cudaError_t mita_attend(const void *q, const void *k, const void *v, int dtype,
                                   int heads, int64_t N, int d, const float *landmarks,
                                   const float *shared_values, int64_t m, float shared_scale,
                                   const int32_t *experts, int64_t n_experts, int64_t kk,
                                   const int32_t *routes, int s_r, float scale, void *scratch,
                                   void *o, cudaStream_t stream)
{
    return mita_attend_part(MITA_ATTEND_ALL, q, k, v, dtype, heads, N, d, landmarks,
                            shared_values, m, shared_scale, experts, n_experts, kk, routes, s_r,
                            scale, scratch, o, stream);
}

// MiTA with one expert per query, expert i = query i's keys, and no shared block.
extern "C" cudaError_t gathered_attend_own_keys(const void *q, const void *k, const void *v,
                                                int dtype, int heads, int64_t N, int d,
                                                const int32_t *keys, int64_t kk, float scale,
                                                void *o, cudaStream_t stream)
{
    return mita_attend(q, k, v, dtype, heads, N, d, nullptr, nullptr, 0, 0.f, keys, N, kk,
                       nullptr, 1, scale, nullptr, o, stream);
}
