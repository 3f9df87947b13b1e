/* gathers.h — the gather kernels' versions (struct attn_gather_version,
 * attn.h) in one list: the built-in ones of kernels/gather.cu (CUDA builds
 * only), then those of loaded plugins (attn_plugin.gathers), in load order.
 * MiTA (params.gather) and the `gather` method both find a version here by
 * name, so that a user's kernel runs alone (`gather:NAME`) and inside MiTA. */
#ifndef ATTN_GATHERS_H
#define ATTN_GATHERS_H

#include "attn.h"
#include "config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most versions the list holds, built-in and loaded together. */
#define ATTN_GATHER_VERSIONS_MAX 64

/* Every version, NULL-terminated. */
const struct attn_gather_version *const *attn_gather_all(void);

/* The version called `name`, or NULL. */
const struct attn_gather_version *attn_gather_find(const char *name);

/* 1 when params.gather asks for MiTA's fused path (K_E and V_E read in
 * place by the attention): NULL or "fused". */
int attn_gather_is_fused(const char *gather);

/* 1 for the names no version may take: "fused" (the fused path, above) and
 * "copy" (the `gather` method's ceiling, which is not a gather). */
int attn_gather_name_reserved(const char *name);

/* "fused" and every version's name, ", "-separated, into `out` (cut to
 * fit): the valid values of params.gather, for messages. Returns `out`. */
const char *attn_gather_names(char *out, size_t len);

/* Appends `add` (NULL-terminated) to the list; used by attn_plugin_load
 * after attn_plugin_check. 0, or -1 when the list would pass
 * ATTN_GATHER_VERSIONS_MAX. */
int attn_gather_append(const struct attn_gather_version *const *add);

#if HAVE_CUDA
/* The `gather` method's variants (attn/cuda/gather.c): every version's
 * name in list order, then "copy"; NULL-terminated, and kept so by
 * attn_gather_append. */
extern const char *attn_gather_variants[ATTN_GATHER_VERSIONS_MAX + 2];
#endif

#ifdef __cplusplus
}
#endif
#endif
