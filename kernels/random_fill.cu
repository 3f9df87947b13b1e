// random_fill.cu — the seeded inputs, drawn on the GPU with the same
// counter-based hash as the CPU (attn_random_value in attn/attn.h), so that
// both backends see bit-identical tensors without a host-to-device copy of
// gigabytes at N = 2^20. One version: a grid-stride loop, one element per
// thread per step; it is bound by the stores (~3 TB/s on an H100).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "attn.h"
#include "cuda_check.h"
#include "random_fill.h"

// dst: [n] of T
template <typename T>
__global__ void random_fill_kernel(T *dst, uint64_t seed, int which, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        float x = attn_random_value(seed, which, i);
        if constexpr (sizeof(T) == 4) dst[i] = x;
        else dst[i] = T(x); // round to nearest even, as attn_float_to_{bf16,fp16}
    }
}

template <typename T>
static cudaError_t launch(void *dst, uint64_t seed, int which, int64_t n, cudaStream_t stream)
{
    if (n <= 0) return cudaSuccess;
    int64_t blocks = (n + 255) / 256;
    if (blocks > 65536) blocks = 65536;
    random_fill_kernel<T><<<(unsigned)blocks, 256, 0, stream>>>((T *)dst, seed, which, n);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

extern "C" cudaError_t attn_random_fill_device(void *dst, int dtype, uint64_t seed, int which,
                                               int64_t n, cudaStream_t stream)
{
    switch (dtype) {
    case ATTN_FP32: return launch<float>(dst, seed, which, n, stream);
    case ATTN_FP16: return launch<__half>(dst, seed, which, n, stream);
    case ATTN_BF16: return launch<__nv_bfloat16>(dst, seed, which, n, stream);
    default: return cudaErrorInvalidValue;
    }
}
