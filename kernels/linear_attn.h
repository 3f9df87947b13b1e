/* linear_attn.h — linear attention (docs/methods.md, "linear"; Katharopoulos
 * et al. 2020, non-causal): φ(x) = elu(x) + 1, S = Σ_j φ(k_j) v_jᵀ (d×d),
 * z = Σ_j φ(k_j), o_i = φ(q_i)ᵀ S / (φ(q_i)ᵀ z + 1e-6), per batch and head.
 * The kernels and the index of their versions are in linear_attn.cu.
 *
 * Tensors are [B,H,N,d], contiguous, in `dtype` (enum attn_dtype); fp32
 * arithmetic throughout. Supported: d ∈ {64, 128}.
 */
#ifndef KERNELS_LINEAR_ATTN_H
#define KERNELS_LINEAR_ATTN_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Scratch bytes linear_attn_forward needs for this shape on the current
 * device: the per-block partial sums of the split-N reduction (as many
 * blocks as fill the device once) and S, z. 0 for an unsupported d. */
size_t linear_attn_workspace_bytes(int B, int H, int64_t N, int d, int dtype);

/* q, k, v, o: [B,H,N,d]. `workspace` holds linear_attn_workspace_bytes(),
 * 256-byte aligned. Only enqueues work on `stream`. */
cudaError_t linear_attn_forward(const void *q, const void *k, const void *v, void *o, int B, int H,
                                int64_t N, int d, int dtype, void *workspace, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
