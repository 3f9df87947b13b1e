// wgmma_softmax.cuh — the online softmax of attention in the accumulator layout of wgmma
// m64nNk16 (hopper.cuh: per warp, the C layout of mma.m16n8 over N/8 column blocks), shared by
// the wgmma kernels: flash_attn.cu's flash_wgmma versions, gathered_attention.cu's expert
// tiles and softmax.cu's attend_resident_wgmma. One tile of scores in, P rounded to the 16-bit type in the A layout of the P·V wgmma
// out, the running row max and sum updated, and the factor by which O is to be rescaled.
#ifndef KERNELS_WGMMA_SOFTMAX_CUH
#define KERNELS_WGMMA_SOFTMAX_CUH

#include <stdint.h>

#include "cuda_util.cuh" // fast_exp2
#include "hopper.cuh"    // wgmma: wgmma_rescale_pv
#include "mma_util.cuh"  // mma_t<T>::pack

// 2^x for x <= 0 on the FMA and integer pipes instead of the special-function unit (the MUFU
// that fast_exp2 issues): x = n + f with n the nearest integer (by the 1.5·2^23 addition, which
// leaves n in the low mantissa bits) and |f| <= 1/2, 2^f by its degree-4 Taylor polynomial
// (relative error < 6e-5, far under the bf16/fp16 rounding of P), 2^n added to the exponent.
// x is clamped at -126 so that the exponent stays positive: 2^-126 stands for any smaller P,
// -inf (masked keys) included: a weight of ~1e-38 against the row maximum's 1, which rounding
// P to bf16/fp16 then drops. FlashAttention-4's idea (on Blackwell); here it relieves the MUFU,
// the top pipe of flash_wgmma at d = 64 (NOTES.md).
__device__ __forceinline__ float fma_exp2(float x)
{
    constexpr float ROUND = 12582912.f; // 1.5 · 2^23
    x = x < -126.f ? -126.f : x; // not fmaxf: a NaN score stays NaN, as ex2 keeps it
    const float r = x + ROUND, n = r - ROUND, f = x - n;
    float y = fmaf(f, 0.0096181291f, 0.0555041087f); // ln2^4/24, ln2^3/6
    y = fmaf(y, f, 0.2402265070f);                   // ln2^2/2
    y = fmaf(y, f, 0.6931471806f);                   // ln2
    y = fmaf(y, f, 1.0f);
    const int n_bits = (__float_as_int(r) - __float_as_int(ROUND)) * (1 << 23); // n >= -126
    return __int_as_float(__float_as_int(y) + n_bits);
}

// P rounded to T in the A layout of the P·V wgmma: p[kb] = keys 16kb .. 16kb+15 = the D
// fragments of key blocks 2kb and 2kb+1.
template <typename T, int BN>
__device__ __forceinline__ void wgmma_pack_p(const float (&s)[BN / 2], uint32_t (&p)[BN / 16][4])
{
#pragma unroll
    for (int kb = 0; kb < BN / 16; kb++) {
        p[kb][0] = mma_t<T>::pack(s[8 * kb + 0], s[8 * kb + 1]); // row g,   keys 16kb+2t, +1
        p[kb][1] = mma_t<T>::pack(s[8 * kb + 2], s[8 * kb + 3]); // row g+8, same keys
        p[kb][2] = mma_t<T>::pack(s[8 * kb + 4], s[8 * kb + 5]); // row g,   keys 16kb+8+2t, +1
        p[kb][3] = mma_t<T>::pack(s[8 * kb + 6], s[8 * kb + 7]); // row g+8, same keys
    }
}

// The online softmax of one tile, for the two rows this thread holds: h = 0 is row 16w+g of the
// consumer's 64, h = 1 row 16w+g+8 (w the warp in the warpgroup, lane = 4g+t). s[4j+2h+e] is
// the score of key 8j+2t+e of the tile (wgmma's D layout, hopper.cuh). Keys >= N get -inf
// first when the tile is the partial last one (key0: the tile's first key). Then s becomes P =
// 2^(S·scale·log2e − new max), in fp32, in place. The running max is in score units
// (scale_log2 scales it). alpha = 2^(old max − new max), by which O is to be rescaled
// (wgmma_rescale_o); row_sum keeps this thread's part of each row's sum, already rescaled.
// EMU: the odd 8-key blocks' exponentials by fma_exp2, half of the tile off the MUFU.
template <int BN, bool EMU = false>
__device__ __forceinline__ void wgmma_softmax_exp(float (&s)[BN / 2], float (&alpha)[2],
                                                  float (&row_max)[2], float (&row_sum)[2],
                                                  int64_t key0, int64_t N, int t,
                                                  float scale_log2)
{
    if (key0 + BN > N) {
#pragma unroll
        for (int i = 0; i < BN / 2; i++)
            if (key0 + 8 * (i / 4) + 2 * t + (i & 1) >= N) s[i] = -INFINITY;
    }
#pragma unroll
    for (int h = 0; h < 2; h++) {
        float mx = row_max[h];
#pragma unroll
        for (int j = 0; j < BN / 8; j++)
            mx = fmaxf(mx, fmaxf(s[4 * j + 2 * h], s[4 * j + 2 * h + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        // Every tile has a valid key, so mx is finite; the old max is -inf on the first tile
        // only, where alpha = 2^-inf = 0 scales an O of zeros.
        const float mx_s = mx * scale_log2;
        alpha[h] = fast_exp2(row_max[h] * scale_log2 - mx_s);
        row_max[h] = mx;
        float sum = 0.f;
#pragma unroll
        for (int j = 0; j < BN / 8; j++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                float &x = s[4 * j + 2 * h + e];
                const float arg = fmaf(x, scale_log2, -mx_s);
                x = EMU && (j & 1) ? fma_exp2(arg) : fast_exp2(arg);
                sum += x;
            }
        row_sum[h] = row_sum[h] * alpha[h] + sum;
    }
}

// wgmma_softmax_exp, then P rounded to T into p (wgmma_pack_p).
template <typename T, int BN, bool EMU = false>
__device__ __forceinline__ void wgmma_softmax_p(float (&s)[BN / 2], uint32_t (&p)[BN / 16][4],
                                                float (&alpha)[2], float (&row_max)[2],
                                                float (&row_sum)[2], int64_t key0, int64_t N,
                                                int t, float scale_log2)
{
    wgmma_softmax_exp<BN, EMU>(s, alpha, row_max, row_sum, key0, N, t, scale_log2);
    wgmma_pack_p<T, BN>(s, p);
}

// The logits of a tile made of G groups of BN/G keys, each group with its own scale (MiTA's
// shared block and expert: s and s² by default), in one online-softmax step. The running max is
// in log2 units (every group's logits ·scale·log2e share it), so that it means the same across
// groups and tiles; the scores stay raw until the exponential's FMA takes the group's scale
// (sl[g] = scale · log2e, > 0, so max(sl·x) = sl·max(x)): no multiply a score. Keys the caller
// masked are -inf (a group may be wholly masked, never the tile). The max and the sum reduce as
// trees of four, not chains of BN/8 and BN/4 dependent adds: the consumers of
// attend_expert_runs are two warps a scheduler, too few to hide a chain's latency.
// SUM = false leaves the sums to the caller (wgmma_rescale_pv_sum: on the tensor cores)
// and row_sum untouched (it may be null).
template <typename T, int BN, int G, bool SUM = true>
__device__ __forceinline__ void wgmma_softmax_p_groups(float (&s)[BN / 2], uint32_t (&p)[BN / 16][4],
                                                       float (&alpha)[2], float (&row_max)[2],
                                                       float *row_sum, int t,
                                                       const float (&sl)[G])
{
    constexpr int J = BN / 8 / G; // 8-key blocks a group
    static_assert(J % 4 == 0, "a group's blocks reduce four at a time");
#pragma unroll
    for (int h = 0; h < 2; h++) {
        float mx = row_max[h];
#pragma unroll
        for (int g = 0; g < G; g++) {
            float m4[4];
#pragma unroll
            for (int k = 0; k < 4; k++) {
                const int j = g * J + k;
                m4[k] = fmaxf(s[4 * j + 2 * h], s[4 * j + 2 * h + 1]);
            }
#pragma unroll
            for (int j = g * J + 4; j < (g + 1) * J; j++)
                m4[j % 4] = fmaxf(m4[j % 4], fmaxf(s[4 * j + 2 * h], s[4 * j + 2 * h + 1]));
            mx = fmaxf(mx, sl[g] * fmaxf(fmaxf(m4[0], m4[1]), fmaxf(m4[2], m4[3])));
        }
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        alpha[h] = fast_exp2(row_max[h] - mx); // 0 on the first tile (old max -inf)
        row_max[h] = mx;
        float sum4[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
        for (int j = 0; j < BN / 8; j++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                float &x = s[4 * j + 2 * h + e];
                x = fast_exp2(fmaf(x, sl[j / J], -mx));
                if constexpr (SUM) sum4[j % 4] += x;
            }
        if constexpr (SUM)
            row_sum[h] = row_sum[h] * alpha[h] + ((sum4[0] + sum4[1]) + (sum4[2] + sum4[3]));
    }
    wgmma_pack_p<T, BN>(s, p);
}

// O *= alpha, row by row (the thread's two rows: h = 0, 1).
template <int D>
__device__ __forceinline__ void wgmma_rescale_o(float (&o)[D / 2], const float (&alpha)[2])
{
#pragma unroll
    for (int h = 0; h < 2; h++)
#pragma unroll
        for (int j = 0; j < D / 8; j++) o[4 * j + 2 * h] *= alpha[h], o[4 * j + 2 * h + 1] *= alpha[h];
}

// O += P·V for one tile of BN keys, issued (the caller fences before and commits after): V
// the tile's values as an MN-major SW128 tile at shared address v (64-column blocks
// block_bytes apart), BN/16 wgmma m64nDk16, P's 16-key slice k16 from registers.
template <typename T, int D, int BN>
__device__ __forceinline__ void wgmma_pv(float (&o)[D / 2], const uint32_t (&p)[BN / 16][4],
                                         uint32_t v, uint32_t block_bytes)
{
#pragma unroll
    for (int k16 = 0; k16 < BN / 16; k16++)
        hopper_wgmma_rs<T, D, 1>(o, p[k16], hopper_desc_mnmajor(v, block_bytes, k16), 1);
}

// O = O·alpha + P·V for one tile of BN keys, waited: P from wgmma_softmax_p or
// wgmma_softmax_p_groups, the values as wgmma_pv reads them. The expert tiles' and the probe's
// step; flash issues wgmma_pv in its own groups, to overlap it with the next tile's scores.
template <typename T, int D, int BN>
__device__ __forceinline__ void wgmma_rescale_pv(float (&o)[D / 2], uint32_t (&p)[BN / 16][4],
                                                 const float (&alpha)[2], uint32_t v,
                                                 uint32_t block_bytes)
{
    wgmma_rescale_o<D>(o, alpha);
    hopper_pin(o);
#pragma unroll
    for (int k16 = 0; k16 < BN / 16; k16++) hopper_pin(p[k16]);
    hopper_wgmma_fence();
    wgmma_pv<T, D, BN>(o, p, v, block_bytes);
    hopper_wgmma_commit();
    hopper_wgmma_wait<0>();
    hopper_pin(o);
}

// wgmma_rescale_pv, and in the same group L = L·alpha + P·1 by BN/16 wgmma m64n8k16 of P
// against `ones`, a 1024-byte SW128 tile of ones (the B operand, K-major: any 16-key slice of
// it is ones): the rows' sums of P as P·V uses it (rounded to T), in fp32, on the tensor cores
// rather than a thread's adds and its quad's shuffles (wgmma_softmax_p_groups with SUM =
// false). l[2h] and l[2h + 1] both hold row h's sum (the m16n8 C layout, h = 0: row g).
// Waited, as wgmma_rescale_pv.
template <typename T, int D, int BN>
__device__ __forceinline__ void wgmma_rescale_pv_sum(float (&o)[D / 2], float (&l)[4],
                                                     uint32_t (&p)[BN / 16][4],
                                                     const float (&alpha)[2], uint32_t v,
                                                     uint32_t block_bytes, uint32_t ones)
{
    wgmma_rescale_o<D>(o, alpha);
    l[0] *= alpha[0], l[1] *= alpha[0], l[2] *= alpha[1], l[3] *= alpha[1];
    hopper_pin(o);
    hopper_pin(l);
#pragma unroll
    for (int k16 = 0; k16 < BN / 16; k16++) hopper_pin(p[k16]);
    hopper_wgmma_fence();
    wgmma_pv<T, D, BN>(o, p, v, block_bytes);
#pragma unroll
    for (int k16 = 0; k16 < BN / 16; k16++)
        hopper_wgmma_rs<T, 8, 0>(l, p[k16], hopper_desc_kmajor(ones, 0, k16 % 4), 1);
    hopper_wgmma_commit();
    hopper_wgmma_wait<0>();
    hopper_pin(o);
    hopper_pin(l);
}

#endif
