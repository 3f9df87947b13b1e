// flash_attn.cu — fused attention forward, O = softmax(Q Kᵀ·scale) V (docs/methods.md, "full":
// the variant `flash` and one variant per version).
//
// Versions, side by side in the table at the bottom, by name: the `full` method's variant of
// that name runs it (`flash` runs the fastest that runs d, dtype and the device: on sm_90a
// flash_wgmma_ov at d = 64, flash_wgmma_fa3 at 128 and 256, else flash_w4 or flash_simt;
// flash_attn_default_version). TFLOP/s = 4·B·H·N²·d / median time on the H100 SXM, bf16,
// target shapes B·N = 16384 tokens, H·d = 2048, N = 4096 / 8192 / 16384 (kernels/NOTES.md "full/flash" has the method, fp16, the profiles and what was
// dropped; its tables name the versions by configuration, given here in brackets):
//   flash_simt  fp32 only, the fp32 default [simt_fp32 dD]. CUDA cores, 4 threads per query
//               row, 32-key tiles in shared memory, online softmax, no TF32 (docs/methods.md). ~15
//               TFLOP/s at N=4096; a correctness path, not comparable with the others.
//   flash_w8    bf16/fp16, the FlashAttention-2 schedule [mma w8 mt1 bc64 dD]: 8 warps × 16
//               query rows (128-row CTA), Q fragments in registers, 64-key K/V tiles double-
//               buffered by cp.async, mma.sync m16n8k16 + ldmatrix, online softmax in fp32
//               registers. Every warp reads the whole K/V tile from shared memory for 16 rows.
//               Rank 2: d64 288-300, d128 272-316 (four runs).
//   flash_w4    bf16/fp16, the bf16/fp16 default off sm_90a [mma w4 mt2 bc64 d64, mma w4 mt2 bc32 qsmem
//               d128]: the same 128-row CTA, 4 warps × 32 rows: two m16 tiles share each K/V
//               fragment, half the shared-memory reads per FLOP, twice the registers. Rank 1:
//               d64 bc64 326-340; d128 bc32 with Q re-read from shared memory each tile (else
//               > 255 registers) 303-348.
//   flash_wgmma bf16/fp16, sm_90a only (H100, H200; NOTES.md "full/flash_wgmma"): wgmma + TMA,
//               warp-specialized. A producer warpgroup loads Q once and 128-key K and V tiles
//               into rings of their own (2 or 3 stages, mbarriers) by TMA; two consumer
//               warpgroups of 64 query rows each run S = QKᵀ (both operands in shared memory),
//               the online softmax in registers and O += PV (P from registers), taking turns on
//               the tensor cores so that one's softmax hides under the other's MMAs
//               (FlashAttention-3's ping-pong). d = 64, 128 and 256 (64-key tiles at 256).
// The figures below are TFLOP/s on an H100 SXM at N = 4096 / 16384 (B·N = 16384, H·d = 2048,
// bf16; 2026-12-06, every version with K and V in separate rings):
//               flash_wgmma 421/441 (d64), 648/674 (d128), 707/731 (d256).
//   flash_wgmma_nopp  the same without the turns: the consumers run unsynchronized; the
//               control for what ping-pong brings. 427/451, 642/679, 565/584.
//   flash_wgmma_ov  nopp with FA3's intra-warpgroup overlap (its one-S half): S(j) and
//               P(j-1)·V(j-1) as two groups, P(j) computed while the second runs, P double-
//               buffered. d = 64, 128. `flash` at d = 64: 455/492; 671/707 at d128.
//   flash_wgmma_bn80  nopp at d = 256 with 80-key tiles (FlashAttention-3's tile for that d)
//               instead of 64: fewer rescales of the 128-register O per FLOP. 584/621.
//   flash_wgmma_bn176  nopp at d = 128 with 176-key tiles (FlashAttention-3's tile for that d)
//               instead of 128: fewer rescales and barriers per FLOP. Slower than nopp before
//               the separate rings (532-562 against 544-587): kept as the measured alternative.
//   flash_wgmma_fa3  FlashAttention-3's consumer whole: the turns of flash_wgmma, and _ov's
//               softmax under the consumer's own P·V with one P (the exponentials left in S's
//               registers, packed into P once P(j-1)·V(j-1) is waited), O rescaled while S(j)
//               runs. d = 64, 128 (3 stages), 256 (80-key tiles). `flash` at d = 128 and 256:
//               452/468, 683/714, 732/771.
//   flash_wgmma_ov1  _fa3 without the turns (_ov with one P): what the turns add to it.
//               383/390, 675/711, 730/772.
//   flash_wgmma_emu  nopp with the exponentials of every other 8-key block computed on the FMA
//               pipe (fma_exp2, FlashAttention-4's trick) instead of the MUFU, which ncu showed
//               as the top pipe at d = 64. d = 64, 128, 256. Slower than nopp everywhere it was
//               measured (347-357 at d64 on the H200): kept as the measured alternative.
// PyTorch SDPA in the same run: cuDNN 463/484 (d64), 592/666 (d128), 710/759 (d256); flash
// (FA2) 293/312, 343/363, 329/335. Measured and dropped: lazy O rescaling, software pipelining
// of S(j+1) over softmax(j) — NOTES.md says by how much and why.

#include "flash_attn.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hopper.cuh"    // tensor maps, TMA, mbarrier pipeline, wgmma: the sm_90a version
#include "mma_util.cuh"  // cp.async, ldmatrix, swizzle, mma_t: shared with softmax.cu, linear_attn.cu
#include "cuda_util.cuh" // CUDA_CHECK (cuda_check.h), enum attn_dtype (attn.h), cuda_bf16.h, cuda_fp16.h
#include "wgmma_softmax.cuh" // the online softmax in wgmma's accumulator layout (and fma_exp2)

// ---- small device helpers (fast_exp2, LOG2E: cuda_util.cuh) --------------------------------

// Copies rows [row0, row0 + ROWS) of a [N,D] matrix into a swizzled shared tile, zero-filling
// the rows at or past N. All THREADS threads take part; 16 bytes each per step, coalesced.
template <int D, int ROWS, int THREADS, typename T>
__device__ __forceinline__ void load_tile_async(uint32_t s_tile, const T *g, int64_t row0, int64_t N,
                                                int tid)
{
    constexpr int CPR = D / 8; // 16-byte chunks per row
    static_assert((ROWS * CPR) % THREADS == 0, "tile copy must divide evenly");
#pragma unroll
    for (int i = 0; i < ROWS * CPR / THREADS; i++) {
        int idx = tid + i * THREADS, r = idx / CPR, c = idx % CPR;
        bool ok = row0 + r < N;
        const T *src = ok ? g + (row0 + r) * D + c * 8 : g;
        cp_async16(s_tile + swz<D>(r, c), src, ok ? 16 : 0);
    }
}

// ---- fp32: CUDA cores ----------------------------------------------------------------------

// q, k, v, o: [B,H,N,D] fp32. grid: ceil(N/32)·B·H CTAs of 128 threads; CTA = 32 query rows,
// 4 threads per row, each holding every 4th float4 of its q and o row, so that a quad's
// shared-memory reads of one K/V row fall in 4 different bank groups and the 8 rows of a warp
// read the same addresses (broadcast).
template <int D>
__global__ void __launch_bounds__(128) flash_fwd_simt_fp32(const float *__restrict__ q,
                                                           const float *__restrict__ k,
                                                           const float *__restrict__ v,
                                                           float *__restrict__ o, int64_t N,
                                                           int n_qtiles, float scale_log2)
{
    constexpr int ROWS = 32, KT = 32, F4 = D / 16; // float4s per thread
    __shared__ float4 sK[KT][D / 4], sV[KT][D / 4];

    const int tid = threadIdx.x, quad = tid & 3;
    const int64_t bh = blockIdx.x / n_qtiles;
    const int64_t row = (int64_t)(blockIdx.x % n_qtiles) * ROWS + (tid >> 2);
    const float4 *qg = reinterpret_cast<const float4 *>(q + bh * N * D);
    const float4 *kg = reinterpret_cast<const float4 *>(k + bh * N * D);
    const float4 *vg = reinterpret_cast<const float4 *>(v + bh * N * D);

    float4 qv[F4], ov[F4];
#pragma unroll
    for (int i = 0; i < F4; i++) {
        qv[i] = row < N ? qg[row * (D / 4) + 4 * i + quad] : make_float4(0.f, 0.f, 0.f, 0.f);
        ov[i] = make_float4(0.f, 0.f, 0.f, 0.f);
    }
    float m = -INFINITY, l = 0.f;

    for (int64_t kt0 = 0; kt0 < N; kt0 += KT) {
        __syncthreads(); // the previous tile is no longer read
        for (int i = tid; i < KT * D / 4; i += 128) {
            int key = i / (D / 4), c = i % (D / 4);
            bool ok = kt0 + key < N;
            sK[key][c] = ok ? kg[(kt0 + key) * (D / 4) + c] : make_float4(0.f, 0.f, 0.f, 0.f);
            sV[key][c] = ok ? vg[(kt0 + key) * (D / 4) + c] : make_float4(0.f, 0.f, 0.f, 0.f);
        }
        __syncthreads();

        float s[KT], mx = m;
#pragma unroll
        for (int key = 0; key < KT; key++) {
            float acc = 0.f;
#pragma unroll
            for (int i = 0; i < F4; i++) {
                float4 kk = sK[key][4 * i + quad];
                acc = fmaf(qv[i].x, kk.x, acc);
                acc = fmaf(qv[i].y, kk.y, acc);
                acc = fmaf(qv[i].z, kk.z, acc);
                acc = fmaf(qv[i].w, kk.w, acc);
            }
            acc += __shfl_xor_sync(0xffffffffu, acc, 1);
            acc += __shfl_xor_sync(0xffffffffu, acc, 2);
            s[key] = kt0 + key < N ? acc : -INFINITY;
            mx = fmaxf(mx, s[key]);
        }
        float alpha = exp2f((m - mx) * scale_log2); // m = -inf on the first tile: 0
        l *= alpha;
#pragma unroll
        for (int i = 0; i < F4; i++) {
            ov[i].x *= alpha; ov[i].y *= alpha; ov[i].z *= alpha; ov[i].w *= alpha;
        }
#pragma unroll
        for (int key = 0; key < KT; key++) {
            float p = exp2f((s[key] - mx) * scale_log2);
            l += p;
#pragma unroll
            for (int i = 0; i < F4; i++) {
                float4 vv = sV[key][4 * i + quad];
                ov[i].x = fmaf(p, vv.x, ov[i].x);
                ov[i].y = fmaf(p, vv.y, ov[i].y);
                ov[i].z = fmaf(p, vv.z, ov[i].z);
                ov[i].w = fmaf(p, vv.w, ov[i].w);
            }
        }
        m = mx;
    }
    if (row < N) {
        float inv = 1.f / l;
        float4 *og = reinterpret_cast<float4 *>(o + bh * N * D);
#pragma unroll
        for (int i = 0; i < F4; i++)
            og[row * (D / 4) + 4 * i + quad] =
                make_float4(ov[i].x * inv, ov[i].y * inv, ov[i].z * inv, ov[i].w * inv);
    }
}

// ---- bf16 / fp16: tensor cores (mma.sync) ----------------------------------------------------

// Per-lane ldmatrix addresses: swz(row, chunk) of the row and 16-byte chunk this lane points
// at in the first fragment of a tile. Q (A operand, x4 = a0..a3): row lane%16, chunk lane/16.
// K (B operand, x4 = b0,b1 of two n8 key blocks): row (lane%8) + 8·(lane/16), chunk
// (lane/8)%2. V (B operand via .trans, x4 = b0,b1 of two n8 d-blocks): row (lane%8) +
// 8·((lane/8)%2), chunk lane/16. Every such row is lane%8 modulo 8.
struct lane_frag {
    uint32_t q_off, k_off, v_off;
};

// swz<D>(lane_row + row0, lane_chunk + c0) from the lane's swz<D>(lane_row, lane_chunk), for
// row0 a multiple of 8, c0 even and lane_chunk in {0, 1}: the lane's offset already carries
// its row's XOR pattern, so a LOP3 with an immediate (per distinct c0 mod 8) replaces the index
// arithmetic and row0, c0 >= 8 become immediate offsets of the ldmatrix. Measured: +1-3% at
// d=64, +4-9% at d=128 over computing swz per fragment (fewer integer ops and registers).
template <int D>
__device__ __forceinline__ uint32_t frag_off(uint32_t lane_off, int row0, int c0)
{
    return (lane_off ^ ((c0 & 7) << 4)) + ((c0 >> 3) << 7) + row0 * D * 2;
}

// S = Q Kᵀ for one key tile. s: [MT][BC/8][4] accumulators of this warp's 16·MT rows.
// qf: Q fragments when QREG, else they are read from the Q tile at sQ per k-step.
template <typename T, int D, int BC, int MT, bool QREG>
__device__ __forceinline__ void qk_tile(float (&s)[MT][BC / 8][4],
                                        const uint32_t (&qf)[QREG ? MT : 1][QREG ? D / 16 : 1][4],
                                        uint32_t sQ, uint32_t sKj, const lane_frag &lf)
{
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int n = 0; n < BC / 8; n++)
#pragma unroll
            for (int e = 0; e < 4; e++) s[mt][n][e] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
        uint32_t qa[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            if constexpr (QREG) {
#pragma unroll
                for (int e = 0; e < 4; e++) qa[mt][e] = qf[mt][kk][e];
            } else {
                ldsm_x4(qa[mt], sQ + frag_off<D>(lf.q_off, mt * 16, 2 * kk));
            }
        }
#pragma unroll
        for (int n2 = 0; n2 < BC / 16; n2++) {
            uint32_t b[4];
            ldsm_x4(b, sKj + frag_off<D>(lf.k_off, n2 * 16, 2 * kk));
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                mma_t<T>::mma(s[mt][2 * n2], qa[mt], b[0], b[1]);
                mma_t<T>::mma(s[mt][2 * n2 + 1], qa[mt], b[2], b[3]);
            }
        }
    }
}

// Sets the scores of keys >= N to -inf; key0 is the key of this lane's column 0.
template <int MT, int NB>
__device__ __forceinline__ void mask_tile(float (&s)[MT][NB][4], int64_t key0, int64_t N)
{
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int n = 0; n < NB; n++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                if (key0 + n * 8 + (e & 1) >= N) s[mt][n][e] = -INFINITY;
}

// Online softmax of one tile, in place: s becomes P = 2^(S·scale·log2e − running max), the
// running max and (per-thread partial) sums move on, and O is rescaled by 2^(old − new max).
// Rows g and g+8 of each m16 tile are h = 0, 1 (accumulator elements 2h, 2h+1); the four
// threads of a quad share a row: max by two shuffles, the sum stays per thread until the end.
// O is rescaled every tile: skipping it behind a warp vote when no max rose (exact) was 3-11%
// slower, the branch splitting the block that the scheduler interleaves (kernels/NOTES.md).
template <int MT, int NB, int ND>
__device__ __forceinline__ void softmax_tile(float (&s)[MT][NB][4], float (&row_max)[MT][2],
                                             float (&row_sum)[MT][2], float (&acc_o)[MT][ND][4],
                                             float scale_log2)
{
    float alpha[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float mx = row_max[mt][h];
#pragma unroll
            for (int n = 0; n < NB; n++) mx = fmaxf(mx, fmaxf(s[mt][n][2 * h], s[mt][n][2 * h + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            // Every tile has a valid key, so mx is finite; the old max is -inf only on the
            // first tile, where alpha = 2^-inf = 0 scales zeros.
            const float mx_s = mx * scale_log2;
            alpha[mt][h] = fast_exp2(row_max[mt][h] * scale_log2 - mx_s);
            row_max[mt][h] = mx;
            float sum = 0.f;
#pragma unroll
            for (int n = 0; n < NB; n++)
#pragma unroll
                for (int e = 2 * h; e < 2 * h + 2; e++) {
                    s[mt][n][e] = fast_exp2(fmaf(s[mt][n][e], scale_log2, -mx_s));
                    sum += s[mt][n][e];
                }
            row_sum[mt][h] = row_sum[mt][h] * alpha[mt][h] + sum;
        }
    }
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int n = 0; n < ND; n++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc_o[mt][n][e] *= alpha[mt][e >> 1];
}

// O += P V for one tile. P's accumulator layout of key blocks 2kb, 2kb+1 is the A operand of
// keys [16kb, 16kb+16), so P goes from registers to the tensor cores without shared memory.
template <typename T, int D, int BC, int MT>
__device__ __forceinline__ void pv_tile(const float (&p)[MT][BC / 8][4], float (&acc_o)[MT][D / 8][4],
                                        uint32_t sVj, const lane_frag &lf)
{
    using H = mma_t<T>;
#pragma unroll
    for (int kb = 0; kb < BC / 16; kb++) {
        uint32_t pa[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            pa[mt][0] = H::pack(p[mt][2 * kb][0], p[mt][2 * kb][1]);
            pa[mt][1] = H::pack(p[mt][2 * kb][2], p[mt][2 * kb][3]);
            pa[mt][2] = H::pack(p[mt][2 * kb + 1][0], p[mt][2 * kb + 1][1]);
            pa[mt][3] = H::pack(p[mt][2 * kb + 1][2], p[mt][2 * kb + 1][3]);
        }
#pragma unroll
        for (int n2 = 0; n2 < D / 16; n2++) {
            uint32_t b[4];
            ldsm_x4_trans(b, sVj + frag_off<D>(lf.v_off, kb * 16, 2 * n2));
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                H::mma(acc_o[mt][2 * n2], pa[mt], b[0], b[1]);
                H::mma(acc_o[mt][2 * n2 + 1], pa[mt], b[2], b[3]);
            }
        }
    }
}

// q, k, v, o: [B,H,N,D] in T. grid: ceil(N/BR)·B·H CTAs (query tile fastest, so the CTAs in
// flight share one head's K/V in L2), WARPS·32 threads, BR = WARPS·16·MT query rows per CTA.
// Shared memory: Q [BR][D] (reused to stage O), K and V [STAGES][BC][D] each, all swizzled.
// Warp w owns rows [w·16·MT, (w+1)·16·MT): MT m16 tiles share every K/V fragment it loads.
// QREG: Q fragments live in registers for the whole key loop, else they are reloaded from
// shared memory per tile (d=128 with MT=2 does not fit in 255 registers otherwise).
// One barrier per tile: after it, tile j is in shared memory for everyone and nobody reads
// tile j-1 any more, so tile j+1 is fetched into that stage while tile j is computed.
template <typename T, int D, int BC, int WARPS, int MT, bool QREG, int MINB>
__global__ void __launch_bounds__(WARPS * 32, MINB)
    flash_fwd_mma(const T *__restrict__ q, const T *__restrict__ k, const T *__restrict__ v,
                  T *__restrict__ o, int64_t N, int n_qtiles, float scale_log2)
{
    constexpr int BR = WARPS * 16 * MT, THREADS = WARPS * 32, NB = BC / 8, ND = D / 8,
                  TILE = BC * D * 2;
    extern __shared__ __align__(128) unsigned char smem[];
    const uint32_t sQ = smem_u32(smem);
    const uint32_t sK = sQ + BR * D * 2; // + stage·TILE, stage = tile mod 2
    const uint32_t sV = sK + 2 * TILE;

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int64_t bh = blockIdx.x / n_qtiles;
    const int64_t q0 = (int64_t)(blockIdx.x % n_qtiles) * BR;
    const T *qg = q + bh * N * D, *kg = k + bh * N * D, *vg = v + bh * N * D;
    const int nt = (int)((N + BC - 1) / BC);

    auto load_kv = [&](int j, int stage) {
        load_tile_async<D, BC, THREADS>(sK + stage * TILE, kg, (int64_t)j * BC, N, tid);
        load_tile_async<D, BC, THREADS>(sV + stage * TILE, vg, (int64_t)j * BC, N, tid);
    };
    load_tile_async<D, BR, THREADS>(sQ, qg, q0, N, tid);
    load_kv(0, 0);
    cp_async_commit();

    const int wrow = warp * 16 * MT;
    const lane_frag lf = {swz<D>(wrow + (lane & 15), lane >> 4),
                          swz<D>((lane & 7) + ((lane >> 4) << 3), (lane >> 3) & 1),
                          swz<D>((lane & 7) + (((lane >> 3) & 1) << 3), lane >> 4)};
    const int g = lane >> 2, t = lane & 3; // accumulator row g (and g+8), columns 2t, 2t+1

    uint32_t qf[QREG ? MT : 1][QREG ? D / 16 : 1][4];
    float acc_o[MT][ND][4];
    float row_max[MT][2], row_sum[MT][2]; // rows g and g+8; row_sum is this thread's part
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int n = 0; n < ND; n++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc_o[mt][n][e] = 0.f;
#pragma unroll
        for (int h = 0; h < 2; h++) row_max[mt][h] = -INFINITY, row_sum[mt][h] = 0.f;
    }

    cp_async_wait<0>();
    __syncthreads();
    if constexpr (QREG) {
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int kk = 0; kk < D / 16; kk++)
                ldsm_x4(qf[mt][kk], sQ + frag_off<D>(lf.q_off, mt * 16, 2 * kk));
    }
    const bool last_partial = (int64_t)nt * BC > N;
    const int64_t key_lane = 2 * t;

    float s[MT][NB][4];
    for (int j = 0; j < nt; j++) {
        if (j > 0) {
            cp_async_wait<0>(); // tile j landed (the only group in flight) ...
            __syncthreads();     // ... for every thread, and nobody reads tile j-1 any more
        }
        if (j + 1 < nt) { // prefetch tile j+1 into the stage tile j-1 used
            load_kv(j + 1, (j + 1) & 1);
            cp_async_commit();
        }
        qk_tile<T, D, BC, MT, QREG>(s, qf, sQ, sK + (j & 1) * TILE, lf);
        if (j == nt - 1 && last_partial) mask_tile(s, (int64_t)j * BC + key_lane, N);
        softmax_tile<MT, NB, ND>(s, row_max, row_sum, acc_o, scale_log2);
        pv_tile<T, D, BC, MT>(s, acc_o, sV + (j & 1) * TILE, lf);
    }

    // O / row sum, rounded to T, staged through this warp's own rows of the Q tile (only this
    // warp ever read them) so that the global stores are 16 bytes wide and coalesced.
    __syncwarp();
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float sum = row_sum[mt][h];
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            const float inv = 1.f / sum;
            const int r = wrow + mt * 16 + g + 8 * h;
#pragma unroll
            for (int n = 0; n < ND; n++) {
                uint32_t packed = mma_t<T>::pack(acc_o[mt][n][2 * h] * inv, acc_o[mt][n][2 * h + 1] * inv);
                asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(sQ + swz<D>(r, n) + 4 * t), "r"(packed));
            }
        }
    }
    __syncwarp();
    constexpr int CPR = D / 8;
    T *og = o + bh * N * D;
#pragma unroll
    for (int i = 0; i < 16 * MT * CPR / 32; i++) {
        const int idx = lane + 32 * i, r = wrow + idx / CPR, c = idx % CPR;
        if (q0 + r < N) {
            *reinterpret_cast<uint4 *>(og + (q0 + r) * D + c * 8) = lds128(sQ + swz<D>(r, c));
        }
    }
}

// ---- bf16 / fp16: wgmma, TMA, warp specialization (sm_90a) -----------------------------------
//
// One CTA = 128 query rows of one (b, h), three warpgroups of 128 threads:
//   warpgroup 0, the producer: one thread loads the Q tile once and then every K and V tile
//     by TMA, each into a STAGES-deep ring of its own (kv_pipes: two hopper_pipes), K one tile
//     ahead of V at d = 128 and 256, K(j) then V(j) at d = 64; its registers drop to 24
//     (setmaxnreg), the consumers' rise to 240.
//   warpgroups 1 and 2, the consumers: each owns 64 query rows (consumer c: rows 64c .. 64c+63)
//     and walks every K/V tile: S = Q·Kᵀ by wgmma with both operands in shared memory, the
//     online softmax on S in registers, P rounded to T in registers, O += P·V by wgmma with P
//     as the register A operand and V in shared memory (MN-major, transpose bit).
// Per consumer the key loop is a sequence of "bursts" of wgmma, one per tile plus one: burst j
// issues O += P(j-1)·V(j-1) (j >= 1) and S(j) = Q·K(j)ᵀ (j < nt) as one group, waits for it,
// releases K(j) and V(j-1), then runs the softmax of S(j). The O rescale by the new max
// therefore comes after P(j-1)·V(j-1) is added, which is what the online softmax needs: O
// and P(j-1) are both relative to the max of tile j-1 until then.
// PINGPONG (FlashAttention-3's inter-warpgroup overlap): the two consumers take turns issuing
// their bursts (named barriers 1 and 2), so that one's softmax runs while the tensor cores work
// on the other's burst. Without it the two consumers run unsynchronized.
//
// Shared memory (dynamic, from a 1024-byte boundary; every tile in the SW128 layout of
// hopper.cuh, column blocks of 64 elements): Q [D/64][128][64], K [STAGES][D/64][BN][64],
// V the same, then the pipeline's barriers and Q's. The epilogue stages each consumer's O in
// its own rows of the Q tile.

// Tile sizes and the shared-memory map of flash_fwd_wgmma.
template <int D, int BN, int STAGES> struct wgmma_tiles {
    static constexpr int BM = 128;                // query rows per CTA: 2 consumers × 64
    static constexpr int THREADS = 384;           // producer + 2 consumer warpgroups
    static constexpr int Q_BLOCK = BM * 128;      // bytes of one 64-column block of Q
    static constexpr int KV_BLOCK = BN * 128;     // ... of K or V
    static constexpr int KV_TILE = KV_BLOCK * (D / 64);
    static constexpr int K_OFF = Q_BLOCK * (D / 64);
    static constexpr int V_OFF = K_OFF + STAGES * KV_TILE;
    static constexpr int BAR_OFF = V_OFF + STAGES * KV_TILE;
    // + Q's barrier, + the slack that lets the kernel start its tiles on a 1024-byte boundary
    static constexpr size_t SMEM = BAR_OFF + 2 * sizeof(hopper_pipe<STAGES>) + 8 + 1024;
    static_assert(D % 64 == 0 && BN % 16 == 0 && BN <= 256, "tile shape");
};

// The K and V rings. Every schedule reads K(j) with S(j) and V(j-1) with P(j-1)·V(j-1) in the
// same step j, and reads S(j)'s K long before V(j) (a step later), so each has a ring and a
// release of its own: K(j)'s stage is free once S(j) completed, V(j)'s once P(j)·V(j) did. With
// one ring for both (the stage freed by P(j)·V(j)), two stages left the producer no slack where
// the softmax hides under P·V (fa3): each step waited for a whole TMA load (kernels/NOTES.md).
// Both rings walk the tiles in the same order, so one hopper_pipe_state serves K(j) and V(j).
template <int STAGES> struct kv_pipes {
    hopper_pipe<STAGES> k, v;
};

// A consumer warp's release of a stage of one ring, by one lane once the warp's wgmma that read
// it has been waited for (init's count: the 8 consumer warps).
template <int STAGES>
__device__ __forceinline__ void wgmma_release(hopper_pipe<STAGES> &ring, int stage, int tid)
{
    if (tid % 32 == 0) hopper_release(ring, stage);
}

// Step j's tiles in every schedule: the state moves from tile j-1 to j, K(j) and V(j-1) are
// waited for, and tile j-1's state (V(j-1)'s stage) is returned.
template <int STAGES>
__device__ __forceinline__ hopper_pipe_state<STAGES> wgmma_next_tiles(kv_pipes<STAGES> &pipe,
                                                                      hopper_pipe_state<STAGES> &st)
{
    const hopper_pipe_state<STAGES> prev = st;
    st.advance();
    hopper_consume(pipe.k, st);
    hopper_consume(pipe.v, prev);
    return prev;
}

// Named barriers (0 is __syncthreads): a consumer's turn to issue (1, 2), its epilogue (3, 4).
enum { BAR_TURN = 1, BAR_EPILOGUE = 3 };

// The consumers' schedules (flash_fwd_wgmma's SCHED): bursts (wgmma_consumer: P(j-1)·V(j-1)
// and S(j) as one group, waited whole, then the softmax), overlap (wgmma_consumer_ov: the
// softmax of S(j) under P(j-1)·V(j-1), P double-buffered), fa3 (wgmma_consumer_fa3:
// FlashAttention-3's whole consumer, one P).
enum { SCHED_BURSTS, SCHED_OVERLAP, SCHED_FA3 };

// S = Q·K(j)ᵀ for this consumer's 64 rows: D/16 wgmma m64nBNk16, both operands K-major.
// sQ: the consumer's first row in the Q tile's first column block; sK: the stage's K tile.
template <typename T, int D, int BN, int STAGES>
__device__ __forceinline__ void wgmma_qk(float (&s)[BN / 2], uint32_t sQ, uint32_t sK)
{
    using L = wgmma_tiles<D, BN, STAGES>;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++)
        hopper_wgmma_ss<T, BN, 0>(s, hopper_desc_kmajor(sQ, L::Q_BLOCK, kk),
                                  hopper_desc_kmajor(sK, L::KV_BLOCK, kk), kk > 0);
}

// The whole online softmax of one tile: P (wgmma_softmax_p), then O rescaled.
template <typename T, int D, int BN, bool EMU = false>
__device__ __forceinline__ void wgmma_softmax(float (&s)[BN / 2], uint32_t (&p)[BN / 16][4],
                                              float (&o)[D / 2], float (&row_max)[2],
                                              float (&row_sum)[2], int64_t key0, int64_t N,
                                              int t, float scale_log2)
{
    float alpha[2];
    wgmma_softmax_p<T, BN, EMU>(s, p, alpha, row_max, row_sum, key0, N, t, scale_log2);
    wgmma_rescale_o<D>(o, alpha);
}

// O / row sum, rounded to T, into global memory: staged in this consumer's own rows of the Q
// tile (the consumer's last S wgmma has completed; nobody else reads those rows) by stmatrix,
// in the SW128 layout so that both the writes and the 16-byte reads fall in distinct banks,
// then written 16 bytes per thread, coalesced, rows < N only.
template <typename T, int D, int BN, int STAGES>
__device__ __forceinline__ void wgmma_epilogue(const float (&o)[D / 2], const float (&row_sum)[2],
                                               uint32_t sQ, T *og, int64_t row0, int64_t N,
                                               int consumer, int tid)
{
    using L = wgmma_tiles<D, BN, STAGES>;
    float inv[2];
#pragma unroll
    for (int h = 0; h < 2; h++) {
        float sum = row_sum[h];
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        inv[h] = 1.f / sum;
    }
    hopper_stmatrix_rows<D>(sQ, L::Q_BLOCK, 16 * (tid / 32), tid % 32, [&](int j, int h) {
        return mma_t<T>::pack(o[4 * j + 2 * h] * inv[h], o[4 * j + 2 * h + 1] * inv[h]);
    });
    hopper_bar_sync(BAR_EPILOGUE + consumer, 128);
    constexpr int CPR = D / 8; // 16-byte chunks per row
#pragma unroll
    for (int i = 0; i < 64 * CPR / 128; i++) {
        const int idx = tid + 128 * i, r = idx / CPR, c = idx % CPR;
        if (row0 + r < N) {
            *reinterpret_cast<uint4 *>(og + (row0 + r) * D + c * 8) =
                lds128(sQ + hopper_sw128_offset(r, c, L::Q_BLOCK));
        }
    }
}

// One burst of a consumer (the schedule above): O += P·V from sV when PV, S = Q·Kᵀ from sK
// when QK, as one wgmma group, issued in this consumer's turn when PINGPONG (the turn handed
// on after the issue, unless !hand_on), and waited for.
template <typename T, int D, int BN, int STAGES, bool PINGPONG, bool PV, bool QK>
__device__ __forceinline__ void wgmma_burst(float (&s)[BN / 2], float (&o)[D / 2],
                                            uint32_t (&p)[BN / 16][4], uint32_t sQ, uint32_t sK,
                                            uint32_t sV, int consumer, bool hand_on)
{
    if (PINGPONG) hopper_bar_sync(BAR_TURN + consumer, 256);
    hopper_pin(o); // the softmax's writes to O and P are done before the fence
#pragma unroll
    for (int kb = 0; kb < BN / 16; kb++) hopper_pin(p[kb]);
    hopper_wgmma_fence();
    if constexpr (PV) wgmma_pv<T, D, BN>(o, p, sV, wgmma_tiles<D, BN, STAGES>::KV_BLOCK);
    if constexpr (QK) wgmma_qk<T, D, BN, STAGES>(s, sQ, sK);
    hopper_wgmma_commit();
    if (PINGPONG && hand_on) hopper_bar_arrive(BAR_TURN + 1 - consumer, 256);
    hopper_wgmma_wait<0>();
    hopper_pin(s); // read only after the wait
    hopper_pin(o);
}

// Every schedule's start, up to the softmax of S(0): O and P zeroed, Q waited for, consumer 0
// given the first turn (PINGPONG), then S(0) = Q·K(0)ᵀ in a burst of its own and K(0) released.
// st: the K ring's state, at tile 0.
template <typename T, int D, int BN, int STAGES, bool PINGPONG>
__device__ __forceinline__ void wgmma_first_burst(kv_pipes<STAGES> &pipe, uint64_t *q_full,
                                                  hopper_pipe_state<STAGES> &st,
                                                  float (&s)[BN / 2], float (&o)[D / 2],
                                                  uint32_t (&p)[BN / 16][4], uint32_t sQ,
                                                  uint32_t sK, uint32_t sV, int consumer, int tid)
{
#pragma unroll
    for (int i = 0; i < D / 2; i++) o[i] = 0.f;
#pragma unroll
    for (int kb = 0; kb < BN / 16; kb++) p[kb][0] = p[kb][1] = p[kb][2] = p[kb][3] = 0u;
    hopper_wait(q_full, 0);
    if (PINGPONG && consumer == 1) hopper_bar_arrive(BAR_TURN + 0, 256); // consumer 0 first
    hopper_consume(pipe.k, st);
    wgmma_burst<T, D, BN, STAGES, PINGPONG, false, true>(s, o, p, sQ, sK, sV, consumer, true);
    wgmma_release(pipe.k, st.stage, tid);
}

// One consumer warpgroup's whole key loop and epilogue (the schedule above): burst 0 (S(0)),
// bursts 1 .. nt-1 (P(j-1)·V(j-1) and S(j)), burst nt (P(nt-1)·V(nt-1)); the two ends are
// peeled so that no wgmma sits in a branch (ptxas serializes wgmma issued on divergent paths).
template <typename T, int D, int BN, int STAGES, bool PINGPONG, bool EMU>
__device__ __forceinline__ void wgmma_consumer(kv_pipes<STAGES> &pipe, uint64_t *q_full,
                                               uint32_t smem, T *og, int64_t q0, int64_t N,
                                               int consumer, float scale_log2)
{
    using L = wgmma_tiles<D, BN, STAGES>;
    const int tid = threadIdx.x % 128, t = tid % 4;
    const uint32_t sQ = smem + consumer * 64 * 128; // its rows 64c.. in column block 0
    const uint32_t sK = smem + L::K_OFF, sV = smem + L::V_OFF; // stage 0's tiles
    const int nt = (int)((N + BN - 1) / BN);

    float s[BN / 2], o[D / 2];
    uint32_t p[BN / 16][4];
    float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.f, 0.f};
    hopper_pipe_state<STAGES> st;
    wgmma_first_burst<T, D, BN, STAGES, PINGPONG>(pipe, q_full, st, s, o, p, sQ, sK, sV, consumer,
                                                  tid);
    wgmma_softmax<T, D, BN, EMU>(s, p, o, row_max, row_sum, 0, N, t, scale_log2);
    for (int j = 1; j < nt; j++) {
        const hopper_pipe_state<STAGES> prev = wgmma_next_tiles(pipe, st);
        wgmma_burst<T, D, BN, STAGES, PINGPONG, true, true>(
            s, o, p, sQ, sK + st.stage * L::KV_TILE, sV + prev.stage * L::KV_TILE, consumer, true);
        wgmma_release(pipe.k, st.stage, tid);
        wgmma_release(pipe.v, prev.stage, tid);
        wgmma_softmax<T, D, BN, EMU>(s, p, o, row_max, row_sum, (int64_t)j * BN, N, t,
                                     scale_log2);
    }
    // Consumer 1's last burst hands no turn on: each turn barrier completes as often as it is
    // waited on (consumer 1's first arrival above is the extra one).
    hopper_consume(pipe.v, st);
    wgmma_burst<T, D, BN, STAGES, PINGPONG, true, false>(s, o, p, sQ, sK, sV + st.stage * L::KV_TILE,
                                                        consumer, consumer == 0);
    // V(nt-1) needs no release: nothing waits for it.
    wgmma_epilogue<T, D, BN, STAGES>(o, row_sum, sQ, og, q0 + 64 * consumer, N, consumer, tid);
}

// ---- the overlapped schedule (flash_wgmma_ov) ----
// FlashAttention-3's intra-warpgroup overlap, its half that needs one S in registers: tile j's
// S = Q·K(j)ᵀ and tile j-1's O += P(j-1)·V(j-1) go out as two wgmma groups, S first; the
// consumer waits for S alone (wait<1>) and computes P(j) while the tensor cores still run
// P(j-1)·V(j-1), then waits for that and rescales O. P(j) cannot overwrite P(j-1), which the
// running wgmma reads from registers: P is double-buffered, p[CUR] read, p[1-CUR] written,
// CUR a template argument so that both stay registers (the loop is unrolled by two).

// Step j >= 1 of the overlapped schedule: S(j) and P(j-1)·V(j-1) issued, P(j) into p[1-CUR]
// under the latter, O rescaled after it, tile j-1's stage released.
template <typename T, int D, int BN, int STAGES, int CUR>
__device__ __forceinline__ void wgmma_ov_step(kv_pipes<STAGES> &pipe,
                                              hopper_pipe_state<STAGES> &st, float (&s)[BN / 2],
                                              float (&o)[D / 2], uint32_t (&p)[2][BN / 16][4],
                                              float (&row_max)[2], float (&row_sum)[2],
                                              uint32_t sQ, uint32_t sK, uint32_t sV, int64_t j,
                                              int64_t N, int t, int tid, float scale_log2)
{
    using L = wgmma_tiles<D, BN, STAGES>;
    const hopper_pipe_state<STAGES> prev = wgmma_next_tiles(pipe, st);
    hopper_pin(o);
#pragma unroll
    for (int kb = 0; kb < BN / 16; kb++) hopper_pin(p[CUR][kb]);
    hopper_wgmma_fence();
    wgmma_qk<T, D, BN, STAGES>(s, sQ, sK + st.stage * L::KV_TILE);
    hopper_wgmma_commit();
    wgmma_pv<T, D, BN>(o, p[CUR], sV + prev.stage * L::KV_TILE, L::KV_BLOCK);
    hopper_wgmma_commit();
    hopper_wgmma_wait<1>(); // S(j) is in; P(j-1)·V(j-1) may still run
    hopper_pin(s);
    wgmma_release(pipe.k, st.stage, tid);
    float alpha[2];
    wgmma_softmax_p<T, BN>(s, p[1 - CUR], alpha, row_max, row_sum, j * BN, N, t, scale_log2);
    hopper_wgmma_wait<0>();
    hopper_pin(o);
    wgmma_release(pipe.v, prev.stage, tid);
    wgmma_rescale_o<D>(o, alpha);
}

// One consumer warpgroup's key loop and epilogue in the overlapped schedule: S(0) and its P
// alone, steps 1 .. nt-1 two at a time (p[0] then p[1] read), one more when nt-1 is odd, and
// the last P·V from the buffer the final step wrote.
template <typename T, int D, int BN, int STAGES>
__device__ __forceinline__ void wgmma_consumer_ov(kv_pipes<STAGES> &pipe, uint64_t *q_full,
                                                  uint32_t smem, T *og, int64_t q0, int64_t N,
                                                  int consumer, float scale_log2)
{
    using L = wgmma_tiles<D, BN, STAGES>;
    const int tid = threadIdx.x % 128, t = tid % 4;
    const uint32_t sQ = smem + consumer * 64 * 128;
    const uint32_t sK = smem + L::K_OFF, sV = smem + L::V_OFF;
    const int nt = (int)((N + BN - 1) / BN);

    float s[BN / 2], o[D / 2];
    uint32_t p[2][BN / 16][4];
    float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.f, 0.f};
    // The first and last bursts are wgmma_consumer's, without turns.
    hopper_pipe_state<STAGES> st;
    wgmma_first_burst<T, D, BN, STAGES, false>(pipe, q_full, st, s, o, p[0], sQ, sK, sV, consumer,
                                               tid);
    wgmma_softmax<T, D, BN>(s, p[0], o, row_max, row_sum, 0, N, t, scale_log2);
    int j = 1;
    for (; j + 1 < nt; j += 2) {
        wgmma_ov_step<T, D, BN, STAGES, 0>(pipe, st, s, o, p, row_max, row_sum, sQ, sK, sV, j, N,
                                           t, tid, scale_log2);
        wgmma_ov_step<T, D, BN, STAGES, 1>(pipe, st, s, o, p, row_max, row_sum, sQ, sK, sV,
                                           j + 1, N, t, tid, scale_log2);
    }
    // The last P·V, from whichever P buffer the last tile's softmax filled.
    auto last_pv = [&](uint32_t(&p_last)[BN / 16][4]) {
        hopper_consume(pipe.v, st);
        wgmma_burst<T, D, BN, STAGES, false, true, false>(s, o, p_last, sQ, sK,
                                                          sV + st.stage * L::KV_TILE, consumer,
                                                          false);
    };
    if (j < nt) {
        wgmma_ov_step<T, D, BN, STAGES, 0>(pipe, st, s, o, p, row_max, row_sum, sQ, sK, sV, j, N,
                                           t, tid, scale_log2);
        last_pv(p[1]);
    } else {
        last_pv(p[0]);
    }
    wgmma_epilogue<T, D, BN, STAGES>(o, row_sum, sQ, og, q0 + 64 * consumer, N, consumer, tid);
}

// ---- FlashAttention-3's consumer (flash_wgmma_fa3) ----
// The overlapped schedule with one P, as FlashAttention-3 runs it: the softmax of S(j) leaves
// its exponentials in S's own fp32 registers (wgmma_softmax_exp) while P(j-1)·V(j-1) still
// reads P(j-1); P(j) is packed into the same P registers once that wgmma is waited. O is
// rescaled by alpha(j-1) while S(j) runs (O is in no wgmma then), before P(j-1)·V(j-1) adds to
// it; and the two consumers take turns issuing (PINGPONG), so that each one's softmax runs
// under the other's groups as well as its own P·V. Live a thread: S (BN/2), one P (BN/4) and O
// (D/2) registers, where _ov holds a second P.

// Step j >= 1: in this consumer's turn, S(j) issued, O rescaled by alpha(j-1), P(j-1)·V(j-1)
// issued; the softmax of S(j) under the second group; then P(j) packed, tile j-1 released.
template <typename T, int D, int BN, int STAGES, bool PINGPONG>
__device__ __forceinline__ void wgmma_fa3_step(kv_pipes<STAGES> &pipe,
                                               hopper_pipe_state<STAGES> &st, float (&s)[BN / 2],
                                               float (&o)[D / 2], uint32_t (&p)[BN / 16][4],
                                               float (&alpha)[2], float (&row_max)[2],
                                               float (&row_sum)[2], uint32_t sQ, uint32_t sK,
                                               uint32_t sV, int consumer, int64_t j, int64_t N,
                                               int t, int tid, float scale_log2)
{
    using L = wgmma_tiles<D, BN, STAGES>;
    // both tiles waited for before the turn, so as not to hold the other consumer
    const hopper_pipe_state<STAGES> prev = wgmma_next_tiles(pipe, st);
    if (PINGPONG) hopper_bar_sync(BAR_TURN + consumer, 256);
    hopper_wgmma_fence();
    wgmma_qk<T, D, BN, STAGES>(s, sQ, sK + st.stage * L::KV_TILE);
    hopper_wgmma_commit();
    wgmma_rescale_o<D>(o, alpha);
    hopper_pin(o); // rescaled before the fence that P·V's accumulators need
#pragma unroll
    for (int kb = 0; kb < BN / 16; kb++) hopper_pin(p[kb]);
    hopper_wgmma_fence();
    wgmma_pv<T, D, BN>(o, p, sV + prev.stage * L::KV_TILE, L::KV_BLOCK);
    hopper_wgmma_commit();
    if (PINGPONG) hopper_bar_arrive(BAR_TURN + 1 - consumer, 256);
    hopper_wgmma_wait<1>(); // S(j) is in; P(j-1)·V(j-1) may still run
    hopper_pin(s);
    wgmma_release(pipe.k, st.stage, tid);
    wgmma_softmax_exp<BN>(s, alpha, row_max, row_sum, j * BN, N, t, scale_log2);
    hopper_wgmma_wait<0>(); // P(j-1) is read: P(j) may take its registers
    hopper_pin(o);
    wgmma_release(pipe.v, prev.stage, tid);
    wgmma_pack_p<T, BN>(s, p);
}

// One consumer warpgroup's key loop and epilogue in FlashAttention-3's schedule: S(0) and its
// P alone, steps 1 .. nt-1, then O rescaled and the last P·V. Each consumer issues nt + 1 times,
// as in wgmma_consumer, and the turns are handed on the same way.
template <typename T, int D, int BN, int STAGES, bool PINGPONG>
__device__ __forceinline__ void wgmma_consumer_fa3(kv_pipes<STAGES> &pipe, uint64_t *q_full,
                                                   uint32_t smem, T *og, int64_t q0, int64_t N,
                                                   int consumer, float scale_log2)
{
    using L = wgmma_tiles<D, BN, STAGES>;
    const int tid = threadIdx.x % 128, t = tid % 4;
    const uint32_t sQ = smem + consumer * 64 * 128;
    const uint32_t sK = smem + L::K_OFF, sV = smem + L::V_OFF;
    const int nt = (int)((N + BN - 1) / BN);

    float s[BN / 2], o[D / 2], alpha[2];
    uint32_t p[BN / 16][4];
    float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.f, 0.f};
    hopper_pipe_state<STAGES> st;
    wgmma_first_burst<T, D, BN, STAGES, PINGPONG>(pipe, q_full, st, s, o, p, sQ, sK, sV, consumer,
                                                  tid);
    wgmma_softmax_exp<BN>(s, alpha, row_max, row_sum, 0, N, t, scale_log2);
    wgmma_pack_p<T, BN>(s, p);
    for (int64_t j = 1; j < nt; j++)
        wgmma_fa3_step<T, D, BN, STAGES, PINGPONG>(pipe, st, s, o, p, alpha, row_max, row_sum,
                                                   sQ, sK, sV, consumer, j, N, t, tid,
                                                   scale_log2);
    wgmma_rescale_o<D>(o, alpha);
    // Consumer 1's last issue hands no turn on (wgmma_consumer's rule).
    hopper_consume(pipe.v, st);
    wgmma_burst<T, D, BN, STAGES, PINGPONG, true, false>(s, o, p, sQ, sK, sV + st.stage * L::KV_TILE,
                                                        consumer, consumer == 0);
    wgmma_epilogue<T, D, BN, STAGES>(o, row_sum, sQ, og, q0 + 64 * consumer, N, consumer, tid);
}

// q, k, v, o: [B,H,N,D] in T; q, k, v through their tensor maps (hopper_tensor_map_sw128 over
// [B·H][N][D], boxes of 128 rows for Q and BN rows for K and V). grid: ceil(N/128)·B·H CTAs,
// query tile fastest; 384 threads; wgmma_tiles::SMEM bytes of dynamic shared memory.
template <typename T, int D, int BN, int STAGES, bool PINGPONG, int SCHED, bool EMU>
__global__ void __launch_bounds__(384, 1)
    flash_fwd_wgmma(const __grid_constant__ CUtensorMap tm_q,
                    const __grid_constant__ CUtensorMap tm_k,
                    const __grid_constant__ CUtensorMap tm_v, T *__restrict__ o, int64_t N,
                    int n_qtiles, float scale_log2)
{
#if HOPPER_WGMMA
    using L = wgmma_tiles<D, BN, STAGES>;
    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = hopper_smem_align1024(smem_raw);
    kv_pipes<STAGES> &pipe = *reinterpret_cast<kv_pipes<STAGES> *>(smem + L::BAR_OFF);
    uint64_t *q_full = reinterpret_cast<uint64_t *>(smem + L::BAR_OFF + sizeof(kv_pipes<STAGES>));

    const int bh = blockIdx.x / n_qtiles; // < 2^31: the grid is
    const int q0 = (blockIdx.x % n_qtiles) * L::BM; // N < 2^31: the launcher checks
    const int nt = (int)((N + BN - 1) / BN);

    if (threadIdx.x == 0) {
        cuda::ptx::mbarrier_init(q_full, 1);
        pipe.k.init(8); // a stage is free once each of the 8 consumer warps released it
        pipe.v.init(8);
    }
    __syncthreads();

    if (threadIdx.x < 128) { // the producer warpgroup; one thread issues every copy
        hopper_regs_dec<24>();
        if (threadIdx.x == 0) {
            cuda::ptx::mbarrier_arrive_expect_tx(cuda::ptx::sem_release, cuda::ptx::scope_cta,
                                                 cuda::ptx::space_shared, q_full,
                                                 (uint32_t)(L::Q_BLOCK * (D / 64)));
#pragma unroll
            for (int c = 0; c < D / 64; c++)
                hopper_tma_load(smem + c * L::Q_BLOCK, &tm_q, 64 * c, q0, bh, q_full);
            // Tile j of one ring (K or V) into its next stage, once that stage is free.
            auto load = [&](hopper_pipe<STAGES> &ring, hopper_pipe_state<STAGES> &at,
                            const CUtensorMap *map, int off, int j) {
                uint64_t *full = hopper_produce(ring, at, L::KV_TILE);
                unsigned char *dst = smem + off + at.stage * L::KV_TILE;
#pragma unroll
                for (int c = 0; c < D / 64; c++)
                    hopper_tma_load(dst + c * L::KV_BLOCK, map, 64 * c, j * BN, bh, full);
                at.advance();
            };
            // At d = 128 and 256, K one tile ahead of V, the order the consumers read them
            // in: step j reads K(j) and V(j-1). At d = 64, K(j) then V(j): a tile there is
            // short enough that V(j-1) waiting behind K(j+1)'s free stage cost more than V
            // early (kernels/NOTES.md, "The producer's order at d = 64").
            constexpr int K_AHEAD = D > 64 ? 1 : 0;
            hopper_pipe_state<STAGES> sk, sv;
            for (int j = 0; j < K_AHEAD; j++) load(pipe.k, sk, &tm_k, L::K_OFF, j);
            for (int j = 0; j < nt; j++) {
                if (j + K_AHEAD < nt) load(pipe.k, sk, &tm_k, L::K_OFF, j + K_AHEAD);
                load(pipe.v, sv, &tm_v, L::V_OFF, j);
            }
        }
    } else {
        hopper_regs_inc<240>();
        if constexpr (SCHED == SCHED_FA3)
            wgmma_consumer_fa3<T, D, BN, STAGES, PINGPONG>(pipe, q_full, smem_u32(smem),
                                                           o + (int64_t)bh * N * D, q0, N,
                                                           threadIdx.x / 128 - 1, scale_log2);
        else if constexpr (SCHED == SCHED_OVERLAP)
            wgmma_consumer_ov<T, D, BN, STAGES>(pipe, q_full, smem_u32(smem),
                                                o + (int64_t)bh * N * D, q0, N,
                                                threadIdx.x / 128 - 1, scale_log2);
        else
            wgmma_consumer<T, D, BN, STAGES, PINGPONG, EMU>(pipe, q_full, smem_u32(smem),
                                                            o + (int64_t)bh * N * D, q0, N,
                                                            threadIdx.x / 128 - 1, scale_log2);
    }
#endif
}

// ---- host launchers ------------------------------------------------------------------------

typedef cudaError_t (*flash_launch_fn)(const void *q, const void *k, const void *v, void *o,
                                       int B, int H, int64_t N, float scale_log2,
                                       cudaStream_t stream);

// Grid of ceil(N/rows)·B·H CTAs, checked against the 2^31-1 limit of gridDim.x.
static cudaError_t flash_grid(int64_t N, int rows, int B, int H, int *n_qtiles, unsigned *blocks)
{
    int64_t tiles = (N + rows - 1) / rows, total = tiles * B * H;
    if (tiles > INT32_MAX || total > INT32_MAX) return cudaErrorInvalidConfiguration;
    *n_qtiles = (int)tiles;
    *blocks = (unsigned)total;
    return cudaSuccess;
}

template <int D>
static cudaError_t launch_simt_fp32(const void *q, const void *k, const void *v, void *o, int B,
                                    int H, int64_t N, float scale_log2, cudaStream_t stream)
{
    int n_qtiles;
    unsigned blocks;
    CUDA_CHECK(flash_grid(N, 32, B, H, &n_qtiles, &blocks));
    flash_fwd_simt_fp32<D><<<blocks, 128, 0, stream>>>(
        static_cast<const float *>(q), static_cast<const float *>(k),
        static_cast<const float *>(v), static_cast<float *>(o), N, n_qtiles, scale_log2);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

template <typename T, int D, int BC, int WARPS, int MT, bool QREG, int MINB>
static cudaError_t launch_mma(const void *q, const void *k, const void *v, void *o, int B, int H,
                              int64_t N, float scale_log2, cudaStream_t stream)
{
    constexpr int BR = WARPS * 16 * MT;
    constexpr size_t smem = (size_t)(BR + 4 * BC) * D * 2; // Q + 2 stages of K and V
    auto kernel = flash_fwd_mma<T, D, BC, WARPS, MT, QREG, MINB>;
    int n_qtiles;
    unsigned blocks;
    CUDA_CHECK(flash_grid(N, BR, B, H, &n_qtiles, &blocks));
    CUDA_CHECK(allow_shared_memory(kernel, smem));
    kernel<<<blocks, WARPS * 32, smem, stream>>>(static_cast<const T *>(q), static_cast<const T *>(k),
                                                 static_cast<const T *>(v), static_cast<T *>(o), N,
                                                 n_qtiles, scale_log2);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

template <typename T, int D, int BN, int STAGES, bool PINGPONG, int SCHED, bool EMU>
static cudaError_t launch_wgmma(const void *q, const void *k, const void *v, void *o, int B, int H,
                                int64_t N, float scale_log2, cudaStream_t stream)
{
    using L = wgmma_tiles<D, BN, STAGES>;
    auto kernel = flash_fwd_wgmma<T, D, BN, STAGES, PINGPONG, SCHED, EMU>;
    if (N > INT32_MAX) return cudaErrorInvalidValue; // TMA coordinates are 32-bit
    int n_qtiles;
    unsigned blocks;
    CUDA_CHECK(flash_grid(N, L::BM, B, H, &n_qtiles, &blocks));
    const bool bf16 = hopper_is_bf16<T>();
    const uint64_t planes = (uint64_t)B * (uint64_t)H;
    CUtensorMap tm_q, tm_k, tm_v;
    CUDA_CHECK(hopper_tensor_map_sw128(&tm_q, q, bf16, planes, (uint64_t)N, D, L::BM));
    CUDA_CHECK(hopper_tensor_map_sw128(&tm_k, k, bf16, planes, (uint64_t)N, D, BN));
    CUDA_CHECK(hopper_tensor_map_sw128(&tm_v, v, bf16, planes, (uint64_t)N, D, BN));
    CUDA_CHECK(allow_shared_memory(kernel, L::SMEM));
    kernel<<<blocks, L::THREADS, L::SMEM, stream>>>(tm_q, tm_k, tm_v, static_cast<T *>(o), N,
                                                    n_qtiles, scale_log2);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

// ---- the table -------------------------------------------------------------------------------

// A version's launcher for each storage type at one head dimension; NULL: not run.
struct flash_launchers {
    flash_launch_fn fp32, fp16, bf16;
};

struct flash_version {
    const char *name; // the `full` variant that runs it
    flash_launchers d64, d128, d256;
    bool sm90a;       // runs only from the sm_90a image (flash_attn_version_runs_on)
};

#define MMA(D, BC, W, MT, QREG, MINB)                                                         \
    {NULL, launch_mma<__half, D, BC, W, MT, QREG, MINB>,                                       \
     launch_mma<__nv_bfloat16, D, BC, W, MT, QREG, MINB>}

#define WGMMA(D, BN, STAGES, PINGPONG, SCHED, EMU)                                            \
    {NULL, launch_wgmma<__half, D, BN, STAGES, PINGPONG, SCHED, EMU>,                          \
     launch_wgmma<__nv_bfloat16, D, BN, STAGES, PINGPONG, SCHED, EMU>}

static const struct flash_version flash_versions[] = {
    {"flash_simt", {launch_simt_fp32<64>, NULL, NULL}, {launch_simt_fp32<128>, NULL, NULL}, {},
     false},
    // MMA(D, BC, WARPS, MT, QREG, MINB); ptxas: 128 / 248 / 210 / 255 registers, no spills
    {"flash_w8", MMA(64, 64, 8, 1, true, 2), MMA(128, 64, 8, 1, true, 1), {}, false},
    {"flash_w4", MMA(64, 64, 4, 2, true, 2), MMA(128, 32, 4, 2, false, 2), {}, false},
    // WGMMA(D, BN, STAGES, PINGPONG, SCHED, EMU): 113, 161 and 193 KB of shared memory;
    // d=256 takes 64-key tiles, its O alone being 128 accumulators per thread
    {"flash_wgmma", WGMMA(64, 128, 3, true, SCHED_BURSTS, false), WGMMA(128, 128, 2, true, SCHED_BURSTS, false),
     WGMMA(256, 64, 2, true, SCHED_BURSTS, false), true},
    {"flash_wgmma_nopp", WGMMA(64, 128, 3, false, SCHED_BURSTS, false),
     WGMMA(128, 128, 2, false, SCHED_BURSTS, false), WGMMA(256, 64, 2, false, SCHED_BURSTS, false), true},
    // SCHED_OVERLAP: P double-buffered, BN/4 registers more than nopp: no spills at d = 64, 128;
    // at d = 256 (O alone 128 registers) ptxas spilled 124 bytes, so not there
    {"flash_wgmma_ov", WGMMA(64, 128, 3, false, SCHED_OVERLAP, false),
     WGMMA(128, 128, 2, false, SCHED_OVERLAP, false), {}, true},
    // d = 256 with 80-key tiles (nopp's schedule): 20% fewer tiles, so fewer O rescales (128
    // registers each) and barriers per FLOP; Q 64 KB + 2 stages of 80 KB = 225 KB
    {"flash_wgmma_bn80", {}, {}, WGMMA(256, 80, 2, false, SCHED_BURSTS, false), true},
    // d = 128 with 176-key tiles (nopp's schedule, FlashAttention-3's tile for that d): 27%
    // fewer tiles; S 88 accumulators a thread, Q 32 KB + 2 stages of 88 KB = 208 KB; ptxas: no
    // spills (with SCHED_OVERLAP's second P it spilled 44 bytes, so not that)
    {"flash_wgmma_bn176", {}, WGMMA(128, 176, 2, false, SCHED_BURSTS, false), {}, true},
    // SCHED_FA3 with the turns: FlashAttention-3's consumer, one P (S, P, O live: the
    // registers of nopp); d = 128 with three stages (Q 32 KB + 3 · 64 KB = 225 KB), d = 256 with
    // bn80's 80-key tiles
    {"flash_wgmma_fa3", WGMMA(64, 128, 3, true, SCHED_FA3, false),
     WGMMA(128, 128, 3, true, SCHED_FA3, false), WGMMA(256, 80, 2, true, SCHED_FA3, false), true},
    // SCHED_FA3 without the turns: _ov with one P, what the turns add to it
    {"flash_wgmma_ov1", WGMMA(64, 128, 3, false, SCHED_FA3, false),
     WGMMA(128, 128, 3, false, SCHED_FA3, false), WGMMA(256, 80, 2, false, SCHED_FA3, false), true},
    // EMU: nopp with half of the softmax's exponentials on the FMA pipe (fma_exp2)
    {"flash_wgmma_emu", WGMMA(64, 128, 3, false, SCHED_BURSTS, true),
     WGMMA(128, 128, 2, false, SCHED_BURSTS, true), WGMMA(256, 64, 2, false, SCHED_BURSTS, true), true},
};
#undef MMA
#undef WGMMA

static const flash_version *version_named(const char *name)
{
    for (const flash_version &v : flash_versions)
        if (name && strcmp(v.name, name) == 0) return &v;
    return NULL;
}

static flash_launch_fn version_fn(const char *name, int d, int dtype)
{
    if (const flash_version *found = version_named(name)) {
        const flash_version &v = *found;
        const flash_launchers *at =
            d == 64 ? &v.d64 : d == 128 ? &v.d128 : d == 256 ? &v.d256 : NULL;
        if (!at) return NULL;
        switch (dtype) {
        case ATTN_FP32: return at->fp32;
        case ATTN_FP16: return at->fp16;
        case ATTN_BF16: return at->bf16;
        default: return NULL;
        }
    }
    return NULL;
}

// Whether version `name` runs on a device of compute capability `cc` (major·10 + minor; 0:
// unknown, only the build is asked). The sm_90a versions need the build to have embedded the
// sm_90a image (meson.build defines ATTN_HAVE_SM90A when gpu_arch lists 90a) and a device of
// compute capability 9.0 exactly, the only one that loads sm_90a code: the driver then picks
// that image over the portable PTX, in which these kernels are empty. ATTNBENCH_PORTABLE_KERNELS
// turns them all off (portable.h). Touches no device: validate() calls it before one is chosen
// (flash_attn.h).
extern "C" int flash_attn_version_runs_on(const char *name, int cc, char *why, size_t why_len)
{
    const flash_version *v = version_named(name);
    if (!v || !v->sm90a) return 1;
#ifndef ATTN_HAVE_SM90A
    (void)cc;
    snprintf(why, why_len, "this build has no sm_90a code (meson option gpu_arch needs 90a)");
    return 0;
#else
    if (attn_portable_kernels_forced()) {
        snprintf(why, why_len, "ATTNBENCH_PORTABLE_KERNELS is set: the portable kernels only");
        return 0;
    }
    if (cc != 0 && cc != 90) {
        snprintf(why, why_len,
                 "needs an sm_90a GPU (compute capability 9.0: H100, H200); this one is %d.%d",
                 cc / 10, cc % 10);
        return 0;
    }
    return 1;
#endif
}

extern "C" int flash_attn_version_supports(const char *name, int d, int dtype)
{
    return version_fn(name, d, dtype) != NULL;
}

// The versions `flash` tries, fastest first (kernels/NOTES.md, "K and V in rings of their own"),
// each for one head dimension or every one (0): on an sm_90a device FlashAttention-3's consumer
// at d = 128 and 256 (1.07-1.15× and 1.02-1.03× cuDNN on an H100), at d = 64 the overlapped one
// without turns (0.98-1.02×; there fa3 is 3-5% slower since K and V have rings of their own),
// else nopp; elsewhere, and for what they do not run, the mma.sync version for bf16/fp16 and
// the CUDA-core one for fp32.
static const struct {
    const char *name;
    int d;
} default_order[] = {{"flash_wgmma_ov", 64},   {"flash_wgmma_fa3", 128}, {"flash_wgmma_fa3", 256},
                     {"flash_wgmma_nopp", 0},  {"flash_w4", 0},           {"flash_simt", 0}};

extern "C" const char *flash_attn_default_version(int d, int dtype, int cc)
{
    for (const auto &v : default_order) {
        char why[160];
        if ((v.d == 0 || v.d == d) && version_fn(v.name, d, dtype) &&
            flash_attn_version_runs_on(v.name, cc, why, sizeof why))
            return v.name;
    }
    return NULL;
}

extern "C" cudaError_t flash_attn_forward_version(const char *name, const void *q, const void *k,
                                                  const void *v, void *o, int B, int H, int64_t N,
                                                  int d, int dtype, float scale,
                                                  cudaStream_t stream)
{
    flash_launch_fn fn = version_fn(name, d, dtype);
    // scale > 0: the kernels take the row max of the unscaled scores.
    if (!fn || B < 1 || H < 1 || N < 1 || !(scale > 0.f) || !isfinite(scale))
        return cudaErrorInvalidValue;
    // The sm_90a kernels are empty in every other image: never launch them where that one is
    // not the one that runs (validate() may not have known the device).
    const flash_version *version = version_named(name);
    if (version && version->sm90a) {
        bool runs;
        CUDA_CHECK(hopper_sm90a_runs(&runs));
        if (!runs) return cudaErrorNoKernelImageForDevice;
    }
    return fn(q, k, v, o, B, H, N, scale * LOG2E, stream);
}
