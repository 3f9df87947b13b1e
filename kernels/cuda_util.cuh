// cuda_util.cuh — what every kernel file shares: CUDA_CHECK (cuda_check.h), and
// loading/storing the three storage types as fp32 (docs/methods.md, "Numeric
// types and arithmetic": load bf16/fp16, compute in fp32, store in the input
// dtype).
#ifndef KERNELS_CUDA_UTIL_CUH
#define KERNELS_CUDA_UTIL_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "attn.h"
#include "cuda_check.h"

// Whether a tensor's address allows 16-byte vector loads and stores (and TMA): launchers take a
// kernel that needs them only where this holds.
inline bool aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }

// The storage type of each enum attn_dtype value.
template <int DTYPE> struct dtype_traits;
template <> struct dtype_traits<ATTN_FP32> { typedef float type; };
template <> struct dtype_traits<ATTN_FP16> { typedef __half type; };
template <> struct dtype_traits<ATTN_BF16> { typedef __nv_bfloat16 type; };

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_float(float x);
template <> __device__ __forceinline__ float from_float<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x)
{
    return __float2bfloat16_rn(x);
}

// 2^x on the special-function unit (one MUFU.EX2; exp(x) is 2^(x·log2 e), so a softmax folds
// log2 e into its scale). ex2.approx(-inf) = +0, which masking relies on.
constexpr float LOG2E = 1.4426950408889634f;
__device__ __forceinline__ float fast_exp2(float x)
{
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

// 1/x on the special-function unit (one MUFU.RCP, within an ulp or two): for a softmax's
// row sum, >= 1, whose quotients are rounded to 16 bits after. `1.f / x` is IEEE's, a MUFU
// and its refinement behind a branch for denormals and infinities.
__device__ __forceinline__ float fast_rcp(float x)
{
    float y;
    asm("rcp.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

// Calls `f.template operator()<T>()` with T the storage type of `dtype`;
// returns cudaErrorInvalidValue for an unknown dtype. Lets one host
// launcher serve the three dtypes without a switch in every file.
template <typename F> cudaError_t dispatch_dtype(int dtype, F &&f)
{
    switch (dtype) {
    case ATTN_FP32: return f.template operator()<float>();
    case ATTN_FP16: return f.template operator()<__half>();
    case ATTN_BF16: return f.template operator()<__nv_bfloat16>();
    default: return cudaErrorInvalidValue;
    }
}

// A kernel that asks `smem` bytes of dynamic shared memory: allowed that much before its
// launch (past the 48 KB default a launch fails without it).
template <typename K> cudaError_t allow_shared_memory(K kernel, size_t smem)
{
    return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
}

// allow_shared_memory, and the SM's unified memory split toward shared memory: for kernels
// whose blocks a wave holds more of when shared memory is not split with L1.
inline cudaError_t kernel_shared_memory(const void *kernel, size_t smem)
{
    CUDA_CHECK(allow_shared_memory(kernel, smem));
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                                    cudaSharedmemCarveoutMaxShared));
    return cudaSuccess;
}

#endif
