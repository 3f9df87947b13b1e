/* topk_select.h — exact per-row top-k over a stream of keys: for every row r
 * of `rows` and every key t of `keys` (per head), the score r·t in fp32 from
 * the stored inputs, and the k keys of largest score, ties to the lower
 * index, best first. The kernels and the index of their versions are in
 * topk_select.cu.
 *
 * Used by topk (rows = Q, keys = K) and by mita: its experts (rows = the
 * landmark queries Q̃, keys = K, with the shared values softmax(P s) V taken
 * over the same scores) and, where mita_route.h's tensor-core pass does not
 * serve (fp32, s_r > 4), its routing (rows = Q, keys = Q̃, k = s_r).
 *
 * Tensors are [heads, n, d], contiguous row-major, in device memory, each in
 * its own dtype (enum attn_dtype: 0 fp32, 1 fp16, 2 bf16). Supported: d ∈
 * {64, 128}; 1 <= k <= min(n_keys, topk_select_max_k(...)); n_keys < 2^31.
 *
 * The selection needs scratch memory (candidate buffers of the resident
 * blocks, per-chunk results where the keys are split, the rows' floors and
 * the scores behind them: topk_select.cu, "sampled floors"): ask
 * topk_select_*_scratch_bytes() with the same sizes and pass at least that
 * many bytes (256-byte aligned). The sizes depend on the current device
 * (its multiprocessor count), not on the data.
 *
 * Every function only enqueues work on `stream` and returns the first CUDA
 * error met (cudaErrorInvalidValue for an unsupported shape or dtype).
 */
#ifndef KERNELS_TOPK_SELECT_H
#define KERNELS_TOPK_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest k one selection can hold in `optin` bytes of shared memory per
 * block (its candidate buffers are sorted there), 0 when the combination of
 * dtypes or d is not supported. `with_values`: topk_select_softmax_values.
 * A pure function, so that methods can call it from validate() without
 * touching the device (sweep runners validate before they fork workers). */
int64_t topk_select_max_k(int d, int row_dtype, int key_dtype, int with_values, size_t optin);

/* The opt-in shared memory per block of sm_90 (H100, H200): 227 KB. A GPU
 * with less fails at launch with cudaErrorInvalidValue, reported as an error row. */
#define TOPK_SELECT_SMEM_OPTIN_SM90 ((size_t)227 * 1024)

/* rows: [heads, n_rows, d]  keys: [heads, n_keys, d]  out: [heads, n_rows, k]
 * int32 key indices, best first. */
size_t topk_select_scratch_bytes(int heads, int64_t n_rows, int64_t n_keys, int d, int row_dtype,
                                 int key_dtype, int64_t k);
cudaError_t topk_select(const void *rows, int row_dtype, const void *keys, int key_dtype,
                        int heads, int64_t n_rows, int64_t n_keys, int d, int64_t k,
                        void *scratch, int32_t *out, cudaStream_t stream);

/* The same selection with fp32 rows, and over the same scores
 * values_out[r] = softmax(scores_r · scale) · values (fp32), so that the keys
 * are read once for both (mita's steps 2-4). Keys are split into chunks
 * across blocks (a row's n_keys may be 2^20), each chunk's candidates merged
 * afterwards.
 * rows: [heads, n_rows, d] fp32  keys, values: [heads, n_keys, d] in
 * `key_dtype`  out: [heads, n_rows, k]  values_out: [heads, n_rows, d] fp32
 * rows_rounded, values_rounded: both NULL, or, where the selection is one launch (as it is
 * wherever topk_select_leaves_sms_free says 1; else cudaErrorInvalidValue), [heads, n_rows, d] in
 * `key_dtype` that receive rows and values_out rounded to it (mita's shared block for its
 * attention, without a pass of its own). */
size_t topk_select_softmax_values_scratch_bytes(int heads, int64_t n_rows, int64_t n_keys, int d,
                                                int key_dtype, int64_t k);
cudaError_t topk_select_softmax_values(const float *rows, const void *keys, const void *values,
                                       int key_dtype, int heads, int64_t n_rows, int64_t n_keys,
                                       int d, int64_t k, float scale, void *scratch,
                                       int32_t *out, float *values_out, void *rows_rounded,
                                       void *values_rounded, cudaStream_t stream);

/* Whether the selection with these arguments (with_values: topk_select_softmax_values's)
 * is one launch whose blocks leave SMs of the current device without a block: work on
 * another stream then runs beside it on those SMs (mita forks its routing there). 0 when
 * it cannot tell. */
int topk_select_leaves_sms_free(int row_dtype, int key_dtype, int with_values, int heads,
                                int64_t n_rows, int64_t n_keys, int d, int64_t k);

#ifdef __cplusplus
}
#endif
#endif
