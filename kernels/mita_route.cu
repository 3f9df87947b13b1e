// mita_route.cu — MiTA's routing, each query's s_r best experts by q_i·q̃_j (kernels/
// mita_route.h), as one pass over Q on the tensor cores.
//
// Versions (bf16/fp16; fp32 and s_r > 4 go through topk_select.cu's simt selection):
//   wgmma on sm_90a builds and devices, m <= 64: route_wgmma (below, "route_wgmma"), the same
//         tiles and selection with S on wgmma.
//   mma   8 warps × 16 queries = 128 queries of one head per tile, persistent blocks walking
//         a head's tiles. The warp's Q rows are A fragments in registers (the next tile's
//         loading meanwhile); the fp32 landmarks pass through shared memory in tiles of 64
//         (kept for the whole walk when m <= 64), split into two 16-bit terms hi + lo
//         (split_pack), so that a score is two mma whose sum is within ~2^-16 of the fp32 dot
//         product (docs/methods.md, "Selection: top-k and argmax", wants selection scores in
//         fp32; rounding q̃ to bf16 alone would flip near-ties at the ~2^-8 level). Each lane
//         keeps, for its two rows, the R best (score, expert) of the columns it holds (R: 1,
//         2 or 4, the list length, >= s_r), sorted, in registers (float compares and selects,
//         no branch; ties to the lower expert); the four lanes of a row merge theirs by s_r
//         rounds of a quad maximum of candidate.cuh's packing.
// Bytes: Q once (the pipeline's second Q-sized pass) plus the routes, 4·s_r bytes a query;
// FLOPs 2 · 2·N·m·d per head (hi and lo). At m = 64 it is memory-bound on the H100.

#include "mita_route.h"

#include "candidate.cuh"
#include "cuda_util.cuh"
#include "hopper.cuh" // wgmma, SW128 descriptors: route_wgmma
#include "mma_util.cuh"
#include "route_list.cuh" // a lane's list of its best experts

namespace {

constexpr int WARPS = 8, ROWS = WARPS * 16; // queries per block
constexpr int EXPERT_TILE = 64;             // landmarks per pass through shared memory
constexpr unsigned FULL = 0xffffffffu;

__device__ __forceinline__ uint32_t ld32(const void *p)
{
    return *reinterpret_cast<const uint32_t *>(p);
}

// A list's head as a candidate (0, below all, when the list is spent).
template <int R> __device__ __forceinline__ uint64_t list_head(const RouteList<R> &list)
{
    return list.expert[0] < 0 ? 0 : pack_candidate(list.score[0], list.expert[0]);
}

// One 64-expert tile of a thread's two rows into their lists: score(j, x) is the score at
// x = 0..3 of column block j, the C layout of mma.m16n8 (and wgmma's D layout): x < 2 row g,
// else row g+8, column 8j + 2t + (x & 1); experts et.. (those at and past m skipped), visited
// in increasing order. In a whole tile a row's list has had R inserts after its first R
// columns (R <= 4 of its 16), so the rest skip the empty-entry test (insert_full).
template <int R, typename Score>
__device__ __forceinline__ void insert_tile(RouteList<R> (&best)[2], Score &&score, int64_t et,
                                            int64_t m, int t)
{
    static_assert(R <= EXPERT_TILE / 4, "a lane's columns of a row fill the list");
    if (et + EXPERT_TILE <= m) { // no column past m to skip
#pragma unroll
        for (int j = 0; j < EXPERT_TILE / 8; j++)
#pragma unroll
            for (int x = 0; x < 4; x++) {
                const int32_t expert = (int32_t)et + 8 * j + 2 * t + (x & 1);
                if (2 * j + (x & 1) < R) best[x >> 1].insert(score(j, x), expert);
                else best[x >> 1].insert_full(score(j, x), expert);
            }
        return;
    }
#pragma unroll
    for (int j = 0; j < EXPERT_TILE / 8; j++)
#pragma unroll
        for (int x = 0; x < 4; x++) {
            const int32_t expert = (int32_t)et + 8 * j + 2 * t + (x & 1);
            if (expert < m) best[x >> 1].insert(score(j, x), expert);
        }
}

// The four lanes of a row (t = 0..3) hold disjoint columns: s_r rounds of the quad's best
// head, whose owner drops it; lane t = 0 writes rows row0 and row0 + 8 of the head's routes
// [N, s_r] (those below N).
template <int R>
__device__ __forceinline__ void write_routes(RouteList<R> (&best)[2], int64_t row0, int64_t N,
                                             int s_r, int t, int32_t *routes)
{
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int64_t row = row0 + 8 * h;
        for (int r = 0; r < s_r; r++) {
            const uint64_t mine = list_head(best[h]);
            uint64_t top = mine;
            top = max(top, (uint64_t)__shfl_xor_sync(FULL, (unsigned long long)top, 1));
            top = max(top, (uint64_t)__shfl_xor_sync(FULL, (unsigned long long)top, 2));
            if (mine == top) best[h].pop();
            if (t == 0 && row < N) routes[row * s_r + r] = candidate_key(top);
        }
    }
}

// The A fragments of the warp's rows row0 and row0+8 (zeros past N).
template <typename T, int D>
__device__ __forceinline__ void load_query_fragments(uint32_t (&qa)[D / 16][4], const T *q,
                                                     int64_t row0, int64_t N, int t)
{
    const T *q0 = q + row0 * D + 2 * t, *q1 = q0 + 8 * D;
    const bool ok0 = row0 < N, ok1 = row0 + 8 < N;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
        qa[kk][0] = ok0 ? ld32(q0 + kk * 16) : 0u;
        qa[kk][1] = ok1 ? ld32(q1 + kk * 16) : 0u;
        qa[kk][2] = ok0 ? ld32(q0 + kk * 16 + 8) : 0u;
        qa[kk][3] = ok1 ? ld32(q1 + kk * 16 + 8) : 0u;
    }
}

// q: [heads, N, D] T  landmarks: [heads, m, D] fp32  routes: [heads, N, s_r]
// grid (blocks per head, heads): persistent blocks, each walking the head's 128-query tiles
// blockIdx.x, +gridDim.x, ... With m <= 64 the landmarks are split into shared memory once per
// block, and the next tile's Q fragments load while the current tile is scored, so that a
// block keeps its loads in flight (one tile per block left Q at 0.7 TB/s). R: the list length,
// 1, 2 or 4 (MITA_ROUTE_MAX_SR) >= s_r.
// Blocks an SM (register budgets without spills): s_r = 1: 3 at d = 64 (2 left too few loads
// in flight), 2 at d = 128; s_r = 2: 2; s_r <= 4: 1.
template <typename T, int D, int R>
__global__ void __launch_bounds__(WARPS * 32, R == 1 ? (D == 64 ? 3 : 2) : R == 2 ? 2 : 1)
    route_mma(const T *q, const float *landmarks, int64_t N, int64_t m, int s_r, int32_t *routes)
{
    constexpr int KS = D + 8; // row stride of the landmark tiles: B-fragment words conflict-free
    __shared__ __align__(16) T hi_tile[EXPERT_TILE * KS], lo_tile[EXPERT_TILE * KS];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int64_t bh = blockIdx.y, q_tiles = (N + ROWS - 1) / ROWS;
    const T *qh = q + bh * N * D;
    const float *lm = landmarks + bh * m * D;
    const bool resident = m <= EXPERT_TILE; // the landmarks stay in shared memory

    uint32_t qa[D / 16][4], next[D / 16][4];
    int64_t tile = blockIdx.x;
    load_query_fragments<T, D>(next, qh, tile * ROWS + warp * 16 + g, N, t);
    for (; tile < q_tiles; tile += gridDim.x) {
        const int64_t row0 = tile * ROWS + warp * 16 + g;
        const bool busy = tile * ROWS + warp * 16 < N; // any row of this warp
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
            for (int e = 0; e < 4; e++) qa[kk][e] = next[kk][e];
        if (tile + gridDim.x < q_tiles)
            load_query_fragments<T, D>(next, qh, (tile + gridDim.x) * ROWS + warp * 16 + g, N, t);
        RouteList<R> best[2]; // rows g and g+8
        best[0].clear();
        best[1].clear();

        for (int64_t et = 0; et < m; et += EXPERT_TILE) {
            if (!resident || tile == blockIdx.x) {
                __syncthreads(); // the previous tile's readers are done
                for (int c = threadIdx.x; c < EXPERT_TILE * D / 4; c += blockDim.x) {
                    const int r = c / (D / 4), col = 4 * (c % (D / 4));
                    const float4 x =
                        et + r < m ? *reinterpret_cast<const float4 *>(lm + (et + r) * D + col)
                                   : make_float4(0.f, 0.f, 0.f, 0.f);
                    uint2 h, l;
                    split_pack<T>(x.x, x.y, h.x, l.x);
                    split_pack<T>(x.z, x.w, h.y, l.y);
                    *reinterpret_cast<uint2 *>(hi_tile + r * KS + col) = h;
                    *reinterpret_cast<uint2 *>(lo_tile + r * KS + col) = l;
                }
                __syncthreads();
            }
            if (!busy) continue; // the barriers above are the block's; nothing to score
            const T *hb = hi_tile + g * KS + 2 * t, *lb = lo_tile + g * KS + 2 * t;
            // k-steps outer and the lo then hi terms in turn: consecutive mma write different
            // accumulators, so that none waits on the one before (mma_t's asm keeps order).
            float acc[8][4];
#pragma unroll
            for (int j = 0; j < 8; j++) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.f;
#pragma unroll
            for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
                for (int term = 0; term < 2; term++) {
                    const T *tb = term == 0 ? lb : hb;
#pragma unroll
                    for (int j = 0; j < 8; j++) {
                        const int off = 8 * j * KS + kk * 16;
                        mma_t<T>::mma(acc[j], qa[kk], ld32(tb + off), ld32(tb + off + 8));
                    }
                }
            insert_tile(best, [&](int j, int x) { return acc[j][x]; }, et, m, t);
        }
        if (!busy) continue;
        write_routes(best, row0, N, s_r, t, routes + bh * N * s_r);
    }
}

// ---- route_wgmma (sm_90a) ----------------------------------------------------------------
//
// route_mma's work on wgmma, for m <= 64 landmarks (one resident tile): at N = 2^20 the
// routing is 2 · 2·N·m·d·B·H = 137 GFLOP (hi and lo), which kept route_mma at 2.2× its bytes
// (H100). Persistent blocks of two warpgroups, 64 queries each, walk a head's 128-query tiles;
// the landmarks, split hi + lo, sit in two SW128 tiles for the whole walk; the Q tiles are TMA
// loads (Q's tensor map, boxes of 128 rows) into the stages of a hopper_tma_ring,
// the stages but one ahead of the one scored (with cp.async double buffers a block had one
// 16 KB tile in flight, and Q was read at 2.0 TB/s on the H100). At d = 64 and one route a
// query, three blocks an SM of three stages each (64 registers): on the H200 the wgmma's wait
// is the wall, not the bytes, and a third block's warps cover it. Longer lists (R = 2: 104
// registers) run two blocks of four stages, d = 128 one. Per tile
// a warpgroup issues S = Q·loᵀ + Q·hiᵀ as 2·D/16 wgmma m64n64k16 into one accumulator (every
// lo term, then every hi term: not route_mma's order, so a near-tie within fp32 rounding may
// go either way between the two), then each thread keeps its two rows' best of its columns
// (RouteList, the columns in increasing order) and the quad merges them (as route_mma).
constexpr int RW_ROWS = 128, RW_THREADS = 256;

// The blocks an SM that the launch bound asks for (1 lets the occupancy decide: two at R = 2,
// d = 64, one at d = 128) and the stages a block, as above.
template <int D, int R> struct RouteWgmmaShape {
    static constexpr int BLOCKS = D == 64 && R == 1 ? 3 : 1, STAGES = BLOCKS == 3 ? 3 : 4;
    // hi, lo [64, D] | Q [STAGES][128, D], all SW128 16-bit | the ring's 2·STAGES u64
    // (hopper_tma_ring::SLOTS), from a 1024-byte boundary.
    static constexpr size_t SMEM = (size_t)2 * EXPERT_TILE * D * 2 + (size_t)STAGES * RW_ROWS * D * 2 +
                                   hopper_tma_ring<STAGES>::SLOTS * 8 + 1024;
};

// q_map: Q [heads][N][D] as a tensor map (hopper_tensor_map_sw128, boxes of RW_ROWS rows).
template <typename T, int D, int R>
__global__ void __launch_bounds__(RW_THREADS, (RouteWgmmaShape<D, R>::BLOCKS))
    route_wgmma(const __grid_constant__ CUtensorMap q_map, const float *landmarks, int64_t N,
                int64_t m, int s_r, int32_t *routes)
{
#if HOPPER_WGMMA
    constexpr int STAGES = RouteWgmmaShape<D, R>::STAGES;
    constexpr uint32_t L_BLOCK = EXPERT_TILE * 128, Q_BLOCK = RW_ROWS * 128;
    constexpr uint32_t L_TILE = L_BLOCK * (D / 64), Q_TILE = Q_BLOCK * (D / 64);
    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = hopper_smem_align1024(smem_raw);
    const uint32_t sHi = smem_u32(smem), sLo = sHi + L_TILE, sQ = sLo + L_TILE;
    uint64_t *full = reinterpret_cast<uint64_t *>(smem + 2 * L_TILE + STAGES * Q_TILE);
    const int tid = threadIdx.x, wg = tid / 128, w = (tid % 128) / 32, g = (tid % 32) / 4,
              t = tid % 4;
    const int64_t bh = blockIdx.y, q_tiles = (N + RW_ROWS - 1) / RW_ROWS;
    const float *lm = landmarks + bh * m * D;

    // This block's tiles blockIdx.x, + gridDim.x, ... as 0, 1, ...: tile j by TMA from thread 0
    // (rows past N read as zeros, their routes unwritten).
    const int64_t mine = blockIdx.x < q_tiles ? (q_tiles - blockIdx.x + gridDim.x - 1) / gridDim.x : 0;
    auto load = [&](int64_t j, int st, uint64_t *bar) {
        const int row = (int)((blockIdx.x + j * gridDim.x) * RW_ROWS);
#pragma unroll
        for (int c = 0; c < D / 64; c++)
            hopper_tma_load(smem + 2 * L_TILE + st * Q_TILE + c * Q_BLOCK, &q_map, 64 * c, row,
                            (int)bh, bar);
    };
    hopper_tma_ring<STAGES> ring{full, Q_TILE};
    if (tid == 0) ring.init();
    __syncthreads(); // the barriers, before thread 0's first loads arrive on them
    ring.prime(mine, load);
    // The landmarks split hi + lo (rows past m zero: their columns are skipped below), while
    // the first tiles fly; each thread's stores, a proxy fence, the barrier, then wgmma reads.
    hopper_store_split_rows<T, EXPERT_TILE, D>(sHi, sLo, lm, m, tid, RW_THREADS);
    hopper_fence_proxy_async();
    __syncthreads();
    auto use = [&](int64_t j, int buf) {
        float s[EXPERT_TILE / 2];
        const uint32_t sQw = sQ + buf * Q_TILE + wg * 64 * 128;
        hopper_scores_kmajor<T, EXPERT_TILE, D, 2>(s, sQw, sLo, sQw, sHi, Q_BLOCK, L_BLOCK);
        RouteList<R> best[2]; // rows 16w+g and 16w+g+8 of the warpgroup's 64
        best[0].clear();
        best[1].clear();
        insert_tile(best, [&](int jj, int x) { return s[4 * jj + x]; }, 0, m, t);
        write_routes(best, (blockIdx.x + j * gridDim.x) * RW_ROWS + 64 * wg + 16 * w + g, N,
                     s_r, t, routes + bh * N * s_r);
    };
    ring.walk(mine, load, use);
#endif
}

struct route_launch {
    const void *q;
    const float *landmarks;
    int heads, d;
    int64_t N, m;
    int s_r;
    int32_t *routes;
    cudaStream_t stream;
    template <typename T, int D, int R> cudaError_t launch() const
    {
        // route_wgmma where it runs and the landmarks are one tile, else route_mma; enough
        // persistent blocks of either (both walk 128-query tiles) to fill the GPU once, spread
        // over the heads.
        bool wgmma = false;
        CUDA_CHECK(hopper_sm90a_runs(&wgmma));
        wgmma = wgmma && m <= EXPERT_TILE;
        const void *kernel = wgmma ? (const void *)route_wgmma<T, D, R> : (const void *)route_mma<T, D, R>;
        const int threads = wgmma ? RW_THREADS : WARPS * 32;
        const size_t smem = wgmma ? RouteWgmmaShape<D, R>::SMEM : 0;
        static_assert(RW_ROWS == ROWS, "both walk the same tiles");
        if (wgmma) CUDA_CHECK(allow_shared_memory(kernel, smem));
        int dev, sms, per_sm;
        CUDA_CHECK(cudaGetDevice(&dev));
        CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
        CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, smem));
        const int64_t q_tiles = (N + ROWS - 1) / ROWS;
        // Rounded down: one block past the resident ones runs a second wave alone (+20%).
        int64_t per_head = (int64_t)sms * per_sm / heads;
        per_head = per_head < 1 ? 1 : per_head < q_tiles ? per_head : q_tiles;
        const T *qt = static_cast<const T *>(q);
        CUtensorMap q_map; // route_wgmma's Q tiles by TMA
        if (wgmma)
            CUDA_CHECK(hopper_tensor_map_sw128(&q_map, q, hopper_is_bf16<T>(),
                                               (uint64_t)heads, (uint64_t)N, D, RW_ROWS));
        void *params[] = {wgmma ? (void *)&q_map : (void *)&qt, (void *)&landmarks, (void *)&N,
                          (void *)&m, (void *)&s_r, (void *)&routes};
        CUDA_CHECK(cudaLaunchKernel(kernel, dim3((unsigned)per_head, (unsigned)heads),
                                    dim3(threads), params, smem, stream));
        return cudaSuccess;
    }
    template <typename T> cudaError_t operator()() const
    {
        if constexpr (sizeof(T) != 2) {
            return cudaErrorInvalidValue;
        } else {
            // The list length: the least of 1, 2, 4 that holds s_r (longer lists spill).
            if (d == 64)
                return s_r == 1 ? launch<T, 64, 1>() : s_r == 2 ? launch<T, 64, 2>()
                                                                : launch<T, 64, 4>();
            return s_r == 1 ? launch<T, 128, 1>() : s_r == 2 ? launch<T, 128, 2>()
                                                             : launch<T, 128, 4>();
        }
    }
};

} // namespace

extern "C" int mita_route_supported(int dtype, int heads, int d, int64_t m, int s_r)
{
    return (dtype == ATTN_BF16 || dtype == ATTN_FP16) && (d == 64 || d == 128) && heads >= 1 &&
           heads <= 65535 && m >= 1 && s_r >= 1 && s_r <= MITA_ROUTE_MAX_SR && s_r <= m;
}

extern "C" cudaError_t mita_route(const void *q, int dtype, const float *landmarks, int heads,
                                  int64_t N, int d, int64_t m, int s_r, int32_t *routes,
                                  cudaStream_t stream)
{
    if (!mita_route_supported(dtype, heads, d, m, s_r) || N < 1 || N > INT32_MAX)
        return cudaErrorInvalidValue;
    return dispatch_dtype(dtype, route_launch{q, landmarks, heads, d, N, m, s_r, routes, stream});
}
