/* nystrom_pinv.h — the Moore–Penrose pseudo-inverse of `nystrom`
 * (docs/methods.md, "nystrom"): 6 Newton–Schulz iterations
 * Z ← ¼ Z (13I − MZ (15I − MZ (7I − MZ))) from Z₀ = Mᵀ / (max_i Σ_j |M_ij| ·
 * max_j Σ_i |M_ij|), batched, in fp32 (the
 * products through cuBLAS, in true fp32). The kernels and the index of their
 * versions are in nystrom_pinv.cu.
 */
#ifndef KERNELS_NYSTROM_PINV_H
#define KERNELS_NYSTROM_PINV_H

#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "attn.h" /* ATTN_NYSTROM_PINV_ITERATIONS */

#ifdef __cplusplus
extern "C" {
#endif

/* Floats of scratch nystrom_pinv needs: four [batch, m, m] matrices. */
int64_t nystrom_pinv_scratch_floats(int64_t m, int batch);

/* mm: [batch, m, m] fp32  z: [batch, m, m] fp32, the result
 * scratch: nystrom_pinv_scratch_floats(m, batch) floats.
 * `handle` must already be bound to `stream` (cublasSetStream). */
cudaError_t nystrom_pinv(cublasHandle_t handle, const float *mm, float *z, float *scratch,
                         int64_t m, int batch, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
