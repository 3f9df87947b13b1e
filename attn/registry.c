/* registry.c — the built-in methods in one static, NULL-terminated table,
 * plus the methods that plugins add at run time. */
#include "attn/registry.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"

#if HAVE_CUDA
#include "attn/cuda/cuda_methods.h"
#endif

static const struct attn_method *const builtin_methods[] = {
    &attn_cpu_full, &attn_cpu_linear, &attn_cpu_agent,
    &attn_cpu_nystrom, &attn_cpu_topk, &attn_cpu_mita,
#if HAVE_CUDA
    ATTN_CUDA_METHODS
#endif
    NULL,
};

#define BUILTIN_COUNT (sizeof builtin_methods / sizeof builtin_methods[0] - 1)

/* Built-ins followed by plugin methods; rebuilt when a plugin is loaded. */
static const struct attn_method **all_methods;
static size_t all_count;

const struct attn_method *const *attn_method_all(void)
{
    if (!all_methods) return builtin_methods;
    return all_methods;
}

const struct attn_method *attn_method_find(const char *name, enum attn_backend backend)
{
    for (const struct attn_method *const *m = attn_method_all(); *m; m++)
        if ((*m)->backend == backend && strcmp((*m)->name, name) == 0) return *m;
    return NULL;
}

/* Appends `add` (NULL-terminated) to the table. 0, or -1 when out of memory. */
int attn_registry_append(const struct attn_method *const *add)
{
    size_t n_add = 0;
    while (add[n_add]) n_add++;
    size_t have = all_methods ? all_count : BUILTIN_COUNT;
    const struct attn_method **grown = malloc((have + n_add + 1) * sizeof *grown);
    if (!grown) return -1;
    memcpy(grown, attn_method_all(), have * sizeof *grown);
    memcpy(grown + have, add, n_add * sizeof *grown);
    grown[have + n_add] = NULL;
    free(all_methods);
    all_methods = grown;
    all_count = have + n_add;
    return 0;
}
