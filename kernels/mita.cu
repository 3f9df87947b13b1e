// mita.cu — attention over gathered entries: MiTA's step 7 with step 6 read in place, and
// topk's attention over each query's own keys (kernels/mita.h).
//
// Versions (picked by mita_attend; measurements in kernels/NOTES.md "mita"):
//   expert_tiles    s_r = 1 (MiTA's default), fp32. Queries are counting-sorted by expert (count,
//                   scan, scatter: three small kernels), then a block takes 64 queries of one
//                   expert: the shared block (Q̃, V̂) and the expert's k keys and values are
//                   staged in shared memory as fp32 once per 64 queries, scores and the
//                   online softmax·V on the CUDA cores in the fragment layout of
//                   simt_tile.cuh. Each gathered row is read once per tile, not once per query.
//   expert_tiles_mma  the same schedule on the tensor cores, bf16/fp16: 128 queries (8 warps)
//                   of one expert per block, Q rows gathered by cp.async, 64-key tiles of the
//                   shared block (Q̃, V̂ rounded to T while staged) then of the expert (K_E,
//                   V_E gathered in place, double-buffered), mma.sync + ldmatrix, one online
//                   softmax over both, O staged through shared memory for 16-byte stores.
//   warp_per_query  any s_r, and topk (one key list per query). One warp per query, entries
//                   taken 32 at a time: each lane scores one entry (a row it reads alone with
//                   16-byte loads), an online softmax across groups, then the group's value rows
//                   summed with the lanes spread over the channels. Bound by the per-query
//                   gathers (~2·(m + s_r·k)·d values each, mostly L1/L2 hits): MiTA with
//                   this version for s_r = 1 too ran 3.1× slower in all at N = 2^20.

#include "mita.h"

#include <math.h>

#include "cuda_util.cuh"
#include "mma_util.cuh"
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

// The counting sort of the queries by their (first) expert. A block takes SORT_QUERIES queries
// of one head (grid (ceil(N / SORT_QUERIES), heads)) and counts them per expert in shared
// memory first, so that the global counters see one atomic per (block, expert) rather than one
// per query: at m = 64, 2^23 queries on 512 counters serialized for 1.3 ms per kernel (H100).
// Past SORT_SMEM_EXPERTS experts the counts go straight to global memory (few collide there).
// routes: [heads, N, s_r]  counts: [heads, m], zero before count_experts.
constexpr int SORT_QUERIES = 4096, SORT_SMEM_EXPERTS = 12288; // 48 KB of counters

size_t sort_smem(int64_t m) { return m <= SORT_SMEM_EXPERTS ? (size_t)m * 4 : 0; }

__global__ void __launch_bounds__(256) count_experts(const int32_t *routes, int s_r, int64_t N,
                                                     int64_t m, int32_t *counts)
{
    extern __shared__ int32_t local[]; // [m], when m <= SORT_SMEM_EXPERTS
    const bool in_smem = m <= SORT_SMEM_EXPERTS;
    const int64_t bh = blockIdx.y, i0 = (int64_t)blockIdx.x * SORT_QUERIES;
    const int64_t i1 = min(i0 + SORT_QUERIES, N);
    int32_t *c = counts + bh * m;
    if (in_smem) {
        for (int64_t e = threadIdx.x; e < m; e += blockDim.x) local[e] = 0;
        __syncthreads();
    }
    for (int64_t i = i0 + threadIdx.x; i < i1; i += blockDim.x) {
        const int32_t e = routes[(bh * N + i) * s_r];
        atomicAdd(in_smem ? &local[e] : &c[e], 1);
    }
    if (!in_smem) return;
    __syncthreads();
    for (int64_t e = threadIdx.x; e < m; e += blockDim.x)
        if (local[e]) atomicAdd(&c[e], local[e]);
}

// One warp per head: start[e] = queries before expert e, tile_start[e] = tiles of tile_rows
// queries before expert e (each expert's tiles are its own); both [heads, m+1]. counts becomes the scatter's
// cursor (= start).
__global__ void __launch_bounds__(32) scan_experts(int32_t *counts, int64_t m, int tile_rows,
                                                   int32_t *start, int32_t *tile_start)
{
    const int lane = threadIdx.x;
    int32_t *c = counts + blockIdx.x * m;
    int32_t *st = start + blockIdx.x * (m + 1), *ts = tile_start + blockIdx.x * (m + 1);
    int carry_q = 0, carry_t = 0;
    for (int64_t base = 0; base < m; base += 32) {
        const int64_t e = base + lane;
        const int n = e < m ? c[e] : 0, tiles = (n + tile_rows - 1) / tile_rows;
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
// As count_experts, per block: count in shared memory, reserve each expert's range of `order`
// with one atomic on its cursor, then place the queries by shared-memory atomics in it.
__global__ void __launch_bounds__(256) scatter_experts(const int32_t *routes, int s_r, int64_t N,
                                                       int64_t m, int32_t *cursor, int32_t *order)
{
    extern __shared__ int32_t local[]; // [m]: counts, then the next free slot of each expert
    const bool in_smem = m <= SORT_SMEM_EXPERTS;
    const int64_t bh = blockIdx.y, i0 = (int64_t)blockIdx.x * SORT_QUERIES;
    const int64_t i1 = min(i0 + SORT_QUERIES, N);
    int32_t *cur = cursor + bh * m, *out = order + bh * N;
    if (!in_smem) {
        for (int64_t i = i0 + threadIdx.x; i < i1; i += blockDim.x)
            out[atomicAdd(&cur[routes[(bh * N + i) * s_r]], 1)] = (int32_t)i;
        return;
    }
    for (int64_t e = threadIdx.x; e < m; e += blockDim.x) local[e] = 0;
    __syncthreads();
    for (int64_t i = i0 + threadIdx.x; i < i1; i += blockDim.x)
        atomicAdd(&local[routes[(bh * N + i) * s_r]], 1);
    __syncthreads();
    for (int64_t e = threadIdx.x; e < m; e += blockDim.x)
        local[e] = local[e] ? atomicAdd(&cur[e], local[e]) : 0;
    __syncthreads();
    for (int64_t i = i0 + threadIdx.x; i < i1; i += blockDim.x)
        out[atomicAdd(&local[routes[(bh * N + i) * s_r]], 1)] = (int32_t)i;
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

// ---- expert_tiles_mma ------------------------------------------------------------------------

constexpr int MMA_WARPS = 8, MMA_TILE_ROWS = MMA_WARPS * 16; // 128 queries of one expert
constexpr int KEY_TILE = 64;

// Shared memory: sQ [128, D] (O on the way out) | sK, sV [2, KEY_TILE, D], all T, swizzled
// (mma_util.cuh swz) | rows [128] int.
__host__ __device__ constexpr size_t tile_mma_smem(int d)
{
    return ((size_t)MMA_TILE_ROWS * d + (size_t)4 * KEY_TILE * d) * 2 + MMA_TILE_ROWS * 4;
}

// 8 fp32 → one 16-byte chunk of T.
template <typename T> __device__ __forceinline__ uint4 pack8(float4 x, float4 y)
{
    return make_uint4(mma_t<T>::pack(x.x, x.y), mma_t<T>::pack(x.z, x.w),
                      mma_t<T>::pack(y.x, y.y), mma_t<T>::pack(y.z, y.w));
}

// As attend_expert_tiles, on the tensor cores (bf16/fp16): grid (ceil(N/128) + n_experts,
// heads), block b of head bh takes that head's b-th tile of up to 128 queries of one expert.
// The shared block's keys Q̃ and values V̂ (fp32) are rounded to T as they are staged, as flash
// attention rounds P; the expert's K_E, V_E rows are gathered by cp.async, double-buffered
// against the previous 64-key tile's mma.
template <typename T, int D>
// Two blocks an SM at d = 64 (128 registers a thread; 1 block = 8 warps hid no latency).
__global__ void __launch_bounds__(MMA_WARPS * 32, D == 64 ? 2 : 1) attend_expert_tiles_mma(TileArgs a)
{
    constexpr int CHUNKS = D / 8; // 16-byte chunks per row
    extern __shared__ __align__(16) unsigned char smem[];
    const uint32_t sQ = smem_u32(smem), sK = sQ + MMA_TILE_ROWS * D * 2;
    const uint32_t sV = sK + 2 * KEY_TILE * D * 2;
    int32_t *rows = reinterpret_cast<int32_t *>(smem + tile_mma_smem(D) - MMA_TILE_ROWS * 4);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int64_t bh = blockIdx.y, b = blockIdx.x, ne = a.n_experts;
    const int32_t *ts = a.tile_start + bh * (ne + 1), *st = a.start + bh * (ne + 1);
    if (b >= ts[ne]) return; // the whole block: no barrier is skipped by part of it

    int64_t lo = 0, hi = ne - 1; // the expert of tile b: the last e with ts[e] <= b
    while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        if (ts[mid] <= b) lo = mid;
        else hi = mid - 1;
    }
    const int64_t e = lo, q0 = st[e] + (b - ts[e]) * MMA_TILE_ROWS;
    const int valid = (int)min((int64_t)MMA_TILE_ROWS, (int64_t)st[e + 1] - q0);
    if (threadIdx.x < MMA_TILE_ROWS)
        rows[threadIdx.x] = threadIdx.x < valid ? a.order[bh * a.N + q0 + threadIdx.x] : 0;
    __syncthreads();
    const T *q = static_cast<const T *>(a.q) + bh * a.N * D;
    for (int c = threadIdx.x; c < MMA_TILE_ROWS * CHUNKS; c += blockDim.x) {
        const int r = c / CHUNKS, ch = c % CHUNKS;
        cp_async16(sQ + swz<D>(r, ch), q + (int64_t)rows[r] * D + ch * 8, r < valid ? 16 : 0);
    }

    // Key tiles: the shared block's ceil(m/64), then the expert's ceil(kk/64).
    const int64_t shared_tiles = a.landmarks ? (a.m + KEY_TILE - 1) / KEY_TILE : 0;
    const int64_t tiles = shared_tiles + (a.kk + KEY_TILE - 1) / KEY_TILE;
    const int32_t *expert = a.experts + (bh * ne + e) * a.kk;
    const T *keys = static_cast<const T *>(a.k) + bh * a.N * D;
    const T *values = static_cast<const T *>(a.v) + bh * a.N * D;
    auto stage = [&](int64_t j, int buf) {
        const uint32_t k_buf = sK + buf * KEY_TILE * D * 2, v_buf = sV + buf * KEY_TILE * D * 2;
        if (j < shared_tiles) { // fp32 → T through registers
            const int64_t kt = j * KEY_TILE;
            const float *lm = a.landmarks + (bh * a.m + kt) * D;
            const float *sv = a.shared_values + (bh * a.m + kt) * D;
            for (int c = threadIdx.x; c < KEY_TILE * CHUNKS; c += blockDim.x) {
                const int r = c / CHUNKS, ch = c % CHUNKS;
                const bool ok = kt + r < a.m;
                const float4 z = make_float4(0.f, 0.f, 0.f, 0.f);
                const float4 *kr = reinterpret_cast<const float4 *>(lm + r * D + ch * 8);
                const float4 *vr = reinterpret_cast<const float4 *>(sv + r * D + ch * 8);
                const uint4 kx = pack8<T>(ok ? kr[0] : z, ok ? kr[1] : z);
                const uint4 vx = pack8<T>(ok ? vr[0] : z, ok ? vr[1] : z);
                asm volatile("st.shared.v4.b32 [%0], {%1,%2,%3,%4};\n" ::"r"(k_buf + swz<D>(r, ch)),
                             "r"(kx.x), "r"(kx.y), "r"(kx.z), "r"(kx.w)
                             : "memory");
                asm volatile("st.shared.v4.b32 [%0], {%1,%2,%3,%4};\n" ::"r"(v_buf + swz<D>(r, ch)),
                             "r"(vx.x), "r"(vx.y), "r"(vx.z), "r"(vx.w)
                             : "memory");
            }
        } else { // the expert's rows, gathered in place
            const int64_t kt = (j - shared_tiles) * KEY_TILE;
            for (int c = threadIdx.x; c < KEY_TILE * CHUNKS; c += blockDim.x) {
                const int r = c / CHUNKS, ch = c % CHUNKS;
                const bool ok = kt + r < a.kk;
                const int64_t row = ok ? expert[kt + r] : 0;
                cp_async16(k_buf + swz<D>(r, ch), keys + row * D + ch * 8, ok ? 16 : 0);
                cp_async16(v_buf + swz<D>(r, ch), values + row * D + ch * 8, ok ? 16 : 0);
            }
        }
        cp_async_commit();
    };
    stage(0, 0); // one group with the Q rows

    const bool busy = warp * 16 < valid; // warps past the tile's queries only stage and wait
    uint32_t qf[D / 16][4];
    float rmax[2] = {-INFINITY, -INFINITY}, rsum[2] = {0.f, 0.f}, o[D / 8][4] = {};
    for (int64_t j = 0; j < tiles; j++) {
        const int buf = (int)(j & 1);
        if (j + 1 < tiles) {
            stage(j + 1, buf ^ 1);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        if (busy) {
            if (j == 0)
#pragma unroll
                for (int kk = 0; kk < D / 16; kk++)
                    ldsm_x4(qf[kk], sQ + swz<D>(warp * 16 + lane % 16, 2 * kk + lane / 16));
            const bool is_shared = j < shared_tiles;
            const int64_t kt = (is_shared ? j : j - shared_tiles) * KEY_TILE;
            const int64_t end = is_shared ? a.m : a.kk;
            const float scale = is_shared ? a.shared_scale : a.scale;
            const uint32_t k_buf = sK + buf * KEY_TILE * D * 2, v_buf = sV + buf * KEY_TILE * D * 2;
            float s[KEY_TILE / 8][4] = {};
#pragma unroll
            for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
                for (int n2 = 0; n2 < KEY_TILE / 16; n2++) {
                    uint32_t kb[4];
                    ldsm_x4(kb, k_buf + swz<D>(16 * n2 + lane % 8 + 8 * (lane / 16),
                                               2 * kk + (lane / 8) % 2));
                    mma_t<T>::mma(s[2 * n2], qf[kk], kb[0], kb[1]);
                    mma_t<T>::mma(s[2 * n2 + 1], qf[kk], kb[2], kb[3]);
                }
            // Logits in one unit for both blocks (scaled), so that they share the running max.
            float tmax[2] = {-INFINITY, -INFINITY};
#pragma unroll
            for (int n = 0; n < KEY_TILE / 8; n++)
#pragma unroll
                for (int x = 0; x < 4; x++) {
                    const bool ok = kt + 8 * n + 2 * t + (x & 1) < end;
                    s[n][x] = ok ? s[n][x] * scale : -INFINITY;
                    tmax[x >> 1] = fmaxf(tmax[x >> 1], s[n][x]);
                }
            float corr[2];
#pragma unroll
            for (int h = 0; h < 2; h++) {
                tmax[h] = fmaxf(tmax[h], __shfl_xor_sync(FULL, tmax[h], 1));
                tmax[h] = fmaxf(tmax[h], __shfl_xor_sync(FULL, tmax[h], 2));
                const float m = fmaxf(rmax[h], tmax[h]); // finite: a tile holds a key
                corr[h] = __expf(rmax[h] - m);
                rmax[h] = m;
            }
            float wsum[2] = {0.f, 0.f};
#pragma unroll
            for (int n = 0; n < KEY_TILE / 8; n++)
#pragma unroll
                for (int x = 0; x < 4; x++) {
                    s[n][x] = __expf(s[n][x] - rmax[x >> 1]); // exp(-inf) = 0 masks
                    wsum[x >> 1] += s[n][x];
                }
#pragma unroll
            for (int h = 0; h < 2; h++) rsum[h] = rsum[h] * corr[h] + wsum[h];
#pragma unroll
            for (int n = 0; n < D / 8; n++)
#pragma unroll
                for (int x = 0; x < 4; x++) o[n][x] *= corr[x >> 1];
#pragma unroll
            for (int kb = 0; kb < KEY_TILE / 16; kb++) {
                const uint32_t pa[4] = {mma_t<T>::pack(s[2 * kb][0], s[2 * kb][1]),
                                        mma_t<T>::pack(s[2 * kb][2], s[2 * kb][3]),
                                        mma_t<T>::pack(s[2 * kb + 1][0], s[2 * kb + 1][1]),
                                        mma_t<T>::pack(s[2 * kb + 1][2], s[2 * kb + 1][3])};
#pragma unroll
                for (int n2 = 0; n2 < D / 16; n2++) {
                    uint32_t vb[4];
                    ldsm_x4_trans(vb, v_buf + swz<D>(16 * kb + lane % 8 + 8 * ((lane / 8) % 2),
                                                     2 * n2 + lane / 16));
                    mma_t<T>::mma(o[2 * n2], pa, vb[0], vb[1]);
                    mma_t<T>::mma(o[2 * n2 + 1], pa, vb[2], vb[3]);
                }
            }
        }
        __syncthreads(); // this buffer is refilled two tiles on
    }
    if (!busy) return;
    // O through the warp's own rows of sQ (their Q fragments are in registers), then out in
    // 16-byte stores to the queries' rows.
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const float inv = 1.f / row_total(rsum[h]);
        const int r = warp * 16 + g + 8 * h;
#pragma unroll
        for (int n = 0; n < D / 8; n++) {
            const uint32_t x = mma_t<T>::pack(o[n][2 * h] * inv, o[n][2 * h + 1] * inv);
            asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(sQ + swz<D>(r, n) + 4 * t), "r"(x)
                         : "memory");
        }
    }
    __syncwarp();
    T *out = static_cast<T *>(a.o) + bh * a.N * D;
    for (int c = lane; c < 16 * CHUNKS; c += 32) {
        const int r = warp * 16 + c / CHUNKS, ch = c % CHUNKS;
        if (r >= valid) continue;
        uint4 x;
        asm volatile("ld.shared.v4.b32 {%0,%1,%2,%3}, [%4];\n"
                     : "=r"(x.x), "=r"(x.y), "=r"(x.z), "=r"(x.w)
                     : "r"(sQ + swz<D>(r, ch))
                     : "memory");
        *reinterpret_cast<uint4 *>(out + (int64_t)rows[r] * D + ch * 8) = x;
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

// The tiles of the sorted path: fp32 on the CUDA cores (64 queries a tile), bf16/fp16 on the
// tensor cores (128 queries a tile).
int tile_rows_for(int dtype) { return dtype == ATTN_FP32 ? TILE_ROWS : MMA_TILE_ROWS; }

struct tiles_launch {
    const TileArgs &a;
    int heads, d;
    cudaStream_t stream;
    template <typename T> cudaError_t operator()() const
    {
        constexpr bool mma = sizeof(T) == 2;
        const void *kernel = nullptr;
        if constexpr (mma)
            kernel = d == 64    ? (const void *)attend_expert_tiles_mma<T, 64>
                     : d == 128 ? (const void *)attend_expert_tiles_mma<T, 128>
                                : nullptr;
        else
            kernel = d == 64    ? (const void *)attend_expert_tiles<T, 64>
                     : d == 128 ? (const void *)attend_expert_tiles<T, 128>
                                : nullptr;
        if (!kernel) return cudaErrorInvalidValue;
        const size_t smem = mma ? tile_mma_smem(d) : tile_smem(d);
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        (int)smem));
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                                        cudaSharedmemCarveoutMaxShared));
        const int rows = mma ? MMA_TILE_ROWS : TILE_ROWS;
        const dim3 grid((unsigned)((a.N + rows - 1) / rows + a.n_experts), (unsigned)heads);
        void *params[] = {const_cast<TileArgs *>(&a)};
        CUDA_CHECK(cudaLaunchKernel(kernel, grid, dim3(mma ? MMA_WARPS * 32 : 128), params, smem,
                                    stream));
        return cudaSuccess;
    }
};

cudaError_t attend_tiles(const AttendArgs &w, int heads, int d, void *scratch, int dtype,
                         cudaStream_t stream)
{
    const int64_t ne = w.n_experts;
    const SortScratch s = sort_scratch(scratch, heads, w.N, ne);
    const dim3 sort_grid((unsigned)((w.N + SORT_QUERIES - 1) / SORT_QUERIES), (unsigned)heads);
    CUDA_CHECK(cudaMemsetAsync(s.counts, 0, (size_t)heads * ne * 4, stream));
    count_experts<<<sort_grid, 256, sort_smem(ne), stream>>>(w.routes, w.s_r, w.N, ne, s.counts);
    CUDA_CHECK_LAUNCH();
    scan_experts<<<heads, 32, 0, stream>>>(s.counts, ne, tile_rows_for(dtype), s.start,
                                           s.tile_start);
    CUDA_CHECK_LAUNCH();
    scatter_experts<<<sort_grid, 256, sort_smem(ne), stream>>>(w.routes, w.s_r, w.N, ne,
                                                               s.counts, s.order);
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
