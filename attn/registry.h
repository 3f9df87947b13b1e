/* registry.h — the built-in methods, and those loaded from plugins, found
 * by name and backend. */
#ifndef ATTN_REGISTRY_H
#define ATTN_REGISTRY_H

#include "attn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The CPU backend (attn/cpu/): fp32, OpenMP over batch x head. */
extern const struct attn_method attn_cpu_full, attn_cpu_linear, attn_cpu_agent,
    attn_cpu_nystrom, attn_cpu_topk, attn_cpu_mita;

/* The method called `name` on `backend`, or NULL. Plugins loaded with
 * attn_plugin_load() are searched after the built-ins. */
const struct attn_method *attn_method_find(const char *name, enum attn_backend backend);

/* Every registered method (built-in, then plugins), NULL-terminated. */
const struct attn_method *const *attn_method_all(void);

/* Loads a plugin shared object and registers its methods, and its gather
 * versions in the list of attn/gathers.h. Returns 0, or non-zero with a
 * message: the file cannot be opened, it lacks the entry symbol
 * ATTN_PLUGIN_ENTRY, its ABI version is newer than ours, it brings neither
 * methods nor gather versions, or one of them is malformed (a method
 * missing its name, run, validate or work models; a gather version missing
 * its name or launch, or taking a name already known). */
int attn_plugin_load(const char *path, char *why, size_t why_len);

/* The checks attn_plugin_load() makes of a plugin's descriptor before it
 * registers its methods and gather versions, on a descriptor in memory (no shared object
 * needed). `origin` begins the message ("plugin x.so"). 0, or -1 with a
 * message in `why`. */
int attn_plugin_check(const struct attn_plugin *plugin, const char *origin, char *why,
                      size_t why_len);

/* Appends methods (NULL-terminated) to the table; used by attn_plugin_load.
 * 0, or -1 when out of memory. */
int attn_registry_append(const struct attn_method *const *add);

#ifdef __cplusplus
}
#endif
#endif
