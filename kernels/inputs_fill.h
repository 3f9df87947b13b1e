/* inputs_fill.h — the generated inputs of kernels/inputs.h, drawn on the GPU. */
#ifndef KERNELS_INPUTS_FILL_H
#define KERNELS_INPUTS_FILL_H

#include <stdint.h>
#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* dst[i] = attn_inputs_value(kind, seed, which, N, d, i) stored as `dtype`
 * (enum attn_dtype) for i < elems: tensor `which` (0 = Q, 1 = K, 2 = V) of
 * a [B,H,N,d] problem, elems = B*H*N*d; `kind` is an enum attn_inputs. */
cudaError_t attn_inputs_fill_device(void *dst, int dtype, int kind, uint64_t seed, int which,
                                    int64_t elems, int64_t N, int d, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
