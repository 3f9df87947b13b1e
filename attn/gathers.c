/* gathers.c — the list of gather versions (gathers.h): the built-in ones,
 * then the plugins' appended to a copy of them. */
#include "attn/gathers.h"

#include <stdio.h>
#include <string.h>

#if HAVE_CUDA
#include "kernels/gather.h"
#endif

/* Built-ins followed by plugin versions; the built-ins alone until a plugin
 * brings versions. */
static const struct attn_gather_version *loaded[ATTN_GATHER_VERSIONS_MAX + 1];
static int loaded_count; /* 0: `loaded` is not in use yet */

#if HAVE_CUDA
const char *attn_gather_variants[ATTN_GATHER_VERSIONS_MAX + 2] = {GATHER_BUILTIN_NAMES, "copy"};
#endif

const struct attn_gather_version *const *attn_gather_all(void)
{
#if HAVE_CUDA
    if (!loaded_count) return gather_builtin_versions;
#else
    static const struct attn_gather_version *const none[] = {NULL};
    if (!loaded_count) return none;
#endif
    return loaded;
}

const struct attn_gather_version *attn_gather_find(const char *name)
{
    for (const struct attn_gather_version *const *g = attn_gather_all(); name && *g; g++)
        if (strcmp((*g)->name, name) == 0) return *g;
    return NULL;
}

int attn_gather_is_fused(const char *gather) { return !gather || strcmp(gather, "fused") == 0; }

int attn_gather_name_reserved(const char *name)
{
    return name && (strcmp(name, "fused") == 0 || strcmp(name, "copy") == 0);
}

const char *attn_gather_names(char *out, size_t len)
{
    size_t used = (size_t)snprintf(out, len, "fused");
    for (const struct attn_gather_version *const *g = attn_gather_all(); *g && used < len; g++)
        used += (size_t)snprintf(out + used, len - used, ", %s", (*g)->name);
    return out;
}

int attn_gather_append(const struct attn_gather_version *const *add)
{
    int have = 0, n_add = 0;
    for (const struct attn_gather_version *const *g = attn_gather_all(); *g; g++) have++;
    while (add[n_add]) n_add++;
    if (have + n_add > ATTN_GATHER_VERSIONS_MAX) return -1;
    if (!loaded_count) memcpy(loaded, attn_gather_all(), (size_t)have * sizeof *loaded);
    memcpy(loaded + have, add, (size_t)n_add * sizeof *loaded);
    loaded[have + n_add] = NULL;
    loaded_count = have + n_add;
#if HAVE_CUDA
    for (int i = 0; i < loaded_count; i++) attn_gather_variants[i] = loaded[i]->name;
    attn_gather_variants[loaded_count] = "copy";
    attn_gather_variants[loaded_count + 1] = NULL;
#endif
    return 0;
}
