/* methods.h — the identity of each built-in method, declared once: its name,
 * its one-line description, its variants, the parameters it uses and its work
 * models. Every backend's `const struct attn_method` starts with the method's
 * ATTN_IDENTITY_* and adds only what is the backend's own (backend,
 * state_size, the operations); the reference (reference.c) reads the same
 * identities, so that a name, a variant or a parameter cannot differ between
 * the CPU, the GPU and the reference.
 *
 *     const struct attn_method attn_cpu_mita = {
 *         ATTN_IDENTITY_MITA,
 *         .backend = ATTN_CPU,
 *         .state_size = sizeof(struct cpu_state),
 *         .validate = mita_validate,
 *         ...
 *     };
 *
 * Macros rather than a const struct to copy from: a C static initializer
 * cannot read the fields of another object. Each field is given once, by the
 * macro or by the backend, never both (-Woverride-init).
 *
 * full's variants are the exception. They are kernel versions, and a backend
 * may have versions another has not (the GPU's flash kernels), so full's
 * identity takes the backend's list as its argument: the other fields stay in
 * one place, no field is given twice, and a backend cannot leave its variants
 * out. Every backend's list starts with ATTN_FULL_VARIANTS, the versions that
 * every backend and the reference have; the first, flash, is the default.
 *
 * Below the identities, the one rule of validate() that the selection-based
 * methods share on every backend and in the reference.
 */
#ifndef ATTN_METHODS_H
#define ATTN_METHODS_H

#include "attn.h"
#include "attn/work_models.h"

#ifdef __cplusplus
extern "C" {
#endif

/* NULL-terminated, the default first (methods.c). */
extern const char *const attn_full_variants[]; /* ATTN_FULL_VARIANTS */
extern const char *const attn_mita_variants[];

#define ATTN_FULL_VARIANTS "flash", "naive"

#define ATTN_IDENTITY_FULL(variant_list)                                                   \
    .abi_version = ATTN_ABI_VERSION, .name = "full", .computes = "full",                                       \
    .description = "exact softmax attention; flash: online softmax, naive: N x N scores", \
    .variants = (variant_list), .uses = 0, .flops = attn_flops_full,                       \
    .bytes = attn_bytes_floor

#define ATTN_IDENTITY_LINEAR                                                                  \
    .abi_version = ATTN_ABI_VERSION, .name = "linear", .computes = "linear",                                        \
    .description = "linear attention, phi = elu + 1, non-causal (Katharopoulos et al. 2020)", \
    .variants = NULL, .uses = 0, .flops = attn_flops_linear, .bytes = attn_bytes_floor

#define ATTN_IDENTITY_AGENT                                                                     \
    .abi_version = ATTN_ABI_VERSION, .name = "agent", .computes = "agent",                                           \
    .description = "agent attention through m window-mean agents (Han et al. 2024, no bias/DWC)", \
    .variants = NULL, .uses = ATTN_USES_M, .flops = attn_flops_agent, .bytes = attn_bytes_floor

#define ATTN_IDENTITY_NYSTROM                                                                   \
    .abi_version = ATTN_ABI_VERSION, .name = "nystrom", .computes = "nystrom",                                         \
    .description = "Nystrom attention, m window-mean landmarks, 6-step pinv (Xiong et al. 2021)", \
    .variants = NULL, .uses = ATTN_USES_M, .flops = attn_flops_nystrom,                         \
    .bytes = attn_bytes_floor

#define ATTN_IDENTITY_TOPK                                                                \
    .abi_version = ATTN_ABI_VERSION, .name = "topk", .computes = "topk",                                      \
    .description = "per-query exact top-k attention: softmax over each query's k best keys", \
    .variants = NULL, .uses = ATTN_USES_K, .flops = attn_flops_topk, .bytes = attn_bytes_floor

#define ATTN_IDENTITY_MITA                                                                    \
    .abi_version = ATTN_ABI_VERSION, .name = "mita", .computes = "mita",                                          \
    .description = "MiTA: m landmark experts of k keys, a shared expert, s_r routes per query", \
    .variants = attn_mita_variants,                                                           \
    .uses = ATTN_USES_M | ATTN_USES_K | ATTN_USES_S_R | ATTN_USES_SHARED_SCALE |         \
            ATTN_USES_GATHER,                                                                 \
    .flops = attn_flops_mita, .bytes = attn_bytes_mita

/* topk and mita export their selections as int32 key indices (struct
 * attn_selection) on every backend and in the reference: NULL when N fits,
 * else a message in `why`. */
const char *attn_validate_int32_indices(const struct attn_problem *p, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
#endif
