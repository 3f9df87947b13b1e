/* gather.h — MiTA's step 6 (docs/methods.md, "MiTA", "Step by step"; its
 * floor in docs/work-models.md, "The gather step") as a family of kernels to
 * compare: each expert's key and value rows copied out of K and V,
 *
 *     K, V: [heads, N, d]   idx: [heads, m, k] int32   →   KE, VE: [heads, m, k, d]
 *     KE[h, j, t] = K[h, idx[h, j, t]],  VE likewise,
 *
 * in the storage dtype (enum attn_dtype; a gather moves bytes, it never
 * converts). The versions and what each should cost are indexed at the top
 * of gather.cu; the `gather` method (attn/cuda/gather.c) runs them, one
 * variant each, the `gather` suite times them, and MiTA runs one as its
 * step "gather" when params.gather names it (attn/cuda/mita.c).
 *
 * Adding a version: its kernel and launcher in gather.cu, its struct
 * attn_gather_version there, and its name in gather_builtin_versions and
 * GATHER_BUILTIN_NAMES; nothing else changes. A version kept out of the
 * tree is a plugin's (attn.h, struct attn_plugin's `gathers`).
 *
 * Supported: d ∈ {64, 128}, 1 <= heads <= 65535, 1 <= N <= 2^31 - 1,
 * 1 <= m·k <= 2^31 - 1, every index in [0, N) (not checked on the device).
 * Pointers from cudaMalloc (16-byte alignment is what the kernels need).
 * Every launch only enqueues on `stream` and returns the first CUDA error
 * (cudaErrorInvalidValue for an unsupported shape).
 */
#ifndef KERNELS_GATHER_H
#define KERNELS_GATHER_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "attn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The built-in versions (struct attn_gather_version, attn.h), in the order
 * of the index at the top of gather.cu; NULL-terminated. The list of
 * versions (attn/gathers.h) starts with them. Their launch() supports the
 * shapes above and returns cudaErrorInvalidValue, launching nothing, for
 * any other; they need no scratch. */
extern const struct attn_gather_version *const gather_builtin_versions[];

/* Their names, in the same order: a macro, so that attn/gathers.c can make
 * the `gather` method's static list of variants from it. */
#define GATHER_BUILTIN_NAMES "naive", "warp_row", "vec16", "sorted"

/* NOT a gather and not in the list: the same bytes copied contiguously
 * (output row r from input row r mod N, idx ignored), this shape's ceiling,
 * the `gather` method's `copy` variant (kernels/copy.cu). */
extern const struct attn_gather_version gather_copy;

/* The experts the `gather` method gathers: idx[h, j, t] = gather_expert_key(
 * seed, h, j, t, N, m, k) for every head, expert and slot. Needs
 * 1 <= k <= N, 1 <= m <= N, m·k <= 2^31 - 1. */
cudaError_t gather_make_indices(int32_t *idx, int heads, int64_t N, int64_t m, int64_t k,
                                uint64_t seed, cudaStream_t stream);

#if defined(__CUDACC__)
#define GATHER_HOST_DEVICE __host__ __device__
#else
#define GATHER_HOST_DEVICE
#endif

/* Expert j's slot t (0 <= t < k) of head h: k distinct keys in [0, N),
 * clustered the way MiTA's top-k picks are near a landmark. The keys lie in
 * a window of W = min(N, max(k, 2·ceil(N/m))) rows centred on the landmark's
 * own window [j·N/m, (j+1)·N/m), clamped into [0, N): twice the landmark's
 * span, wide enough for k keys. Inside it slot t takes row
 * (a·t + b) mod W, with a coprime to W (so the k rows are distinct) and a,
 * b drawn from a hash of (seed, h, j): a scattered order, as top-k's
 * best-first order is. Neighbouring experts' windows overlap, so where
 * m·k > N rows repeat across experts, as MiTA's do. */
GATHER_HOST_DEVICE static inline int32_t gather_expert_key(uint64_t seed, int64_t h, int64_t j,
                                                           int64_t t, int64_t N, int64_t m,
                                                           int64_t k)
{
    const int64_t span = (N + m - 1) / m;
    int64_t width = 2 * span;
    if (width < k) width = k;
    if (width > N) width = N;
    int64_t base = j * N / m + span / 2 - width / 2;
    if (base > N - width) base = N - width;
    if (base < 0) base = 0;
    /* splitmix64 of (seed, h, j), as attn_random_value. */
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + (uint64_t)h * 0xD1B54A32D192ED03ull +
                 (uint64_t)j * 0x94D049BB133111EBull + 0x6A09E667F3BCC909ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    int64_t a = width > 1 ? 1 + (int64_t)((z & 0xFFFFFFFFull) % (uint64_t)(width - 1)) : 1;
    for (;;) { /* the next a coprime to width; a = width - 1 always is */
        int64_t x = a, y = width;
        while (y) {
            int64_t r = x % y;
            x = y;
            y = r;
        }
        if (x == 1) break;
        a++;
    }
    const int64_t b = (int64_t)((z >> 32) % (uint64_t)width);
    return (int32_t)(base + (a * t + b) % width);
}

#ifdef __cplusplus
}
#endif
#endif
