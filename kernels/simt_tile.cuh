// simt_tile.cuh — fp32 score tiles on the CUDA cores, shared by topk_select.cu (selection) and
// gathered_attention.cu (attention over expert tiles). A block of 4 warps owns 64 rows, 16 per warp; a tile
// is TILE keys. A warp's 16 × TILE scores sit in registers in the layout of an mma.sync
// m16n8 C fragment (lane = 4g + t holds rows g and g+8, columns 8j + 2t + {0,1} of n-tile j),
// so that the tensor-core selection kernel shares the code that consumes them.
#ifndef KERNELS_SIMT_TILE_CUH
#define KERNELS_SIMT_TILE_CUH

#include <math.h>
#include <stdint.h>

#include "cuda_util.cuh"

namespace simt_tile {

constexpr int TILE = 64;          // keys per tile
constexpr int WARP_ROWS = 16;     // rows per warp (one mma m16 tile)
constexpr int W_STRIDE = TILE + 4; // softmax weights [rows, TILE], padded against bank conflicts
constexpr unsigned FULL = 0xffffffffu;

__device__ __forceinline__ float4 ld4(const float *p)
{
    return *reinterpret_cast<const float4 *>(p);
}
__device__ __forceinline__ float dot4(float4 x, float4 y, float acc)
{
    acc = fmaf(x.x, y.x, acc);
    acc = fmaf(x.y, y.y, acc);
    acc = fmaf(x.z, y.z, acc);
    return fmaf(x.w, y.w, acc);
}

// One row's 16-byte chunk v as fp32, 4 at a time, into dst (row stride D+4).
template <typename T, int D>
__device__ __forceinline__ void stage_chunk(float *dst, const T *src_row, int r, int v, bool valid)
{
    constexpr int VEC = 16 / sizeof(T);
    union { uint4 u; T e[VEC]; } x;
    x.u = valid ? *reinterpret_cast<const uint4 *>(src_row + v * VEC) : make_uint4(0, 0, 0, 0);
    float *d = dst + r * (D + 4) + v * VEC;
#pragma unroll
    for (int i = 0; i < VEC; i += 4)
        *reinterpret_cast<float4 *>(d + i) = make_float4(to_float(x.e[i]), to_float(x.e[i + 1]),
                                                         to_float(x.e[i + 2]),
                                                         to_float(x.e[i + 3]));
}

// dst: [ROWS, D+4] fp32  src: [valid, D] T; rows at and past `valid` become zeros.
template <typename T, int D, int ROWS>
__device__ __forceinline__ void stage_rows(float *dst, const T *src, int64_t valid)
{
    constexpr int PER_ROW = D * sizeof(T) / 16;
    for (int c = threadIdx.x; c < ROWS * PER_ROW; c += blockDim.x) {
        const int r = c / PER_ROW, v = c % PER_ROW;
        stage_chunk<T, D>(dst, src + (int64_t)r * D, r, v, r < valid);
    }
}

// As stage_rows, row r taken from src row idx[r] (a gather).
template <typename T, int D, int ROWS>
__device__ __forceinline__ void stage_rows_gather(float *dst, const T *src, const int32_t *idx,
                                                  int64_t valid)
{
    constexpr int PER_ROW = D * sizeof(T) / 16;
    for (int c = threadIdx.x; c < ROWS * PER_ROW; c += blockDim.x) {
        const int r = c / PER_ROW, v = c % PER_ROW;
        const bool ok = r < valid;
        stage_chunk<T, D>(dst, src + (ok ? (int64_t)idx[r] : 0) * D, r, v, ok);
    }
}

// The warp's 16 × TILE scores. qs: [64, D+4] (the block's rows)  ks: [TILE, D+4].
template <int D>
__device__ __forceinline__ void simt_scores(float (&acc)[8][4], const float *qs, const float *ks,
                                            int warp, int g, int t)
{
    constexpr int S = D + 4; // K rows 2t + {0,1} of 8 n-tiles: banks 8t apart, no conflicts
#pragma unroll
    for (int j = 0; j < 8; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) acc[j][e] = 0.f;
    const float *qa = qs + (warp * WARP_ROWS + g) * S, *qb = qa + 8 * S, *kb = ks + 2 * t * S;
#pragma unroll 2
    for (int c = 0; c < D; c += 4) {
        const float4 x = ld4(qa + c), y = ld4(qb + c);
#pragma unroll
        for (int j = 0; j < 8; j++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                const float4 kv = ld4(kb + (8 * j + e) * S + c);
                acc[j][e] = dot4(x, kv, acc[j][e]);
                acc[j][2 + e] = dot4(y, kv, acc[j][2 + e]);
            }
    }
}

// Online softmax of the warp's rows over one tile, and the weighted values: o[h][i] holds row
// g + 8h, channels 4t + 16i .. +3 (interleaved so that the four t lanes hit distinct banks).
// Weights are exp(scale·(score − running max)); keys at and past `end` weigh 0.
// ws: the warp's [16, W_STRIDE]  vs: [TILE, D+4]
template <int D>
__device__ __forceinline__ void softmax_values_tile(const float (&acc)[8][4], int64_t kt,
                                                    int64_t end, float scale, float *ws,
                                                    const float *vs, float (&rmax)[2],
                                                    float (&rsum)[2], float4 (&o)[2][D / 16],
                                                    int g, int t)
{
    float tmax[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int j = 0; j < 8; j++)
#pragma unroll
        for (int e = 0; e < 4; e++)
            if (kt + 8 * j + 2 * t + (e & 1) < end) tmax[e >> 1] = fmaxf(tmax[e >> 1], acc[j][e]);
    float corr[2];
#pragma unroll
    for (int h = 0; h < 2; h++) {
        tmax[h] = fmaxf(tmax[h], __shfl_xor_sync(FULL, tmax[h], 1));
        tmax[h] = fmaxf(tmax[h], __shfl_xor_sync(FULL, tmax[h], 2));
        const float m = fmaxf(rmax[h], tmax[h]); // finite: a tile holds at least one key
        corr[h] = __expf(scale * (rmax[h] - m));
        rmax[h] = m;
    }
    float wsum[2] = {0.f, 0.f};
#pragma unroll
    for (int j = 0; j < 8; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int h = e >> 1, col = 8 * j + 2 * t + (e & 1);
            const float w = kt + col < end ? __expf(scale * (acc[j][e] - rmax[h])) : 0.f;
            ws[(g + 8 * h) * W_STRIDE + col] = w;
            wsum[h] += w;
        }
#pragma unroll
    for (int h = 0; h < 2; h++) {
        rsum[h] = rsum[h] * corr[h] + wsum[h];
#pragma unroll
        for (int i = 0; i < D / 16; i++) {
            o[h][i].x *= corr[h];
            o[h][i].y *= corr[h];
            o[h][i].z *= corr[h];
            o[h][i].w *= corr[h];
        }
    }
    __syncwarp();
#pragma unroll 4
    for (int key = 0; key < TILE; key++) {
        const float w0 = ws[g * W_STRIDE + key], w1 = ws[(g + 8) * W_STRIDE + key];
#pragma unroll
        for (int i = 0; i < D / 16; i++) {
            const float4 v = ld4(vs + key * (D + 4) + 4 * t + 16 * i);
            o[0][i].x = fmaf(w0, v.x, o[0][i].x);
            o[0][i].y = fmaf(w0, v.y, o[0][i].y);
            o[0][i].z = fmaf(w0, v.z, o[0][i].z);
            o[0][i].w = fmaf(w0, v.w, o[0][i].w);
            o[1][i].x = fmaf(w1, v.x, o[1][i].x);
            o[1][i].y = fmaf(w1, v.y, o[1][i].y);
            o[1][i].z = fmaf(w1, v.z, o[1][i].z);
            o[1][i].w = fmaf(w1, v.w, o[1][i].w);
        }
    }
    __syncwarp();
}

// The row sums of softmax_values_tile, summed over the four lanes that share a row.
__device__ __forceinline__ float row_total(float lane_sum)
{
    lane_sum += __shfl_xor_sync(FULL, lane_sum, 1);
    return lane_sum + __shfl_xor_sync(FULL, lane_sum, 2);
}

} // namespace simt_tile

#endif
