/* gathered_attention.h — attention of each query over a short list of gathered entries,
 * the rows read in place from K and V, or (MiTA) from the experts' rows a gather kernel
 * copied out beforehand: MiTA's steps 6-7
 * (docs/methods.md, "MiTA", "Step by step"; mita_attend) and topk's attention over each
 * query's own keys (gathered_attend_own_keys). The kernels and the index of their versions
 * are in gathered_attention.cu; the selections that make the lists are in topk_select.h and
 * mita_route.h.
 *
 * q, k, v, o: [heads, N, d] in `dtype` (enum attn_dtype). Logits, softmax and sums in
 * fp32; o stored in `dtype`. Supported: d ∈ {64, 128}, N < 2^31. Every function only
 * enqueues work on `stream` and returns the first CUDA error met (cudaErrorInvalidValue
 * for unsupported arguments).
 */
#ifndef KERNELS_GATHERED_ATTENTION_H
#define KERNELS_GATHERED_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- MiTA (the `mita` method) -------------------------------------------------------
 * For query i of head bh, the logits are
 *     [ q_i·q̃_j · shared_scale  for j < m ]                    (when landmarks != NULL)
 *  ++ [ q_i·k_t · scale  for t in experts[e], e in routes_i ]  (s_r experts, in order)
 * and o_i = softmax(logits) · [ shared_values ; V rows ], duplicates kept. With
 * routes == NULL query i uses expert i (s_r = 1, n_experts = N).
 *
 * landmarks, shared_values: [heads, m, d] fp32  experts: [heads, n_experts, kk] int32 key
 * indices  routes: [heads, N, s_r] int32 expert indices.
 *
 * With experts == NULL the experts' rows are already gathered (MiTA's step "gather" with
 * a gather version, params.gather): k and v are K_E and V_E, [heads, n_experts, kk, d] in
 * `dtype`, expert e's keys the rows e·kk .. e·kk + kk − 1, and the output equals, bit for
 * bit, that of the same call with K, V and the indices K_E and V_E were gathered by. heads <= 65535 on the sorted path:
 * with routes (s_r = 1, or any s_r in bf16/fp16) the (query, route) pairs are sorted by
 * expert first, so that a block serves 64 or 128 of them against one expert's staged rows.
 *
 * Scratch for mita_attend with routes on its sorted path: the counting sort of the
 * (query, route) pairs by expert, Q̃ and V̂ in `dtype`, and for s_r > 1 each route's
 * partial output — except where s_r = 2 runs as one attention over both experts (bf16/fp16
 * on sm_90a, N >= 64 n_experts², kk and m small enough: the sort by expert pair, whose
 * counters, tile map and keys it holds instead); 0 otherwise. `shared`: whether landmarks
 * (a shared block) will be passed; kk as mita_attend's. */
size_t mita_attend_scratch_bytes(int heads, int64_t N, int64_t m, int64_t n_experts, int64_t kk,
                                 int shared, int d, int dtype, int s_r);

/* `scratch`: at least mita_attend_scratch_bytes(heads, N, m, n_experts, kk, shared, d, dtype,
 * s_r) for the same call, 256-byte aligned; may be NULL when that is 0. */
cudaError_t mita_attend(const void *q, const void *k, const void *v, int dtype, int heads,
                        int64_t N, int d, const float *landmarks, const float *shared_values,
                        int64_t m, float shared_scale, const int32_t *experts,
                        int64_t n_experts, int64_t kk, const int32_t *routes, int s_r,
                        float scale, void *scratch, void *o, cudaStream_t stream);

/* mita_attend in two parts, for a caller that runs the first beside other work:
 * MITA_ATTEND_SORT, the sort of the (query, route) pairs by expert, which reads only `routes`
 * (into `scratch`; nothing where mita_attend sorts nothing), then MITA_ATTEND_REST, the rest
 * (the shared block rounded to `dtype`, the attention), after it on the same scratch. The
 * two calls take mita_attend's arguments, the same for both, and give its output bit for
 * bit; MITA_ATTEND_ALL is mita_attend. MITA_ATTEND_REST_ROUNDED is the rest where the caller
 * has already put Q̃ and V̂ rounded to `dtype` (round to nearest) where
 * mita_attend_shared_block says. */
enum mita_attend_part {
    MITA_ATTEND_ALL,
    MITA_ATTEND_SORT,
    MITA_ATTEND_REST,
    MITA_ATTEND_REST_ROUNDED
};

/* Where in `scratch` mita_attend reads the shared block (Q̃, V̂) rounded to `dtype`, each
 * [heads, m, d], for a call with these arguments (mita_attend_scratch_bytes's); both NULL
 * where it reads none (fp32, or no shared block). */
void mita_attend_shared_block(void *scratch, int heads, int64_t N, int64_t m,
                              int64_t n_experts, int64_t kk, int shared, int d, int dtype,
                              int s_r, void **keys, void **vals);
cudaError_t mita_attend_part(int part, const void *q, const void *k, const void *v, int dtype,
                             int heads, int64_t N, int d, const float *landmarks,
                             const float *shared_values, int64_t m, float shared_scale,
                             const int32_t *experts, int64_t n_experts, int64_t kk,
                             const int32_t *routes, int s_r, float scale, void *scratch, void *o,
                             cudaStream_t stream);

/* ---- topk (the `topk` method) --------------------------------------------------------
 * o_i = softmax(q_i·k_t · scale for t in keys_i) · [ v_t for t in keys_i ], keys: [heads, N,
 * kk] int32, each query's own list of kk keys (duplicates kept). No scratch. */
cudaError_t gathered_attend_own_keys(const void *q, const void *k, const void *v, int dtype,
                                     int heads, int64_t N, int d, const int32_t *keys,
                                     int64_t kk, float scale, void *o, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
