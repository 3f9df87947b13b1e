/* gemm.h — row-major batched matrix products on cuBLAS, for the methods
 * whose steps are plain GEMMs (full:naive, agent, nystrom, and mita's first
 * version). Inputs in a storage dtype, fp32 accumulation; fp32 inputs are
 * multiplied in true fp32 (no TF32: docs/methods.md, "Numeric types and
 * arithmetic").
 *
 * For b in [0, batch):  C_b = alpha · A_b · op(B_b) + beta · C_b, with
 *   A_b [M×K] (row stride lda), op(B_b) = B_b [K×N] (trans_b = 0, row stride
 *   ldb) or B_b [N×K]ᵀ (trans_b = 1), C_b [M×N] (row stride ldc); batch
 *   strides in elements. A and B share `ab_dtype`; C is `c_dtype` (fp32, or
 *   the same as the inputs). dtypes are enum attn_dtype values.
 */
#ifndef KERNELS_GEMM_H
#define KERNELS_GEMM_H

#include <stdint.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Maps a cuBLAS failure to a CUDA error the harness can name
 * (cudaErrorMemoryAllocation, cudaErrorNotSupported, cudaErrorInvalidValue,
 * else cudaErrorUnknown). */
cudaError_t gemm_status_to_cuda(cublasStatus_t s);

cudaError_t gemm_rowmajor_batched(cublasHandle_t handle, int trans_b, int64_t M, int64_t N,
                                  int64_t K, float alpha, const void *A, int64_t lda,
                                  int64_t stride_a, const void *B, int64_t ldb, int64_t stride_b,
                                  int ab_dtype, float beta, void *C, int64_t ldc,
                                  int64_t stride_c, int c_dtype, int batch);

#ifdef __cplusplus
}
#endif
#endif
