/* landmarks.h — landmarks(X, m) of docs/methods.md ("Landmarks"): m window
 * means of the rows of X per batch and head, window j covering rows
 * [floor(j*N/m), floor((j+1)*N/m)). Used by agent, nystrom and mita. */
#ifndef KERNELS_LANDMARKS_H
#define KERNELS_LANDMARKS_H

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* x: [B,H,N,d] in `dtype` (enum attn_dtype)  out: [B,H,m,d] fp32.
 * fp32 output: mita selects experts with scores computed in fp32 from the
 * landmarks, and rounding them to bf16 first would change the selection. */
cudaError_t landmarks_forward(const void *x, int dtype, float *out, int B, int H, int64_t N,
                              int d, int64_t m, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
