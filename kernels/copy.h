/* copy.h — a vectorized device-to-device copy of rows, two tensors per
 * launch: the gather family's reference point (the `copy` version in
 * kernels/gather.cu), the same bytes as a gather moved in the best order.
 * The kernel is in copy.cu. */
#ifndef KERNELS_COPY_H
#define KERNELS_COPY_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* a, b: [heads, n_src, row_bytes]  a_out, b_out: [heads, n_dst, row_bytes];
 * row r of each head's output is row r mod n_src of its input, so for
 * n_dst <= n_src a plain contiguous copy of the first n_dst rows.
 * Supported: row_bytes ∈ {128, 256, 512}, 1 <= heads <= 65535, n_src >= 1,
 * 16-byte aligned pointers. Only enqueues on `stream`; returns the launch's
 * error (cudaErrorInvalidValue for an unsupported shape). */
cudaError_t copy_rows_pair(const void *a, const void *b, int heads, int64_t n_src, int64_t n_dst,
                           size_t row_bytes, void *a_out, void *b_out, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
