// gemm.cu — row-major batched GEMMs on cuBLAS (kernels/gemm.h).
//
// One version: cublasGemmStridedBatchedEx_64 (64-bit sizes, strides and ld: N reaches 2^20 and
// strides N·N), row-major through the usual swap — a row-major C = A·op(B) is the column-major
// Cᵀ = op(B)ᵀ·Aᵀ, and a row-major matrix is its own transpose read column-major. bf16/fp16
// inputs run on the tensor cores with CUBLAS_COMPUTE_32F (fp32 accumulation); fp32 inputs with
// CUBLAS_COMPUTE_32F_PEDANTIC, which rules out TF32 even when NVIDIA_TF32_OVERRIDE asks for it.
// Cost: whatever cuBLAS's heuristic picks; the callers' notes (kernels/NOTES.md) time it.

#include "gemm.h"

#include "attn.h"

static cudaDataType_t gemm_data_type(int dtype)
{
    switch (dtype) {
    case ATTN_FP16:
        return CUDA_R_16F;
    case ATTN_BF16:
        return CUDA_R_16BF;
    default:
        return CUDA_R_32F;
    }
}

static int gemm_dtype_known(int dtype)
{
    return dtype == ATTN_FP32 || dtype == ATTN_FP16 || dtype == ATTN_BF16;
}

extern "C" cudaError_t gemm_status_to_cuda(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_SUCCESS:
        return cudaSuccess;
    case CUBLAS_STATUS_ALLOC_FAILED:
        return cudaErrorMemoryAllocation;
    case CUBLAS_STATUS_NOT_SUPPORTED:
        return cudaErrorNotSupported;
    case CUBLAS_STATUS_INVALID_VALUE:
        return cudaErrorInvalidValue;
    default:
        return cudaErrorUnknown;
    }
}

// A: [batch, M, lda]  B: [batch, K, ldb] (trans_b = 0) or [batch, N, ldb] (trans_b = 1)
// C: [batch, M, ldc]
extern "C" cudaError_t gemm_rowmajor_batched(cublasHandle_t handle, int trans_b, int64_t M,
                                             int64_t N, int64_t K, float alpha, const void *A,
                                             int64_t lda, int64_t stride_a, const void *B,
                                             int64_t ldb, int64_t stride_b, int ab_dtype,
                                             float beta, void *C, int64_t ldc, int64_t stride_c,
                                             int c_dtype, int batch)
{
    if (!gemm_dtype_known(ab_dtype) || !gemm_dtype_known(c_dtype)) return cudaErrorInvalidValue;
    // cuBLAS pairs fp32 outputs with any input type, 16-bit outputs only with their own type.
    if (c_dtype != ATTN_FP32 && c_dtype != ab_dtype) return cudaErrorInvalidValue;
    if (M == 0 || N == 0 || batch == 0) return cudaSuccess;
    const cublasComputeType_t compute =
        ab_dtype == ATTN_FP32 ? CUBLAS_COMPUTE_32F_PEDANTIC : CUBLAS_COMPUTE_32F;
    const cudaDataType_t ab = gemm_data_type(ab_dtype), c = gemm_data_type(c_dtype);
    // Column-major view: Cᵀ [N×M] = op(B)ᵀ [N×K] · Aᵀ [K×M].
    cublasStatus_t s = cublasGemmStridedBatchedEx_64(
        handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &alpha, B, ab, ldb,
        stride_b, A, ab, lda, stride_a, &beta, C, c, ldc, stride_c, batch, compute,
        CUBLAS_GEMM_DEFAULT);
    return gemm_status_to_cuda(s);
}
