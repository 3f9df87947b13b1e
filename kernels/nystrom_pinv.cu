// nystrom_pinv.cu — batched Newton–Schulz pseudo-inverse of `nystrom` (docs/methods.md)
// (kernels/nystrom_pinv.h), in fp32. Two versions; nystrom_pinv picks by m:
//   smem    m <= 64: one 256-thread block per matrix does all 6 iterations in one launch, the
//           five matrices of the iteration (M, Z, X, T, U) zero-padded to 64×64 in shared
//           memory (87 KB; the zero blocks stay zero, so the top-left m×m block evolves exactly
//           as the unpadded iteration), each product a 4×4 register tile per thread. 24 products
//           of 64³ FMAs: 0.06 ms for 8 matrices (one SM each), against 0.30 ms for cublas.
//   cublas  any m: two small kernels around cuBLAS fp32 GEMMs (gemm.cu,
//           CUBLAS_COMPUTE_32F_PEDANTIC). `initial` (one block per matrix: the max absolute row
//           and column sums, then Z₀ = Mᵀ / their product) and `terms` (U = 15I − 7X and
//           T = 13I from X = MZ) around U += X·X (= 15I − X(7I − X)), T −= X·U (= 13I − XU),
//           Z' = ¼ Z·T: 31 launches, ~0.3 ms at m = 64 (launch latency, not work), whatever N.
// Per iteration 4 m×m×m products (8m³ FLOPs; the approximate model of docs/work-models.md,
// "FLOPs per method", says 4m³).

#include "nystrom_pinv.h"

#include "cuda_util.cuh"
#include "gemm.h"

// ---- smem (m <= 64) ------------------------------------------------------------------------

constexpr int SMEM_M = 64;          // the largest m of the one-block version
constexpr int SMEM_LD = SMEM_M + 4; // row stride: rows stay 16-byte aligned, and rows 4 apart
                                    // (the two row groups of a warp) fall 16 banks apart
constexpr size_t SMEM_BYTES = 5 * SMEM_M * SMEM_LD * sizeof(float);

// c = diag·I + scale·(a b), all [64][SMEM_LD] in shared memory; the caller synchronizes.
// 256 threads, a 4×4 block of c each: per k one float4 of b and four broadcast words of a.
__device__ void pinv_product(const float *a, const float *b, float *c, float diag, float scale)
{
    const int tr = threadIdx.x / 16, tc = threadIdx.x % 16;
    float acc[4][4] = {};
    for (int k = 0; k < SMEM_M; k++) {
        const float4 bk = *reinterpret_cast<const float4 *>(b + k * SMEM_LD + 4 * tc);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const float ak = a[(4 * tr + i) * SMEM_LD + k];
            acc[i][0] = fmaf(ak, bk.x, acc[i][0]);
            acc[i][1] = fmaf(ak, bk.y, acc[i][1]);
            acc[i][2] = fmaf(ak, bk.z, acc[i][2]);
            acc[i][3] = fmaf(ak, bk.w, acc[i][3]);
        }
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int r = 4 * tr + i, col = 4 * tc + j;
            c[r * SMEM_LD + col] = (r == col ? diag : 0.f) + scale * acc[i][j];
        }
}

// mm, z: [batch,m,m], m <= 64. grid: batch blocks of 256 threads, SMEM_BYTES dynamic smem.
__global__ void __launch_bounds__(256) pinv_smem(const float *mm, float *z, int m)
{
    extern __shared__ __align__(16) float pinv_tiles[];
    float *M = pinv_tiles, *Z = M + SMEM_M * SMEM_LD, *X = Z + SMEM_M * SMEM_LD;
    float *T = X + SMEM_M * SMEM_LD, *U = T + SMEM_M * SMEM_LD;
    __shared__ float warp_max[8];
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const float *g = mm + (int64_t)blockIdx.x * m * m;
    for (int e = tid; e < SMEM_M * SMEM_LD; e += 256) {
        const int i = e / SMEM_LD, j = e % SMEM_LD;
        M[e] = i < m && j < m ? g[i * m + j] : 0.f;
    }
    __syncthreads();
    // Warps 0-1: absolute row sums; warps 2-3: column sums; their maxima.
    float sum = 0.f;
    if (tid < SMEM_M)
        for (int j = 0; j < SMEM_M; j++) sum += fabsf(M[tid * SMEM_LD + j]);
    else if (tid < 2 * SMEM_M)
        for (int i = 0; i < SMEM_M; i++) sum += fabsf(M[i * SMEM_LD + tid - SMEM_M]);
#pragma unroll
    for (int off = 16; off > 0; off /= 2) sum = fmaxf(sum, __shfl_xor_sync(0xffffffffu, sum, off));
    if (lane == 0) warp_max[warp] = sum;
    __syncthreads();
    const float inv_norm =
        1.f / (fmaxf(warp_max[0], warp_max[1]) * fmaxf(warp_max[2], warp_max[3]));
    for (int e = tid; e < SMEM_M * SMEM_M; e += 256) {
        const int i = e / SMEM_M, j = e % SMEM_M;
        Z[i * SMEM_LD + j] = M[j * SMEM_LD + i] * inv_norm;
    }
    __syncthreads();

    for (int it = 0; it < ATTN_NYSTROM_PINV_ITERATIONS; it++) {
        pinv_product(M, Z, X, 0.f, 1.f); // X = M Z
        __syncthreads();
        for (int e = tid; e < SMEM_M * SMEM_M; e += 256) {
            const int i = e / SMEM_M, j = e % SMEM_M;
            T[i * SMEM_LD + j] = (i == j ? 7.f : 0.f) - X[i * SMEM_LD + j];
        }
        __syncthreads();
        pinv_product(X, T, U, 15.f, -1.f); // U = 15I − X T
        __syncthreads();
        pinv_product(X, U, T, 13.f, -1.f); // T = 13I − X U
        __syncthreads();
        pinv_product(Z, T, X, 0.f, 0.25f); // Z' = ¼ Z T, into X's storage
        __syncthreads();
        float *swap = Z;
        Z = X, X = swap;
    }
    float *out = z + (int64_t)blockIdx.x * m * m;
    for (int e = tid; e < m * m; e += 256) out[e] = Z[(e / m) * SMEM_LD + e % m];
}

// ---- cublas (any m) ---------------------------------------------------------------------

// mm: [batch,m,m]  z: [batch,m,m] = mmᵀ / (max_i Σ_j |mm_ij| · max_j Σ_i |mm_ij|).
// grid: batch blocks of 256 threads.
__global__ void pinv_initial(const float *mm, float *z, int64_t m)
{
    __shared__ float warp_row[32], warp_col[32];
    const float *M = mm + (int64_t)blockIdx.x * m * m;
    float *Z = z + (int64_t)blockIdx.x * m * m;
    float row_max = 0.f, col_max = 0.f;
    for (int64_t i = threadIdx.x; i < m; i += blockDim.x) {
        float row = 0.f, col = 0.f;
        for (int64_t j = 0; j < m; j++) {
            row += fabsf(M[i * m + j]);
            col += fabsf(M[j * m + i]);
        }
        row_max = fmaxf(row_max, row);
        col_max = fmaxf(col_max, col);
    }
#pragma unroll
    for (int off = 16; off > 0; off /= 2) {
        row_max = fmaxf(row_max, __shfl_xor_sync(0xffffffffu, row_max, off));
        col_max = fmaxf(col_max, __shfl_xor_sync(0xffffffffu, col_max, off));
    }
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    if (lane == 0) warp_row[warp] = row_max, warp_col[warp] = col_max;
    __syncthreads();
    row_max = lane < warps ? warp_row[lane] : 0.f;
    col_max = lane < warps ? warp_col[lane] : 0.f;
#pragma unroll
    for (int off = 16; off > 0; off /= 2) {
        row_max = fmaxf(row_max, __shfl_xor_sync(0xffffffffu, row_max, off));
        col_max = fmaxf(col_max, __shfl_xor_sync(0xffffffffu, col_max, off));
    }
    const float inv_norm = 1.f / (row_max * col_max);
    for (int64_t e = threadIdx.x; e < m * m; e += blockDim.x) {
        const int64_t i = e / m, j = e % m;
        Z[e] = M[j * m + i] * inv_norm;
    }
}

// x, u, t: [batch,m,m]; u = 15I − 7x, t = 13I. `total` = batch·m·m.
__global__ void pinv_terms(const float *x, float *u, float *t, int64_t m, int64_t total)
{
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int64_t e = idx % (m * m);
        const bool diag = e / m == e % m;
        u[idx] = (diag ? 15.f : 0.f) - 7.f * x[idx];
        t[idx] = diag ? 13.f : 0.f;
    }
}

extern "C" int64_t nystrom_pinv_scratch_floats(int64_t m, int batch)
{
    return 4 * (int64_t)batch * m * m;
}

// mm, z: [batch,m,m]  scratch: X, U, T, Z' each [batch,m,m]
extern "C" cudaError_t nystrom_pinv(cublasHandle_t handle, const float *mm, float *z,
                                    float *scratch, int64_t m, int batch, cudaStream_t stream)
{
    if (m < 1 || batch < 1) return cudaErrorInvalidValue;
    if (m <= SMEM_M) {
        CUDA_CHECK(allow_shared_memory(pinv_smem, SMEM_BYTES));
        pinv_smem<<<batch, 256, SMEM_BYTES, stream>>>(mm, z, (int)m);
        CUDA_CHECK_LAUNCH();
        return cudaSuccess;
    }
    const int64_t mm_elems = m * m, total = mm_elems * batch;
    float *x = scratch, *u = x + total, *t = u + total, *z_next = t + total;

    pinv_initial<<<batch, 256, 0, stream>>>(mm, z, m);
    CUDA_CHECK_LAUNCH();
    const int64_t blocks = (total + 255) / 256 < 4096 ? (total + 255) / 256 : 4096;
    float *cur = z;
    for (int it = 0; it < ATTN_NYSTROM_PINV_ITERATIONS; it++) {
        // X = M Z
        CUDA_CHECK(gemm_rowmajor_batched(handle, 0, m, m, m, 1.f, mm, m, mm_elems, cur, m, mm_elems,
                                         ATTN_FP32, 0.f, x, m, mm_elems, ATTN_FP32, batch));
        pinv_terms<<<(unsigned)blocks, 256, 0, stream>>>(x, u, t, m, total);
        CUDA_CHECK_LAUNCH();
        // U = 15I − 7X + X X
        CUDA_CHECK(gemm_rowmajor_batched(handle, 0, m, m, m, 1.f, x, m, mm_elems, x, m, mm_elems,
                                         ATTN_FP32, 1.f, u, m, mm_elems, ATTN_FP32, batch));
        // T = 13I − X U
        CUDA_CHECK(gemm_rowmajor_batched(handle, 0, m, m, m, -1.f, x, m, mm_elems, u, m, mm_elems,
                                         ATTN_FP32, 1.f, t, m, mm_elems, ATTN_FP32, batch));
        // Z' = ¼ Z T
        float *next = cur == z ? z_next : z;
        CUDA_CHECK(gemm_rowmajor_batched(handle, 0, m, m, m, 0.25f, cur, m, mm_elems, t, m,
                                         mm_elems, ATTN_FP32, 0.f, next, m, mm_elems, ATTN_FP32,
                                         batch));
        cur = next;
    }
    if (cur != z)
        CUDA_CHECK(cudaMemcpyAsync(z, cur, (size_t)total * sizeof(float), cudaMemcpyDeviceToDevice,
                                   stream));
    return cudaSuccess;
}
