// inputs_fill.cu — the generated inputs (kernels/inputs.h) drawn on the GPU,
// bit for bit those the CPU draws (harness/core/inputs.c), so that both
// backends see the same tensors without a host-to-device copy of gigabytes
// at N = 2^20. One version: a grid-stride loop, one element per thread per
// step. iid is bound by the stores (~3 TB/s on an H100); the others do a
// few dozen double operations an element (image: three waves of a degree-16
// polynomial), still well under a second at N = 2^20, once per point.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "attn.h"
#include "cuda_check.h"
#include "inputs.h"
#include "inputs_fill.h"

// dst: [B,H,N,d] of T, n = B*H*N*d elements
template <typename T>
__global__ void inputs_fill_kernel(T *dst, enum attn_inputs kind, uint64_t seed, int which,
                                   int64_t N, int d, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        float x = attn_inputs_value(kind, seed, which, N, d, i);
        if constexpr (sizeof(T) == 4) dst[i] = x;
        else dst[i] = T(x); // round to nearest even, as attn_float_to_{bf16,fp16}
    }
}

template <typename T>
static cudaError_t launch(void *dst, enum attn_inputs kind, uint64_t seed, int which, int64_t N,
                          int d, int64_t n, cudaStream_t stream)
{
    if (n <= 0) return cudaSuccess;
    int64_t blocks = (n + 255) / 256;
    if (blocks > 65536) blocks = 65536;
    inputs_fill_kernel<T><<<(unsigned)blocks, 256, 0, stream>>>((T *)dst, kind, seed, which, N, d,
                                                                 n);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

extern "C" cudaError_t attn_inputs_fill_device(void *dst, int dtype, int kind, uint64_t seed,
                                               int which, int64_t elems, int64_t N, int d,
                                               cudaStream_t stream)
{
    if (kind < 0 || kind >= ATTN_INPUTS_COUNT || N <= 0 || d <= 0) return cudaErrorInvalidValue;
    const enum attn_inputs k = (enum attn_inputs)kind;
    switch (dtype) {
    case ATTN_FP32: return launch<float>(dst, k, seed, which, N, d, elems, stream);
    case ATTN_FP16: return launch<__half>(dst, k, seed, which, N, d, elems, stream);
    case ATTN_BF16: return launch<__nv_bfloat16>(dst, k, seed, which, N, d, elems, stream);
    default: return cudaErrorInvalidValue;
    }
}
