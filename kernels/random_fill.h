/* random_fill.h — the seeded inputs of attn_random_value(), drawn on the GPU. */
#ifndef KERNELS_RANDOM_FILL_H
#define KERNELS_RANDOM_FILL_H

#include <stdint.h>
#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* dst[i] = attn_random_value(seed, which, i) stored as `dtype` (enum
 * attn_dtype) for i < n. */
cudaError_t attn_random_fill_device(void *dst, int dtype, uint64_t seed, int which, int64_t n,
                                    cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
