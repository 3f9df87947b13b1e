// softmax.cu — softmax attention for the methods that attend through a few rows: the row
// softmax over materialized fp32 scores, attention through it (full:naive and the fp32 paths),
// and a fused tensor-core attention for short query or key sets (kernels/softmax.h).
// Row softmax (fp32 scores in, probabilities out in the dtype of the GEMM that consumes them;
// the launcher picks by row length, so both always serve):
//   warp   one warp per row, one 16-byte vector per lane (rows of n <= 128, e.g. the N×m score
//          rows of agent and nystrom): the row is read once into registers, max and sum by
//          shuffles; one read of 4n bytes and one write per row, bound by DRAM bandwidth.
//   block  one block per row, any n: pass 1 keeps a running (max, sum) per thread (online
//          softmax) and merges them across the block, pass 2 re-reads the row and stores
//          exp(x - max)/sum. Two reads of the row (the second from L2 only while the rows in
//          flight fit in it), one write.
//   The 16-byte vectors need n, both leading dimensions and both bases divisible by 4
//   elements; otherwise the same kernels run with scalar accesses.
// Attention, softmax(scale·q kᵀ) v:
//   materialized  cuBLAS GEMM (fp32 scores) → row softmax → cuBLAS GEMM. Any shape and dtype;
//                 moves 4·nq·nk bytes of scores three times (write, read, re-read) plus the
//                 probabilities twice: at N = 2^20, m = 64, B·H = 8 agent spends 8.1 ms, 7.3 of
//                 it in these passes (kernels/NOTES.md).
//   fused         bf16/fp16 only, 3.5× the materialized agent (2.29 ms against 8.1). One
//                 kernel in FlashAttention-2's schedule: 64-query tiles (4 warps × 16 rows, Q
//                 fragments in registers) over 64-key tiles of K and V (two cp.async stages;
//                 or, when the keys are one tile, K and V resident and the Q tiles in a
//                 ring of three buffers instead), S and P·V on mma.sync m16n8k16 with fp32
//                 accumulators, online softmax in registers. Few queries over many keys (m
//                 landmarks over N keys) split the keys in chunks across blocks
//                 (flash-decoding) and merge the chunks' (max, sum, O) in a second kernel. One
//                 read of Q, K, V and one write of O. m = 64 over N = 2^20 keys: 0.72 ms (80% of
//                 DRAM peak); N = 2^20 queries over m = 64 keys: 1.23 ms (40%: 3 blocks/SM of
//                 138 registers, and every warp re-reads K and V from shared memory per 16 rows).
//   fused, window sums  Nyström's G·V (softmax_attention_fused_windows): the chunks follow
//                 the m landmark windows, and the block of query tile 0 adds up its chunk's K
//                 rows from the tiles it streams anyway, so that K̃ = landmarks(K, m) costs no
//                 read of K of its own (window_means_finish divides).
//   resident_wgmma  sm_90a only (hopper_sm90a_runs), bf16/fp16: replaces fused's resident
//                 case where the keys are one tile (nk <= 64: agent's and nystrom's O pass, N
//                 queries over m keys). One persistent block an SM, 3 warpgroups at d = 64 (2 at
//                 128), each streaming its own 64-row Q tiles through a 4-deep TMA ring (72 KB
//                 of Q in flight an SM at least, against 3 × 16 KB); S = Q Kᵀ and O = P V by
//                 wgmma, so K and V are read from shared memory once per 64 rows instead of per
//                 16 (512 B of shared-memory reads a row at d = 64 against 1152); one exact
//                 softmax step; O written as whole rows. Runs from 2^17 query rows
//                 (RESIDENT_WGMMA_MIN_ROWS): on an H100, agent at N = 2^20 took 1.855 ms
//                 against fused's 2.323, at 2^10 23.3 µs against 20.1.

#include "softmax.h"

#include <float.h>

#include "cuda_util.cuh"
#include "gemm.h"
#include "hopper.cuh"        // tensor maps, TMA, wgmma: attend_resident_wgmma
#include "mma_util.cuh"      // (LOG2E: cuda_util.cuh)
#include "wgmma_softmax.cuh" // the softmax in wgmma's accumulator layout

// ---- vector access helpers ----------------------------------------------------------------

template <int VEC> __device__ __forceinline__ void load_scores(const float *p, float (&x)[VEC])
{
    if constexpr (VEC == 4) {
        float4 v = *reinterpret_cast<const float4 *>(p);
        x[0] = v.x, x[1] = v.y, x[2] = v.z, x[3] = v.w;
    } else {
        x[0] = *p;
    }
}

template <typename T, int VEC>
__device__ __forceinline__ void store_probs(T *p, const float (&x)[VEC])
{
    if constexpr (VEC == 4 && sizeof(T) == 4) {
        *reinterpret_cast<float4 *>(p) = make_float4(x[0], x[1], x[2], x[3]);
    } else if constexpr (VEC == 4) {
        // Four 16-bit values in one 8-byte store.
        union {
            T h[4];
            uint2 u;
        } pack;
#pragma unroll
        for (int i = 0; i < 4; i++) pack.h[i] = from_float<T>(x[i]);
        *reinterpret_cast<uint2 *>(p) = pack.u;
    } else {
        *p = from_float<T>(x[0]);
    }
}

// (m, s) ← the running max and sum of exp(x - max) over the union of two sets. Starting values
// are (-FLT_MAX, 0): the differences stay finite or go to -inf, never NaN.
__device__ __forceinline__ void merge_max_sum(float &m, float &s, float m2, float s2)
{
    const float mx = fmaxf(m, m2);
    s = s * exp2f((m - mx) * LOG2E) + s2 * exp2f((m2 - mx) * LOG2E);
    m = mx;
}

// ---- kernels ------------------------------------------------------------------------------

// scores: [rows, ld_in] fp32  out: [rows, ld_out] T; n <= 32·VEC. One warp per row.
template <typename T, int VEC>
__global__ void softmax_warp_rows(const float *scores, int64_t ld_in, T *out, int64_t ld_out,
                                  int64_t rows, int n)
{
    const int64_t row = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (row >= rows) return; // whole warps leave together: the shuffles below see full warps
    const int c = (threadIdx.x % 32) * VEC;
    const bool has = c < n;
    float x[VEC];
#pragma unroll
    for (int i = 0; i < VEC; i++) x[i] = -FLT_MAX;
    if (has) load_scores<VEC>(scores + row * ld_in + c, x);
    float mx = x[0];
#pragma unroll
    for (int i = 1; i < VEC; i++) mx = fmaxf(mx, x[i]);
#pragma unroll
    for (int off = 16; off > 0; off /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
    float sum = 0.f;
#pragma unroll
    for (int i = 0; i < VEC; i++) {
        x[i] = has ? exp2f((x[i] - mx) * LOG2E) : 0.f;
        sum += x[i];
    }
#pragma unroll
    for (int off = 16; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    const float inv = 1.f / sum;
#pragma unroll
    for (int i = 0; i < VEC; i++) x[i] *= inv;
    if (has) store_probs<T, VEC>(out + row * ld_out + c, x);
}

// scores: [rows, ld_in] fp32  out: [rows, ld_out] T; any n (a multiple of VEC). One block per
// row; blockDim.x a multiple of 32, at most 1024.
template <typename T, int VEC>
__global__ void softmax_block_rows(const float *scores, int64_t ld_in, T *out, int64_t ld_out,
                                   int64_t n)
{
    __shared__ float warp_max[32], warp_sum[32];
    const float *s = scores + (int64_t)blockIdx.x * ld_in;
    T *o = out + (int64_t)blockIdx.x * ld_out;

    float mx = -FLT_MAX, sum = 0.f;
    for (int64_t c = (int64_t)threadIdx.x * VEC; c < n; c += (int64_t)blockDim.x * VEC) {
        float x[VEC];
        load_scores<VEC>(s + c, x);
        float vmax = x[0], vsum = 0.f;
#pragma unroll
        for (int i = 1; i < VEC; i++) vmax = fmaxf(vmax, x[i]);
#pragma unroll
        for (int i = 0; i < VEC; i++) vsum += exp2f((x[i] - vmax) * LOG2E);
        merge_max_sum(mx, sum, vmax, vsum);
    }
#pragma unroll
    for (int off = 16; off > 0; off /= 2) {
        float m2 = __shfl_xor_sync(0xffffffffu, mx, off),
              s2 = __shfl_xor_sync(0xffffffffu, sum, off);
        merge_max_sum(mx, sum, m2, s2);
    }
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    if (lane == 0) warp_max[warp] = mx, warp_sum[warp] = sum;
    __syncthreads();
    mx = lane < warps ? warp_max[lane] : -FLT_MAX;
    sum = lane < warps ? warp_sum[lane] : 0.f;
#pragma unroll
    for (int off = 16; off > 0; off /= 2) {
        float m2 = __shfl_xor_sync(0xffffffffu, mx, off),
              s2 = __shfl_xor_sync(0xffffffffu, sum, off);
        merge_max_sum(mx, sum, m2, s2);
    }
    const float inv = 1.f / sum;

    for (int64_t c = (int64_t)threadIdx.x * VEC; c < n; c += (int64_t)blockDim.x * VEC) {
        float x[VEC];
        load_scores<VEC>(s + c, x);
#pragma unroll
        for (int i = 0; i < VEC; i++) x[i] = exp2f((x[i] - mx) * LOG2E) * inv;
        store_probs<T, VEC>(o + c, x);
    }
}

// src: [count] fp32  dst: [count] T
template <typename T> __global__ void store_fp32_as_kernel(const float *src, T *dst, int64_t count)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < count;
         i += (int64_t)gridDim.x * blockDim.x)
        dst[i] = from_float<T>(src[i]);
}

// ---- fused attention: tile helpers ---------------------------------------------------

namespace fused
{

constexpr int ROWS = 64; // query rows per tile: 4 warps × 16
constexpr int KEYS = 64; // keys per tile
constexpr int THREADS = 128;

// Q tile, then two stages of (K tile, V tile); 16-bit elements. With WINDOW_SUMS, then each
// thread's 8 fp32 column sums of K (attend_fused's window means).
template <int D, bool WINDOW_SUMS = false> constexpr size_t smem_bytes()
{
    return (size_t)(ROWS + 4 * KEYS) * D * 2 + (WINDOW_SUMS ? THREADS * 8 * sizeof(float) : 0);
}

// Rows [row0, row0 + ROWS) of a [n, D] matrix into a swizzled tile, rows at or past `end`
// zero-filled. All THREADS threads take part, 16 bytes each per step.
template <int D, typename T>
__device__ __forceinline__ void load_tile(uint32_t tile, const T *g, int64_t row0, int64_t end,
                                          int tid)
{
    constexpr int CPR = D / 8;
    static_assert(ROWS == KEYS && ROWS * CPR % THREADS == 0, "tiles copy evenly");
#pragma unroll
    for (int i = 0; i < ROWS * CPR / THREADS; i++) {
        const int idx = tid + i * THREADS, r = idx / CPR, c = idx % CPR;
        const bool ok = row0 + r < end;
        cp_async16(tile + swz<D>(r, c), ok ? g + (row0 + r) * D + c * 8 : g, ok ? 16 : 0);
    }
}

// Two outputs of a row, adjacent columns.
__device__ __forceinline__ void store_pair(float *p, float a, float b)
{
    *reinterpret_cast<float2 *>(p) = make_float2(a, b);
}
template <typename T> __device__ __forceinline__ void store_pair(T *p, float a, float b)
{
    *reinterpret_cast<uint32_t *>(p) = mma_t<T>::pack(a, b);
}

// attend_resident_wgmma's block and its shared-memory map (from a 1024-byte boundary; every
// tile SW128, 64 rows, D/64 column blocks of BLOCK bytes): K, V, then each warpgroup's ring of
// STAGES Q tiles, each warp's 16 output rows (16-bit outputs only: fp32 rows are written from
// the registers as whole sectors), the barriers. Bytes of Q in flight per SM, WGS·(STAGES−1)
// tiles at least: 72 KB at d = 64, 96 KB at d = 128, against the ~33 KB Little's law asks at
// 4.3 TB/s and ~1 µs.
template <int D, typename OutT> struct resident_shape {
    static constexpr int WGS = D == 64 ? 3 : 2; // consumer warpgroups
    static constexpr int STAGES = 4;
    static constexpr int THREADS = 128 * WGS;
    static constexpr uint32_t BLOCK = 64 * 128, TILE = BLOCK * (D / 64);
    static constexpr uint32_t O_WARP = sizeof(OutT) == 2 ? 16 * D * 2 : 0;
    static constexpr uint32_t Q_OFF = 2 * TILE, O_OFF = Q_OFF + WGS * STAGES * TILE;
    static constexpr uint32_t BAR_OFF = O_OFF + 4 * WGS * O_WARP;
    static constexpr size_t SMEM = BAR_OFF + 8 * (WGS * STAGES + 1) + 1024; // + alignment slack
    static_assert(KEYS == 64 && ROWS == 64, "one wgmma m64n64 tile of keys and of queries");
};

} // namespace fused

// q: [batch,nq,D]  k, v: [batch,nk,D]  T (bf16/fp16)
// chunks = 1: out [batch,nq,D] OutT = softmax(scale q kᵀ) v.
// chunks > 1: chunk c of the keys, [c·keys_per_chunk, ...), into partial_o [batch,chunks,nq,D]
//   (unnormalized) and partial_ml [batch,chunks,nq,2] (row max of the raw scores, row sum).
// WINDOW_SUMS (Nyström's G·V with K̃ = landmarks(K, windows) on the way): the chunks follow the
//   windows instead, chunks / windows of them a window (window j: keys [floor(j·nk/windows),
//   floor((j+1)·nk/windows)), cut the same way), and the block of query tile 0 adds up its
//   chunk's keys column by column from the K tiles it streams anyway, into k_sums
//   [batch,chunks,D] fp32 (window_means_finish divides). K is read once for both.
// grid: (query-tile blocks, chunks, batch), fused::THREADS threads, smem_bytes<D, WINDOW_SUMS>().
// Each warp owns 16 query rows of a 64-row tile, its Q fragments in registers; 64-key tiles of
// K and V stream through two cp.async stages (or stay resident when the chunk is one tile, so a
// block walking many query tiles loads them once and keeps two Q tiles in flight instead); S = Q Kᵀ and
// O += P V on mma.sync with an online softmax in fp32 registers (FlashAttention-2's schedule).
template <typename T, typename OutT, int D, bool WINDOW_SUMS = false>
__global__ void __launch_bounds__(fused::THREADS)
    attend_fused(const T *q, const T *k, const T *v, OutT *out, float *partial_o, float *partial_ml,
                 int64_t nq, int64_t nk, int64_t keys_per_chunk, float scale_log2,
                 int64_t windows = 0, float *k_sums = nullptr)
{
    using namespace fused;
    extern __shared__ __align__(128) unsigned char smem[];
    const uint32_t sQ = smem_u32(smem), sKV = sQ + ROWS * D * 2;
    constexpr uint32_t TILE_BYTES = KEYS * D * 2;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
    const int64_t b = blockIdx.z, chunk = blockIdx.y, chunks = gridDim.y;
    int64_t key0, key1;
    if (WINDOW_SUMS) {
        const int64_t splits = chunks / windows, w = chunk / splits, part = chunk % splits;
        const int64_t w0 = attn_window_begin(w, nk, windows);
        const int64_t len = attn_window_begin(w + 1, nk, windows) - w0;
        key0 = w0 + part * len / splits;
        key1 = w0 + (part + 1) * len / splits;
    } else {
        key0 = chunk * keys_per_chunk;
        key1 = key0 + keys_per_chunk < nk ? key0 + keys_per_chunk : nk;
    }
    // The window sums: each thread adds 16-byte column chunk `sum_col` of every (THREADS /
    // CPR)-th row of a K tile (rows past the chunk's end load as zeros) into its own 8 floats
    // of shared memory.
    constexpr int CPR = D / 8, SUM_ROW_STEP = THREADS / CPR;
    float *const sum_slot = reinterpret_cast<float *>(smem + (ROWS + 4 * KEYS) * D * 2) + 8 * tid;
    const int sum_col = tid % CPR, sum_row = tid / CPR;
    const int ntiles = (int)((key1 - key0 + KEYS - 1) / KEYS);
    const T *qb = q + b * nq * D, *kb = k + b * nk * D, *vb = v + b * nk * D;
    // One key tile: K and V stay in stage 0 for every query tile, and the Q tile with stage
    // 1's two tiles make a ring of three Q buffers, the next two query tiles loading during
    // this one. (With one buffer ahead, 3 blocks an SM kept 24 KB of Q in flight, too little to
    // cover DRAM latency at 4.3 TB/s: N = 2^20 queries over 64 keys ran at 1.74 TB/s.)
    const bool resident = ntiles == 1;
    const int64_t qtiles = (nq + ROWS - 1) / ROWS;
    auto q_ring = [&](int i) { return i == 0 ? sQ : sKV + (1 + i) * TILE_BYTES; };
    if (resident) {
        load_tile<D>(sKV, kb, key0, key1, tid);
        load_tile<D>(sKV + TILE_BYTES, vb, key0, key1, tid);
        if (blockIdx.x < qtiles) load_tile<D>(sQ, qb, (int64_t)blockIdx.x * ROWS, nq, tid);
        cp_async_commit();
        if (blockIdx.x + gridDim.x < qtiles)
            load_tile<D>(q_ring(1), qb, (int64_t)(blockIdx.x + gridDim.x) * ROWS, nq, tid);
        cp_async_commit(); // a group either way: the loop waits by counting groups
    }

    int turn = 0; // the ring slot of this query tile
    for (int64_t qt = blockIdx.x; qt < qtiles; qt += gridDim.x, turn = turn == 2 ? 0 : turn + 1) {
        const int64_t q0 = qt * ROWS;
        const bool summing = WINDOW_SUMS && qt == 0; // one block of the chunk sums its keys
        if (summing)
#pragma unroll
            for (int e = 0; e < 8; e++) sum_slot[e] = 0.f;
        __syncthreads(); // the previous tile's reads of the Q buffer and of the stages are done
        uint32_t q_tile = sQ;
        if (resident) {
            q_tile = q_ring(turn);
            const int64_t ahead = qt + 2 * (int64_t)gridDim.x; // into the slot just read
            if (ahead < qtiles) load_tile<D>(q_ring(turn == 0 ? 2 : turn - 1), qb, ahead * ROWS, nq, tid);
            cp_async_commit();
            cp_async_wait<2>(); // all but the two newest groups: this tile's Q (and K, V) landed
        } else {
            load_tile<D>(sQ, qb, q0, nq, tid);
            load_tile<D>(sKV, kb, key0, key1, tid);
            load_tile<D>(sKV + TILE_BYTES, vb, key0, key1, tid);
            cp_async_commit();
            cp_async_wait<0>();
        }
        __syncthreads();

        uint32_t qf[D / 16][4];
#pragma unroll
        for (int ks = 0; ks < D / 16; ks++)
            ldsm_x4(qf[ks], q_tile + swz<D>(warp * 16 + (lane % 8) + 8 * ((lane / 8) & 1),
                                            2 * ks + lane / 16));
        float o[D / 8][4] = {};
        float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.f, 0.f};

        for (int i = 0; i < ntiles; i++) {
            if (!resident) {
                if (i + 1 < ntiles) {
                    const uint32_t next = sKV + ((i + 1) & 1) * 2 * TILE_BYTES;
                    const int64_t nk0 = key0 + (int64_t)(i + 1) * KEYS;
                    load_tile<D>(next, kb, nk0, key1, tid);
                    load_tile<D>(next + TILE_BYTES, vb, nk0, key1, tid);
                    cp_async_commit();
                }
                if (i > 0) {
                    if (i + 1 < ntiles)
                        cp_async_wait<1>();
                    else
                        cp_async_wait<0>();
                    __syncthreads();
                }
            }
            const uint32_t sK = sKV + (resident ? 0 : (i & 1) * 2 * TILE_BYTES);
            const uint32_t sV = sK + TILE_BYTES;
            const int64_t tile_key0 = key0 + (int64_t)i * KEYS;
            if (summing) {
                float acc[8] = {};
#pragma unroll
                for (int r = sum_row; r < KEYS; r += SUM_ROW_STEP) {
                    const uint4 u = lds128(sK + swz<D>(r, sum_col));
                    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const float2 f = unpack2<T>(w[e]);
                        acc[2 * e] += f.x, acc[2 * e + 1] += f.y;
                    }
                }
#pragma unroll
                for (int e = 0; e < 8; e++) sum_slot[e] += acc[e];
            }

            float s[KEYS / 8][4] = {};
#pragma unroll
            for (int ks = 0; ks < D / 16; ks++)
#pragma unroll
                for (int j = 0; j < KEYS / 8; j += 2) {
                    uint32_t kf[4];
                    ldsm_x4(kf, sK + swz<D>(8 * j + 8 * (lane / 16) + lane % 8,
                                            2 * ks + ((lane / 8) & 1)));
                    mma_t<T>::mma(s[j], qf[ks], kf[0], kf[1]);
                    mma_t<T>::mma(s[j + 1], qf[ks], kf[2], kf[3]);
                }
            if (tile_key0 + KEYS > key1) {
#pragma unroll
                for (int j = 0; j < KEYS / 8; j++)
#pragma unroll
                    for (int e = 0; e < 4; e++)
                        if (tile_key0 + 8 * j + 2 * t + (e & 1) >= key1) s[j][e] = -INFINITY;
            }
            // Online softmax per row half h (rows g and g + 8 of the warp's 16).
#pragma unroll
            for (int h = 0; h < 2; h++) {
                float mx = row_max[h];
#pragma unroll
                for (int j = 0; j < KEYS / 8; j++)
                    mx = fmaxf(mx, fmaxf(s[j][2 * h], s[j][2 * h + 1]));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                const float alpha = exp2f((row_max[h] - mx) * scale_log2); // first tile: 0
                row_max[h] = mx;
                const float shift = mx * scale_log2;
                float sum = 0.f;
#pragma unroll
                for (int j = 0; j < KEYS / 8; j++)
#pragma unroll
                    for (int e = 2 * h; e < 2 * h + 2; e++) {
                        s[j][e] = exp2f(fmaf(s[j][e], scale_log2, -shift));
                        sum += s[j][e];
                    }
                row_sum[h] = row_sum[h] * alpha + sum;
#pragma unroll
                for (int j = 0; j < D / 8; j++) o[j][2 * h] *= alpha, o[j][2 * h + 1] *= alpha;
            }
            mma_pv_swizzled<T, KEYS, D>(o, s, sV, lane); // O += P V
            if (!resident) __syncthreads(); // this stage is reloaded two tiles later
        }
        if (summing) {
            // Column c's partial sums sit at sum_slot base + (row_step·CPR + c/8)·8 + c%8 =
            // row_step·D + c: added in a fixed order, so the means are the same every run.
            __syncthreads();
            const float *slots = sum_slot - 8 * tid;
            for (int c = tid; c < D; c += THREADS) {
                float sum = 0.f;
                for (int r = 0; r < SUM_ROW_STEP; r++) sum += slots[r * D + c];
                k_sums[(b * chunks + chunk) * D + c] = sum;
            }
        }

#pragma unroll
        for (int h = 0; h < 2; h++) {
            float sum = row_sum[h];
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            const int64_t row = q0 + warp * 16 + g + 8 * h;
            if (row >= nq) continue;
            if (chunks == 1) {
                const float inv = 1.f / sum;
                OutT *dst = out + (b * nq + row) * D + 2 * t;
#pragma unroll
                for (int j = 0; j < D / 8; j++)
                    store_pair(dst + 8 * j, o[j][2 * h] * inv, o[j][2 * h + 1] * inv);
            } else {
                const int64_t prow = (b * chunks + chunk) * nq + row;
                float *dst = partial_o + prow * D + 2 * t;
#pragma unroll
                for (int j = 0; j < D / 8; j++)
                    store_pair(dst + 8 * j, o[j][2 * h], o[j][2 * h + 1]);
                if (t == 0) store_pair(partial_ml + 2 * prow, row_max[h], sum);
            }
        }
    }
}

// partial_o: [batch,chunks,nq,D]  partial_ml: [batch,chunks,nq,2]  out: [batch,nq,D] OutT.
// grid: (nq, batch), COMBINE_THREADS threads: one output row a block, COMBINE_THREADS / D groups
// of D threads, each group a share of the chunks and a thread a column of it. A chunk's weight
// depends only on its (max, sum), so every group walks its chunks independently and unrolled:
// a row's chunks (3 a window on nystrom's windows path: 192 at m = 64) are COMBINE_THREADS / D
// short chains of independent loads, not one long one. The groups' sums are added in shared
// memory, in a fixed order.
constexpr int COMBINE_THREADS = 256;
template <typename OutT, int D>
__global__ void __launch_bounds__(COMBINE_THREADS)
    attend_fused_combine(const float *partial_o, const float *partial_ml, OutT *out, int64_t nq,
                         int chunks, float scale_log2)
{
    constexpr int GROUPS = COMBINE_THREADS / D, WARPS = COMBINE_THREADS / 32;
    __shared__ float red_max[WARPS], red_acc[GROUPS][D], red_sum[GROUPS];
    const int64_t row = blockIdx.x, b = blockIdx.y;
    const int col = threadIdx.x % D, g = threadIdx.x / D;
    const float *ml = partial_ml + 2 * (b * chunks * nq + row); // chunk c's (max, sum) at 2·c·nq
    float mx = -INFINITY;
    for (int c = threadIdx.x; c < chunks; c += COMBINE_THREADS) mx = fmaxf(mx, ml[2 * c * nq]);
#pragma unroll
    for (int off = 16; off > 0; off /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
    if (threadIdx.x % 32 == 0) red_max[threadIdx.x / 32] = mx;
    __syncthreads();
#pragma unroll
    for (int w = 0; w < WARPS; w++) mx = fmaxf(mx, red_max[w]);
    float sum = 0.f, acc = 0.f;
    const float *po = partial_o + (b * chunks * nq + row) * D + col; // chunk c at c·nq·D
#pragma unroll 8
    for (int c = g; c < chunks; c += GROUPS) {
        const float2 m_l = *reinterpret_cast<const float2 *>(ml + 2 * c * nq);
        const float w = exp2f((m_l.x - mx) * scale_log2);
        sum += w * m_l.y;
        acc += w * po[c * nq * D];
    }
    red_acc[g][col] = acc;
    if (col == 0) red_sum[g] = sum;
    __syncthreads();
    if (g != 0) return;
    sum = red_sum[0];
#pragma unroll
    for (int i = 1; i < GROUPS; i++) acc += red_acc[i][col], sum += red_sum[i];
    out[(b * nq + row) * D + col] = from_float<OutT>(acc / sum);
}

// k_sums: [batch, windows·splits, D] fp32, the column sums of attend_fused<..., true>'s chunks,
// splits a window. mean_fp32, mean: [batch, windows, D]: each window's sums added in order and
// divided by its rows, as landmarks.cu's landmarks_window_mean does. grid: (windows, batch), D
// threads.
template <typename T, int D>
__global__ void window_means_finish(const float *k_sums, int64_t splits, int64_t nk,
                                    int64_t windows, float *mean_fp32, T *mean)
{
    const int64_t w = blockIdx.x, b = blockIdx.y;
    const int c = threadIdx.x;
    const float *src = k_sums + (b * windows + w) * splits * D + c;
    float sum = 0.f;
    for (int64_t i = 0; i < splits; i++) sum += src[i * D];
    const float value =
        sum / (float)(attn_window_begin(w + 1, nk, windows) - attn_window_begin(w, nk, windows));
    const int64_t at = (b * windows + w) * D + c;
    mean_fp32[at] = value;
    mean[at] = from_float<T>(value);
}

// q: [batch,nq,D]  k, v: [batch,nk,D] in T, nk <= 64, through tensor maps (hopper_tensor_map_sw128
// over [batch][nq or nk][D], boxes of 64 rows: rows past nq or nk read as zeros)
// out: [batch,nq,D] OutT = softmax(scale q kᵀ) v.
// grid: at most one block an SM, persistent; block i takes the query tiles [i·tiles/G,
// (i+1)·tiles/G) of all batches in order (tile = b·qtiles + 64-row tile), resident_shape's
// threads and bytes. Warpgroup w takes every WGS-th tile of the block's range, its Q tiles
// streamed by TMA through its own ring of STAGES buffers (its thread 0 loads; a tile's buffer
// is refilled with the tile STAGES on as soon as its S is computed, Q's only reader). K and V
// stay in shared memory while the range is in one batch; where it crosses into the next, the
// block meets and reloads them. Per tile: S = Q Kᵀ by wgmma m64n64k16 from shared memory,
// the whole softmax in one step (one key tile: wgmma_softmax_p from a max of -inf, no
// rescaling), O = P V by wgmma with P from registers, O / row sum out: 16-bit rows staged in
// the warp's own SW128 rows and stored 16 bytes a lane (whole rows), fp32 from registers.
template <typename T, typename OutT, int D>
__global__ void __launch_bounds__(fused::resident_shape<D, OutT>::THREADS, 1)
    attend_resident_wgmma(const __grid_constant__ CUtensorMap tm_q,
                          const __grid_constant__ CUtensorMap tm_k,
                          const __grid_constant__ CUtensorMap tm_v, OutT *out, int64_t nq,
                          int64_t nk, int64_t qtiles, int64_t tiles, float scale_log2)
{
#if HOPPER_WGMMA
    using L = fused::resident_shape<D, OutT>;
    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = hopper_smem_align1024(smem_raw);
    const uint32_t sK = smem_u32(smem), sV = sK + L::TILE;
    uint64_t *full = reinterpret_cast<uint64_t *>(smem + L::BAR_OFF);
    uint64_t *kv_full = full + L::WGS * L::STAGES;
    const int wg = threadIdx.x / 128, warp = threadIdx.x / 32 % 4, lane = threadIdx.x % 32;
    const int g = lane / 4, t = lane % 4;
    const bool leader = threadIdx.x % 128 == 0;
    const int64_t t0 = blockIdx.x * tiles / gridDim.x, t1 = (blockIdx.x + 1) * tiles / gridDim.x;
    uint64_t *ring = full + wg * L::STAGES;
    unsigned char *ring_smem = smem + L::Q_OFF + wg * L::STAGES * L::TILE;
    auto load_q = [&](int64_t tile, int stage) {
        const uint32_t bytes = L::TILE; // by reference below: not the static member itself
        cuda::ptx::mbarrier_arrive_expect_tx(cuda::ptx::sem_release, cuda::ptx::scope_cta,
                                             cuda::ptx::space_shared, &ring[stage], bytes);
#pragma unroll
        for (int c = 0; c < D / 64; c++)
            hopper_tma_load(ring_smem + stage * L::TILE + c * L::BLOCK, &tm_q, 64 * c,
                            (int)(tile % qtiles) * 64, (int)(tile / qtiles), &ring[stage]);
    };

    if (threadIdx.x == 0) {
        for (int i = 0; i <= L::WGS * L::STAGES; i++) cuda::ptx::mbarrier_init(&full[i], 1);
        cuda::ptx::fence_mbarrier_init(cuda::ptx::sem_release, cuda::ptx::scope_cluster);
    }
    __syncthreads();
    int64_t tile = t0 + wg; // this warpgroup's tiles: tile, tile + WGS, ... < t1
    if (leader)
        for (int s = 0; s < L::STAGES && tile + s * L::WGS < t1; s++) load_q(tile + s * L::WGS, s);

    int j = 0; // this warpgroup's tiles done: the ring's position
    uint32_t kv_parity = 0;
    for (int64_t seg0 = t0; seg0 < t1; kv_parity ^= 1) {
        const int64_t b = seg0 / qtiles, seg1 = t1 < (b + 1) * qtiles ? t1 : (b + 1) * qtiles;
        if (threadIdx.x == 0) {
            cuda::ptx::mbarrier_arrive_expect_tx(cuda::ptx::sem_release, cuda::ptx::scope_cta,
                                                 cuda::ptx::space_shared, kv_full, 2 * L::TILE);
#pragma unroll
            for (int c = 0; c < D / 64; c++) {
                hopper_tma_load(smem + c * L::BLOCK, &tm_k, 64 * c, 0, (int)b, kv_full);
                hopper_tma_load(smem + L::TILE + c * L::BLOCK, &tm_v, 64 * c, 0, (int)b, kv_full);
            }
        }
        hopper_wait(kv_full, kv_parity);
        OutT *ob = out + b * nq * D;
        for (; tile < seg1; tile += L::WGS, j++) {
            const int stage = j % L::STAGES;
            hopper_wait(&ring[stage], (j / L::STAGES) & 1);
            float s[fused::KEYS / 2];
            hopper_scores_kmajor<T, fused::KEYS, D, 1>(
                s, 0, 0, smem_u32(ring_smem) + stage * L::TILE, sK, L::BLOCK, L::BLOCK);
            hopper_bar_sync(1 + wg, 128); // the warpgroup's S wgmma, the stage's readers, are done
            if (leader && tile + L::STAGES * L::WGS < t1) load_q(tile + L::STAGES * L::WGS, stage);

            // One key tile: the softmax is exact in one step. wgmma_softmax_p's rescale factor
            // (2^-inf = 0 here) costs one exponential per row against its 64.
            uint32_t p[fused::KEYS / 16][4];
            float alpha[2], row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.f, 0.f};
            wgmma_softmax_p<T, fused::KEYS>(s, p, alpha, row_max, row_sum, 0, nk, t, scale_log2);
            float o[D / 2];
#pragma unroll
            for (int k16 = 0; k16 < fused::KEYS / 16; k16++) hopper_pin(p[k16]);
            hopper_wgmma_fence();
#pragma unroll
            for (int k16 = 0; k16 < fused::KEYS / 16; k16++) // the first k-step clears O
                hopper_wgmma_rs<T, D, 1>(o, p[k16], hopper_desc_mnmajor(sV, L::BLOCK, k16),
                                         k16 > 0);
            hopper_wgmma_commit();
            hopper_wgmma_wait<0>();
            hopper_pin(o);

            const int64_t row0 = (tile - b * qtiles) * fused::ROWS + 16 * warp; // the warp's
            float inv[2];
#pragma unroll
            for (int h = 0; h < 2; h++) {
                float sum = row_sum[h];
                sum += __shfl_xor_sync(0xffffffffu, sum, 1);
                sum += __shfl_xor_sync(0xffffffffu, sum, 2);
                inv[h] = 1.f / sum;
            }
            if constexpr (sizeof(OutT) == 4) {
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const int64_t row = row0 + g + 8 * h;
                    if (row >= nq) continue;
                    float *dst = ob + row * D + 2 * t;
#pragma unroll
                    for (int jj = 0; jj < D / 8; jj++) // 4 lanes × 8 bytes: a whole sector
                        fused::store_pair(dst + 8 * jj, o[4 * jj + 2 * h] * inv[h],
                                          o[4 * jj + 2 * h + 1] * inv[h]);
                }
            } else {
                // The warp's 16 rows into its own SW128 rows (both the 4-byte writes, 8 rows ×
                // 4 lanes, and the 16-byte reads fall in distinct banks), then whole rows out.
                constexpr uint32_t O_BLOCK = 16 * 128;
                unsigned char *sO = smem + L::O_OFF + (4 * wg + warp) * L::O_WARP;
#pragma unroll
                for (int h = 0; h < 2; h++)
#pragma unroll
                    for (int jj = 0; jj < D / 8; jj++) {
                        const uint32_t at = hopper_sw128_offset(g + 8 * h, jj, O_BLOCK) + 4 * t;
                        *reinterpret_cast<uint32_t *>(sO + at) = mma_t<OutT>::pack(
                            o[4 * jj + 2 * h] * inv[h], o[4 * jj + 2 * h + 1] * inv[h]);
                    }
                __syncwarp();
                constexpr int CPR = D / 8; // 16-byte chunks a row
#pragma unroll
                for (int i = 0; i < 16 * CPR / 32; i++) {
                    const int c = lane + 32 * i, r = c / CPR, ch = c % CPR;
                    const uint32_t at = hopper_sw128_offset(r, ch, O_BLOCK);
                    if (row0 + r < nq)
                        *reinterpret_cast<uint4 *>(ob + (row0 + r) * D + ch * 8) =
                            *reinterpret_cast<const uint4 *>(sO + at);
                }
                __syncwarp(); // every lane's reads are done before the next tile's writes
            }
        }
        seg0 = seg1;
        __syncthreads(); // every warpgroup is done with this batch's K and V
    }
#endif
}

// ---- host launchers -----------------------------------------------------------------------

template <typename T, int VEC>
static cudaError_t launch_softmax(const float *scores, int64_t ld_in, T *out, int64_t ld_out,
                                  int64_t rows, int64_t n, cudaStream_t stream)
{
    if (n <= 32 * VEC) {
        constexpr int WARPS = 8;
        const int64_t blocks = (rows + WARPS - 1) / WARPS;
        if (blocks > INT32_MAX) return cudaErrorInvalidConfiguration;
        softmax_warp_rows<T, VEC>
            <<<(unsigned)blocks, WARPS * 32, 0, stream>>>(scores, ld_in, out, ld_out, rows, (int)n);
    } else {
        if (rows > INT32_MAX) return cudaErrorInvalidConfiguration;
        // Enough threads for one vector each, up to 256: short rows keep few idle lanes.
        int64_t vecs = n / VEC, threads = (vecs + 31) / 32 * 32;
        if (threads > 256) threads = 256;
        softmax_block_rows<T, VEC>
            <<<(unsigned)rows, (unsigned)threads, 0, stream>>>(scores, ld_in, out, ld_out, n);
    }
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

// dispatch_dtype's callables: the launches above for the storage type T of the output.
struct softmax_launch {
    const float *scores;
    int64_t ld_in;
    void *out;
    int64_t ld_out, rows, n;
    bool vec;
    cudaStream_t stream;
    template <typename T> cudaError_t operator()() const
    {
        T *o = static_cast<T *>(out);
        return vec ? launch_softmax<T, 4>(scores, ld_in, o, ld_out, rows, n, stream)
                   : launch_softmax<T, 1>(scores, ld_in, o, ld_out, rows, n, stream);
    }
};

struct store_launch {
    const float *src;
    void *dst;
    int64_t count;
    cudaStream_t stream;
    template <typename T> cudaError_t operator()() const
    {
        int64_t blocks = (count + 255) / 256;
        if (blocks > 4096) blocks = 4096; // a grid-stride loop past that
        store_fp32_as_kernel<T>
            <<<(unsigned)blocks, 256, 0, stream>>>(src, static_cast<T *>(dst), count);
        CUDA_CHECK_LAUNCH();
        return cudaSuccess;
    }
};

extern "C" cudaError_t softmax_rows(const float *scores, int64_t ld_in, void *out, int64_t ld_out,
                                    int out_dtype, int64_t rows, int64_t n, cudaStream_t stream)
{
    if (n < 1 || ld_in < n || ld_out < n || rows < 0) return cudaErrorInvalidValue;
    if (rows == 0) return cudaSuccess;
    const uintptr_t out_vec_bytes = 4 * (out_dtype == ATTN_FP32 ? 4 : 2);
    const bool vec = n % 4 == 0 && ld_in % 4 == 0 && ld_out % 4 == 0 && aligned16(scores) &&
                     ((uintptr_t)out & (out_vec_bytes - 1)) == 0;
    return dispatch_dtype(out_dtype,
                          softmax_launch{scores, ld_in, out, ld_out, rows, n, vec, stream});
}

extern "C" cudaError_t store_fp32_as(const float *src, void *dst, int dtype, int64_t count,
                                     cudaStream_t stream)
{
    if (count <= 0) return cudaSuccess;
    return dispatch_dtype(dtype, store_launch{src, dst, count, stream});
}

// q: [batch,nq,d]  k, v: [batch,nk,d]  scores: [batch,nq,nk] fp32  probs: [batch,nq,nk]
// out: [batch,nq,d]
extern "C" cudaError_t softmax_attention(cublasHandle_t handle, const void *q, int64_t nq,
                                         const void *k, const void *v, int64_t nk, int d, int dtype,
                                         float scale, void *out, int out_dtype, float *scores,
                                         void *probs, int batch, cudaStream_t stream)
{
    const int64_t qd = nq * d, kd = nk * d, qk = nq * nk;
    CUDA_CHECK(gemm_rowmajor_batched(handle, 1, nq, nk, d, scale, q, d, qd, k, d, kd, dtype, 0.f,
                                     scores, nk, qk, ATTN_FP32, batch));
    CUDA_CHECK(softmax_rows(scores, nk, probs, nk, dtype, (int64_t)batch * nq, nk, stream));
    CUDA_CHECK(gemm_rowmajor_batched(handle, 0, nq, d, nk, 1.f, probs, nk, qk, v, d, kd, dtype, 0.f,
                                     out, d, qd, out_dtype, batch));
    return cudaSuccess;
}

namespace fused
{

// How a problem is spread: `qblocks` blocks per batch walk the query tiles; the keys are cut
// in `chunks` of keys_per_chunk (a multiple of KEYS) when the query tiles alone leave the
// device idle, i.e. few queries over many keys.
struct plan {
    int64_t qblocks, chunks, keys_per_chunk;
};

// The blocks of attend_fused<T, OutT, D, WINDOW_SUMS> that fit on the device at once (its
// shared memory allowed past 48 KB on the way).
template <typename T, typename OutT, int D, bool WINDOW_SUMS>
cudaError_t blocks_in_a_wave(int64_t *wave)
{
    auto kernel = attend_fused<T, OutT, D, WINDOW_SUMS>;
    constexpr size_t smem = smem_bytes<D, WINDOW_SUMS>();
    int device, sms, per_sm;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    CUDA_CHECK(allow_shared_memory(kernel, smem));
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, THREADS, smem));
    *wave = (int64_t)sms * (per_sm > 0 ? per_sm : 1);
    return cudaSuccess;
}

// The key chunks that let qtiles·batch query tiles fill a wave (1 when they fill it alone).
inline int64_t chunks_to_fill(int64_t wave, int64_t qtiles, int batch, int64_t ktiles)
{
    if (ktiles <= 1 || qtiles * batch >= wave) return 1;
    const int64_t chunks = wave / (qtiles * batch);
    return chunks < ktiles ? chunks : ktiles;
}

template <typename T, typename OutT, int D>
cudaError_t make_plan(int64_t nq, int64_t nk, int batch, plan *p)
{
    int64_t wave;
    CUDA_CHECK((blocks_in_a_wave<T, OutT, D, false>(&wave)));
    const int64_t qtiles = (nq + ROWS - 1) / ROWS, ktiles = (nk + KEYS - 1) / KEYS;
    const int64_t chunks = chunks_to_fill(wave, qtiles, batch, ktiles);
    const int64_t tiles_per_chunk = (ktiles + chunks - 1) / chunks;
    p->chunks = (ktiles + tiles_per_chunk - 1) / tiles_per_chunk;
    p->keys_per_chunk = tiles_per_chunk * KEYS;
    const int64_t per_batch = (wave + batch - 1) / batch;
    p->qblocks = p->chunks > 1 || qtiles < per_batch ? qtiles : per_batch;
    return cudaSuccess;
}

// Floats of the partial results: O [batch,chunks,nq,D], then (max, sum) [batch,chunks,nq,2].
template <int D> int64_t partial_floats(const plan &p, int64_t nq, int batch)
{
    return p.chunks > 1 ? (int64_t)batch * p.chunks * nq * (D + 2) : 0;
}

// The plan of attend_fused<..., true>: each of the `windows` windows cut in `splits` chunks
// of at least a key tile, the fewest whose blocks fill their last wave to 90% (every block
// has the same work, so a wave a third full costs as much as a full one: 512 blocks where 396
// fit, B·H = 8 and m = 64, would take two waves' time for 1.3 waves' work). *ok false, and
// the plain plan with landmarks.cu's own pass serving instead, where the windows are shorter
// than two key tiles, or where they need more chunks than both the split that fills a wave
// (the plain plan's count, taken at this kernel's occupancy) and the count whose partial
// results move an eighth of K and V's bytes (m queries over m windows grows as m²): at B·H =
// 8, m = 64 on 132 SMs, from N = 2^17 on.
template <typename T, typename OutT, int D>
cudaError_t make_windows_plan(int64_t nq, int64_t nk, int batch, int64_t windows, plan *p,
                              bool *ok)
{
    *ok = false;
    if (windows < 1 || nk / windows < 2 * KEYS || batch > 65535) return cudaSuccess;
    int64_t wave;
    CUDA_CHECK((blocks_in_a_wave<T, OutT, D, true>(&wave)));
    const int64_t qtiles = (nq + ROWS - 1) / ROWS, ktiles = (nk + KEYS - 1) / KEYS;
    const int64_t plain = chunks_to_fill(wave, qtiles, batch, ktiles);
    const int64_t eighth = nk * D / (16 * nq * (D + 2)); // chunks·nq·(D+2)·8 B ≤ 2·nk·D·2 B / 8
    const int64_t most_chunks = plain > eighth ? plain : eighth;
    int64_t most = most_chunks / windows; // splits
    if (most > nk / windows / KEYS) most = nk / windows / KEYS;
    if (most > 64) most = 64;
    if (most < 1 || windows * most > 65535 || nq > INT32_MAX) return cudaSuccess;
    int64_t splits = 1;
    double best = 0.;
    for (int64_t s = 1; s <= most; s++) {
        const int64_t blocks = windows * s * qtiles * batch;
        const double filled = (double)blocks / (double)(((blocks + wave - 1) / wave) * wave);
        if (filled > best) splits = s, best = filled;
        if (filled >= 0.9) break;
    }
    p->chunks = windows * splits;
    p->keys_per_chunk = 0; // the windows decide
    p->qblocks = qtiles;
    *ok = true;
    return cudaSuccess;
}

// Floats of attend_fused<..., true>'s scratch: the partial results, then the chunks' sums.
template <int D> int64_t windows_floats(const plan &p, int64_t nq, int batch)
{
    return partial_floats<D>(p, nq, batch) + (int64_t)batch * p.chunks * D;
}

// The query rows (all batches) from which attend_resident_wgmma is the faster: measured on an
// H100 (kernels/NOTES.md, agent), agent at 2^17 rows (B=1 H=8 N=2^14) took 60.3 µs against
// attend_fused's 64.9, at 2^13 rows (N=2^10) 23.3 against 20.1, its tensor maps and persistent
// blocks costing more than they save.
constexpr int64_t RESIDENT_WGMMA_MIN_ROWS = int64_t(1) << 17;

// Whether attend_resident_wgmma runs this problem: one key tile (where attend_fused keeps K
// and V resident and splits nothing), enough query rows, the sm_90a image running, TMA's
// 32-bit row coordinates and 16-byte aligned tensors.
static cudaError_t resident_wgmma_runs(const void *q, int64_t nq, const void *k, const void *v,
                                       int64_t nk, const void *out, int batch, bool *yes)
{
    *yes = false;
    if (nk > KEYS || nq * batch < RESIDENT_WGMMA_MIN_ROWS || nq > INT32_MAX || !aligned16(q) ||
        !aligned16(k) || !aligned16(v) || !aligned16(out))
        return cudaSuccess;
    return hopper_sm90a_runs(yes);
}

template <typename T, typename OutT, int D>
cudaError_t launch_resident_wgmma(const void *q, int64_t nq, const void *k, const void *v,
                                  int64_t nk, float scale, void *out, int batch,
                                  cudaStream_t stream)
{
    using L = resident_shape<D, OutT>;
    auto kernel = attend_resident_wgmma<T, OutT, D>;
    const bool bf16 = hopper_is_bf16<T>();
    CUtensorMap tm_q, tm_k, tm_v;
    CUDA_CHECK(hopper_tensor_map_sw128(&tm_q, q, bf16, (uint64_t)batch, (uint64_t)nq, D, ROWS));
    CUDA_CHECK(hopper_tensor_map_sw128(&tm_k, k, bf16, (uint64_t)batch, (uint64_t)nk, D, KEYS));
    CUDA_CHECK(hopper_tensor_map_sw128(&tm_v, v, bf16, (uint64_t)batch, (uint64_t)nk, D, KEYS));
    int device, sms;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    CUDA_CHECK(allow_shared_memory(kernel, L::SMEM));
    const int64_t qtiles = (nq + ROWS - 1) / ROWS, tiles = qtiles * batch;
    const int64_t want = (tiles + L::WGS - 1) / L::WGS; // a tile for each warpgroup at least
    const int64_t blocks = want < sms ? want : sms;
    kernel<<<(unsigned)blocks, L::THREADS, L::SMEM, stream>>>(
        tm_q, tm_k, tm_v, static_cast<OutT *>(out), nq, nk, qtiles, tiles, scale * LOG2E);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

template <typename T, typename OutT, int D>
cudaError_t launch(const void *q, int64_t nq, const void *k, const void *v, int64_t nk, float scale,
                   void *out, void *workspace, int batch, cudaStream_t stream)
{
    bool wgmma;
    CUDA_CHECK(resident_wgmma_runs(q, nq, k, v, nk, out, batch, &wgmma));
    if (wgmma)
        return launch_resident_wgmma<T, OutT, D>(q, nq, k, v, nk, scale, out, batch, stream);
    plan p;
    CUDA_CHECK((make_plan<T, OutT, D>(nq, nk, batch, &p)));
    if (batch > 65535 || p.chunks > 65535 || (p.chunks > 1 && nq > INT32_MAX))
        return cudaErrorInvalidConfiguration;
    const float scale_log2 = scale * LOG2E;
    float *partial_o = static_cast<float *>(workspace);
    float *partial_ml = p.chunks > 1 ? partial_o + (int64_t)batch * p.chunks * nq * D : nullptr;
    attend_fused<T, OutT, D><<<dim3((unsigned)p.qblocks, (unsigned)p.chunks, (unsigned)batch),
                               THREADS, smem_bytes<D>(), stream>>>(
        static_cast<const T *>(q), static_cast<const T *>(k), static_cast<const T *>(v),
        static_cast<OutT *>(out), partial_o, partial_ml, nq, nk, p.keys_per_chunk, scale_log2);
    CUDA_CHECK_LAUNCH();
    if (p.chunks > 1) {
        attend_fused_combine<OutT, D><<<dim3((unsigned)nq, (unsigned)batch), COMBINE_THREADS, 0, stream>>>(
            partial_o, partial_ml, static_cast<OutT *>(out), nq, (int)p.chunks, scale_log2);
        CUDA_CHECK_LAUNCH();
    }
    return cudaSuccess;
}

template <typename T, typename OutT, int D>
cudaError_t launch_windows(const void *q, int64_t nq, const void *k, const void *v, int64_t nk,
                           int64_t windows, float scale, void *out, float *k_mean_fp32,
                           void *k_mean, void *workspace, int batch, cudaStream_t stream)
{
    plan p;
    bool ok;
    CUDA_CHECK((make_windows_plan<T, OutT, D>(nq, nk, batch, windows, &p, &ok)));
    if (!ok) return cudaErrorInvalidConfiguration;
    const float scale_log2 = scale * LOG2E;
    float *partial_o = static_cast<float *>(workspace);
    float *partial_ml = p.chunks > 1 ? partial_o + (int64_t)batch * p.chunks * nq * D : nullptr;
    float *k_sums = partial_o + partial_floats<D>(p, nq, batch);
    attend_fused<T, OutT, D, true><<<dim3((unsigned)p.qblocks, (unsigned)p.chunks, (unsigned)batch),
                                     THREADS, smem_bytes<D, true>(), stream>>>(
        static_cast<const T *>(q), static_cast<const T *>(k), static_cast<const T *>(v),
        static_cast<OutT *>(out), partial_o, partial_ml, nq, nk, p.keys_per_chunk, scale_log2,
        windows, k_sums);
    CUDA_CHECK_LAUNCH();
    if (p.chunks > 1) {
        attend_fused_combine<OutT, D><<<dim3((unsigned)nq, (unsigned)batch), COMBINE_THREADS, 0, stream>>>(
            partial_o, partial_ml, static_cast<OutT *>(out), nq, (int)p.chunks, scale_log2);
        CUDA_CHECK_LAUNCH();
    }
    window_means_finish<T, D><<<dim3((unsigned)windows, (unsigned)batch), D, 0, stream>>>(
        k_sums, p.chunks / windows, nk, windows, k_mean_fp32, static_cast<T *>(k_mean));
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

// Calls f.template run<T, OutT, D>() for the input type, output type and head dimension.
template <typename T, typename F> cudaError_t dispatch_out(int d, int dtype, int out_dtype, F &f)
{
    if (out_dtype == ATTN_FP32)
        return d == 64 ? f.template run<T, float, 64>() : f.template run<T, float, 128>();
    if (out_dtype == dtype)
        return d == 64 ? f.template run<T, T, 64>() : f.template run<T, T, 128>();
    return cudaErrorInvalidValue;
}
template <typename F> cudaError_t dispatch(int d, int dtype, int out_dtype, F &f)
{
    if (d != 64 && d != 128) return cudaErrorInvalidValue;
    switch (dtype) {
    case ATTN_FP16:
        return dispatch_out<__half>(d, dtype, out_dtype, f);
    case ATTN_BF16:
        return dispatch_out<__nv_bfloat16>(d, dtype, out_dtype, f);
    default:
        return cudaErrorInvalidValue;
    }
}

struct sizer {
    int64_t nq, nk;
    int batch;
    size_t bytes;
    template <typename T, typename OutT, int D> cudaError_t run()
    {
        plan p;
        CUDA_CHECK((make_plan<T, OutT, D>(nq, nk, batch, &p)));
        bytes = sizeof(float) * (size_t)partial_floats<D>(p, nq, batch);
        return cudaSuccess;
    }
};

struct windows_sizer {
    int64_t nq, nk, windows;
    int batch;
    size_t bytes; // 0: not run this way
    template <typename T, typename OutT, int D> cudaError_t run()
    {
        plan p;
        bool ok;
        CUDA_CHECK((make_windows_plan<T, OutT, D>(nq, nk, batch, windows, &p, &ok)));
        bytes = ok ? sizeof(float) * (size_t)windows_floats<D>(p, nq, batch) : 0;
        return cudaSuccess;
    }
};

struct windows_launcher {
    const void *q;
    int64_t nq;
    const void *k, *v;
    int64_t nk, windows;
    float scale;
    void *out;
    float *k_mean_fp32;
    void *k_mean, *workspace;
    int batch;
    cudaStream_t stream;
    template <typename T, typename OutT, int D> cudaError_t run()
    {
        return launch_windows<T, OutT, D>(q, nq, k, v, nk, windows, scale, out, k_mean_fp32,
                                          k_mean, workspace, batch, stream);
    }
};

struct launcher {
    const void *q;
    int64_t nq;
    const void *k, *v;
    int64_t nk;
    float scale;
    void *out, *workspace;
    int batch;
    cudaStream_t stream;
    template <typename T, typename OutT, int D> cudaError_t run()
    {
        return launch<T, OutT, D>(q, nq, k, v, nk, scale, out, workspace, batch, stream);
    }
};

} // namespace fused

extern "C" int softmax_attention_fused_supported(int d, int dtype)
{
    return (d == 64 || d == 128) && (dtype == ATTN_FP16 || dtype == ATTN_BF16);
}

extern "C" size_t softmax_attention_fused_workspace_bytes(int64_t nq, int64_t nk, int d, int dtype,
                                                          int out_dtype, int batch)
{
    fused::sizer s{nq, nk, batch, 0};
    if (nq < 1 || nk < 1 || batch < 1 || fused::dispatch(d, dtype, out_dtype, s) != cudaSuccess) {
        cudaGetLastError(); // a failed query leaves no error behind, sticky or recorded
        cuda_check_clear();
        return 0;
    }
    return s.bytes;
}

extern "C" cudaError_t softmax_attention_fused(const void *q, int64_t nq, const void *k,
                                               const void *v, int64_t nk, int d, int dtype,
                                               float scale, void *out, int out_dtype,
                                               void *workspace, int batch, cudaStream_t stream)
{
    if (nq < 1 || nk < 1 || batch < 1) return cudaErrorInvalidValue;
    fused::launcher l{q, nq, k, v, nk, scale, out, workspace, batch, stream};
    return fused::dispatch(d, dtype, out_dtype, l);
}

extern "C" size_t softmax_attention_fused_windows_workspace_bytes(int64_t nq, int64_t nk,
                                                                  int64_t windows, int d,
                                                                  int dtype, int out_dtype,
                                                                  int batch)
{
    fused::windows_sizer s{nq, nk, windows, batch, 0};
    if (nq < 1 || nk < 1 || windows < 1 || batch < 1 ||
        fused::dispatch(d, dtype, out_dtype, s) != cudaSuccess) {
        cudaGetLastError();
        cuda_check_clear();
        return 0;
    }
    return s.bytes;
}

extern "C" cudaError_t softmax_attention_fused_windows(const void *q, int64_t nq, const void *k,
                                                       const void *v, int64_t nk,
                                                       int64_t windows, int d, int dtype,
                                                       float scale, void *out, int out_dtype,
                                                       float *k_mean_fp32, void *k_mean,
                                                       void *workspace, int batch,
                                                       cudaStream_t stream)
{
    if (nq < 1 || nk < 1 || windows < 1 || batch < 1) return cudaErrorInvalidValue;
    fused::windows_launcher l{q,           nq,     k,         v,     nk,    windows, scale, out,
                              k_mean_fp32, k_mean, workspace, batch, stream};
    return fused::dispatch(d, dtype, out_dtype, l);
}
