/* full.c — exact softmax attention, O = softmax(Q Kᵀ s) V, on the GPU.
 *
 *   flash       the fused kernel of kernels/flash_attn.cu: online softmax,
 *               tensor cores for bf16/fp16, O(N) memory, no workspace; the
 *               fastest version that runs d, dtype and the device: on
 *               sm_90a flash_wgmma_ov at d = 64, flash_wgmma_fa3 at 128
 *               and 256; else flash_w4 (bf16/fp16) or flash_simt (fp32).
 *   naive       S = s Q Kᵀ (cuBLAS, fp32 out), P = softmax(S) by rows, O = P V
 *               (cuBLAS): the B·H·N² fp32 scores (and P in the dtype, unless
 *               fp32, where P overwrites S) live in the workspace, so a large
 *               N asks for more than the device has and the harness reports
 *               `oom`.
 *   flash_simt  one version of flash_attn.cu each, by its name (flash_attn.h):
 *   flash_w8    fp32 on the CUDA cores; bf16/fp16 in FlashAttention-2's
 *   flash_w4    8-warp schedule; bf16/fp16 in 4 warps of 32 rows;
 *   flash_wgmma bf16/fp16 by wgmma and TMA on sm_90a (H100, H200), two
 *               consumer warpgroups taking turns (flash_wgmma_nopp: without
 *               the turns; flash_wgmma_ov: without them, each consumer's
 *               softmax under its own P·V; flash_wgmma_emu: nopp with half
 *               the exponentials on the FMA pipe; flash_wgmma_bn80: nopp's
 *               d = 256 with 80-key tiles, d = 256 only; flash_wgmma_bn176:
 *               nopp's d = 128 with 176-key tiles, d = 128 only;
 *               flash_wgmma_fa3: FlashAttention-3's consumer, the turns and
 *               each softmax under its own P·V with one P; flash_wgmma_ov1:
 *               the same without the turns); also d = 256
 *               (but _ov and _bn176), which no other CUDA kernel runs.
 *               Invalid where the version does not run the dtype, or (the
 *               wgmma ones) where the device or the build lacks sm_90a.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attn/cuda/cuda_method.h"
#include "attn/cuda/cuda_methods.h"
#include "kernels/cuda_check.h"
#include "kernels/flash_attn.h"
#include "kernels/softmax.h"
#include "attn/methods.h"

/* ATTN_FULL_VARIANTS, which every backend has (flash: the default version),
 * then each version of flash_attn.h by its name. */
static const char *const full_variants[] = {ATTN_FULL_VARIANTS, "flash_simt",  "flash_w8",
                                            "flash_w4",         "flash_wgmma", "flash_wgmma_nopp",
                                            "flash_wgmma_ov",   "flash_wgmma_emu", "flash_wgmma_bn80",
                                            "flash_wgmma_bn176", "flash_wgmma_fa3", "flash_wgmma_ov1", NULL};

struct full_state {
    struct attn_problem p;
    int naive;
    const char *version;   /* the flash_attn version by name (full_flash_version); naive: NULL */
    cublasHandle_t handle; /* naive only */
    float *scores;         /* [B,H,N,N] fp32 */
    void *probs;           /* [B,H,N,N] dtype; == scores for fp32 */
    void *cublas_workspace;
};

static int full_is_naive(const struct attn_params *a)
{
    const char *variant = attn_variant_of(&attn_cuda_full, a);
    return variant && strcmp(variant, "naive") == 0;
}

/* The flash_attn version a point runs: the one its variant names, for flash the
 * fastest that runs d, dtype and this device (flash_attn_default_version), NULL for
 * naive (and for flash where none does). */
static const char *full_flash_version(const struct attn_problem *p, const struct attn_params *a)
{
    const char *variant = attn_variant_of(&attn_cuda_full, a);
    if (variant && strcmp(variant, "naive") == 0) return NULL;
    if (!variant || strcmp(variant, "flash") == 0)
        return flash_attn_default_version(p->d, (int)p->dtype, cuda_device_cc());
    return variant;
}

/* The workspace layout, on a NULL base to measure it; flash needs none. */
static size_t full_carve(const struct attn_problem *p, int naive, void *base, struct full_state *st)
{
    struct workspace_carver c = {base, 0};
    if (!naive) return 0;
    size_t elems =
        cuda_size_mul(cuda_size_mul((size_t)p->B * (size_t)p->H, (size_t)p->N), (size_t)p->N);
    st->scores = workspace_take_floats(&c, elems);
    st->probs = workspace_take_dtype(&c, elems, p->dtype, st->scores);
    st->cublas_workspace = workspace_take(&c, CUDA_CUBLAS_WORKSPACE_BYTES);
    return c.used;
}

static const char *full_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    const char *version = full_flash_version(p, a);
    /* d = 256 is beyond the CUDA backend's d ∈ {64, 128} only for a version that runs it
     * (flash_wgmma); the rest of the backend's rules hold for it all the same. */
    const int wide =
        p->d == 256 && version && flash_attn_version_supports(version, 256, (int)p->dtype);
    const char *bad = wide ? attn_validate_common(&attn_cuda_full, p, a, why, why_len)
                           : cuda_validate(&attn_cuda_full, p, a, why, why_len);
    if (bad) return bad;
    if (!version && !full_is_naive(a)) {
        snprintf(why, why_len, "d=%d dtype=%s: no flash kernel runs this combination on this GPU",
                 p->d, attn_dtype_name(p->dtype));
        return why;
    }
    if (version && !flash_attn_version_supports(version, p->d, (int)p->dtype)) {
        char runs[32] = "";
        for (int t = ATTN_FP32; t <= ATTN_BF16; t++)
            if (flash_attn_version_supports(version, p->d, t))
                snprintf(runs + strlen(runs), sizeof runs - strlen(runs), "%s%s",
                         runs[0] ? " or " : "", attn_dtype_name((enum attn_dtype)t));
        snprintf(why, why_len, "dtype=%s: %s does not run it at d=%d (need dtype %s)",
                 attn_dtype_name(p->dtype), version, p->d, runs[0] ? runs : "none");
        return why;
    }
    if (version) {
        char reason[160];
        if (!flash_attn_version_runs_on(version, cuda_device_cc(), reason, sizeof reason)) {
            snprintf(why, why_len, "%s: %s", version, reason);
            return why;
        }
    }
    return NULL;
}

static size_t full_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct full_state measure;
    return full_carve(p, full_is_naive(a), NULL, &measure);
}

static int full_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                      void *workspace, char *why, size_t why_len)
{
    struct full_state *st = state;
    st->p = *p;
    st->naive = full_is_naive(a);
    st->version = full_flash_version(p, a);
    full_carve(p, st->naive, workspace, st);
    return st->naive ? cuda_cublas_create(&st->handle, why, why_len) : 0;
}

static cudaError_t full_launch(const struct full_state *st, const struct attn_tensors *t,
                               cudaStream_t stream)
{
    const struct attn_problem *p = &st->p;
    const float scale = 1.0f / sqrtf((float)p->d);
    if (st->naive) {
        CUDA_CHECK(cuda_cublas_bind(st->handle, stream, st->cublas_workspace));
        CUDA_CHECK(softmax_attention(st->handle, t->q, p->N, t->k, t->v, p->N, p->d,
                                     (int)p->dtype, scale, t->o, (int)p->dtype, st->scores,
                                     st->probs, p->B * p->H, stream));
    } else {
        CUDA_CHECK(flash_attn_forward_version(st->version, t->q, t->k, t->v, t->o, p->B, p->H,
                                              p->N, p->d, (int)p->dtype, scale, stream));
    }
    return cudaSuccess;
}

static int full_run(void *state, const struct attn_tensors *t, void *stream)
{
    return (int)full_launch(state, t, (cudaStream_t)stream);
}

static void full_teardown(void *state)
{
    struct full_state *st = state;
    cuda_cublas_destroy(st->handle);
    st->handle = NULL;
}

const struct attn_method attn_cuda_full = {
    ATTN_IDENTITY_FULL(full_variants),
    .backend = ATTN_CUDA,
    .state_size = sizeof(struct full_state),
    .validate = full_validate,
    .workspace_bytes = full_workspace_bytes,
    .setup = full_setup,
    .run = full_run,
    .teardown = full_teardown,
};
