// mita_route.cu — MiTA's routing, each query's s_r best experts by q_i·q̃_j (kernels/
// mita_route.h), as one pass over Q on the tensor cores.
//
// One version (bf16/fp16; fp32 and s_r > 4 go through topk_select.cu's simt selection):
//   mma   8 warps × 16 queries = 128 queries of one head per tile, persistent blocks walking
//         a head's tiles. The warp's Q rows are A fragments in registers (the next tile's
//         loading meanwhile); the fp32 landmarks pass through shared memory in tiles of 64
//         (kept for the whole walk when m <= 64), split into two 16-bit terms hi + lo
//         (split_pack), so that a score is two mma whose sum is within ~2^-16 of the fp32 dot
//         product (docs/methods.md, "Selection: top-k and argmax", wants selection scores in
//         fp32; rounding q̃ to bf16 alone would flip near-ties at the ~2^-8 level). Each lane
//         keeps, for its two rows, the s_r best (score, expert) of the columns it holds,
//         sorted, in registers (float compares; ties to the lower expert); the four lanes of
//         a row merge theirs by s_r rounds of a quad maximum of candidate.cuh's packing.
// Bytes: Q once (the pipeline's second Q-sized pass) plus the routes, 4·s_r bytes a query;
// FLOPs 2 · 2·N·m·d per head (hi and lo). At m = 64 it is memory-bound on the H100.

#include "mita_route.h"

#include "candidate.cuh"
#include "cuda_util.cuh"
#include "mma_util.cuh"

namespace {

constexpr int WARPS = 8, ROWS = WARPS * 16; // queries per block
constexpr int EXPERT_TILE = 64;             // landmarks per pass through shared memory
constexpr unsigned FULL = 0xffffffffu;

__device__ __forceinline__ uint32_t ld32(const void *p)
{
    return *reinterpret_cast<const uint32_t *>(p);
}

// A lane's running best of one row: scores best first and their experts, of which the first
// s_r count. A lane sees its columns in increasing expert order, so a strict `>` keeps the
// lower expert of a tie ahead (the order of docs/methods.md) with float compares alone; the
// 64-bit packing of candidate.cuh is left to the quad's merge. The unrolled loop keeps the list
// in registers.
template <int R> struct RowBest {
    float score[R];
    int32_t expert[R];

    __device__ __forceinline__ void clear()
    {
#pragma unroll
        for (int i = 0; i < R; i++) {
            score[i] = -INFINITY;
            expert[i] = -1;
        }
    }
    __device__ __forceinline__ void insert(float x, int32_t e, int s_r)
    {
        if constexpr (R == 1) { // argmax
            if (x > score[0] || expert[0] < 0) score[0] = x, expert[0] = e;
        } else {
            // Once x has its place, every entry below moves down one unasked: compared again,
            // an entry equal to the one under it would stay put and the lower expert end up
            // second (ties go to the lower expert).
            bool placed = false;
#pragma unroll
            for (int i = 0; i < R; i++)
                if (i < s_r && (placed || x > score[i] || expert[i] < 0)) {
                    const float y = score[i];
                    const int32_t f = expert[i];
                    score[i] = x, expert[i] = e;
                    x = y, e = f;
                    placed = true;
                    if (e < 0) break;
                }
        }
    }
    // The head as a candidate (0, below all, when the list is spent).
    __device__ __forceinline__ uint64_t head() const
    {
        return expert[0] < 0 ? 0 : pack_candidate(score[0], expert[0]);
    }
    __device__ __forceinline__ void pop()
    {
#pragma unroll
        for (int i = 0; i + 1 < R; i++) score[i] = score[i + 1], expert[i] = expert[i + 1];
        score[R - 1] = -INFINITY, expert[R - 1] = -1;
    }
};

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
        RowBest<R> best[2]; // rows g and g+8
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
            const bool whole = et + EXPERT_TILE <= m; // no column past m to skip
#pragma unroll
            for (int j = 0; j < 8; j++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int32_t expert = (int32_t)et + 8 * j + 2 * t + (e & 1);
                    if (whole || expert < m) best[e >> 1].insert(acc[j][e], expert, s_r);
                }
        }
        if (!busy) continue;
        // The four lanes of a row (t = 0..3) hold disjoint columns: s_r rounds of the quad's
        // best head, whose owner drops it.
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int64_t row = row0 + 8 * h;
            for (int r = 0; r < s_r; r++) {
                const uint64_t mine = best[h].head();
                uint64_t top = mine;
                top = max(top, (uint64_t)__shfl_xor_sync(FULL, (unsigned long long)top, 1));
                top = max(top, (uint64_t)__shfl_xor_sync(FULL, (unsigned long long)top, 2));
                if (mine == top) best[h].pop();
                if (t == 0 && row < N) routes[(bh * N + row) * s_r + r] = candidate_key(top);
            }
        }
    }
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
        // Enough persistent blocks to fill the GPU once, spread over the heads.
        int dev, sms, per_sm;
        CUDA_CHECK(cudaGetDevice(&dev));
        CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
        CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, route_mma<T, D, R>,
                                                                 WARPS * 32, 0));
        const int64_t q_tiles = (N + ROWS - 1) / ROWS;
        // Rounded down: one block past the resident ones runs a second wave alone (+20%).
        int64_t per_head = (int64_t)sms * per_sm / heads;
        per_head = per_head < 1 ? 1 : per_head < q_tiles ? per_head : q_tiles;
        const dim3 grid((unsigned)per_head, (unsigned)heads);
        route_mma<T, D, R><<<grid, WARPS * 32, 0, stream>>>(static_cast<const T *>(q), landmarks,
                                                            N, m, s_r, routes);
        CUDA_CHECK_LAUNCH();
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
