/* plugin.c — loads a user's methods and gather versions from a shared
 * object (`--plugin x.so`).
 *
 * The object exports ATTN_PLUGIN_ENTRY ("attnbench_plugin"), a function that
 * returns a static struct attn_plugin. We refuse an object built against a
 * newer ABI than ours (it may rely on fields we would never call), any
 * method missing a mandatory operation, one that claims to compute a
 * definition attnbench does not know, and any gather version without
 * launch(), so that a bad plugin fails at load time with a message instead
 * of crashing (or going unchecked) mid-sweep. A method built for ABI 1 ends
 * before `computes`: it is read only through attn_method_computes(). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "attn/gathers.h"
#include "attn/method_call.h"
#include "attn/reference.h"
#include "attn/registry.h"

/* The operations without which the harness cannot run or describe a method. */
static const char *missing_operation(const struct attn_method *m)
{
    if (!m->validate) return "validate";
    if (!m->run) return "run";
    if (!m->flops) return "flops";
    if (!m->bytes) return "bytes";
    return NULL;
}

/* 1 when `name` is a name attn.h allows (ATTN_NAME_MAX). */
static int good_name(const char *name)
{
    static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789_-.";
    if (!name) return 0;
    const size_t n = strspn(name, allowed);
    return n > 0 && n <= ATTN_NAME_MAX && name[n] == '\0';
}

/* The first variant of `m` that is not a good name, or NULL. */
static const char *bad_variant(const struct attn_method *m)
{
    for (const char *const *v = m->variants; v && *v; v++)
        if (!good_name(*v)) return *v;
    return NULL;
}

/* A name from a plugin, fit to quote in a message: printable, at most 40
 * characters of it. */
static const char *quotable(const char *name, char *out, size_t len)
{
    size_t n = 0;
    for (const char *c = name; c && *c && n + 4 < len && n < 40; c++)
        out[n++] = *c >= 0x20 && *c < 0x7f ? *c : '?';
    if (name && strlen(name) > n) out[n++] = '.', out[n++] = '.', out[n++] = '.';
    out[n] = '\0';
    return out;
}

/* The plugin's gather versions: NULL for a plugin built for ABI 1, which
 * has no such field. */
static const struct attn_gather_version *const *plugin_gathers(const struct attn_plugin *plugin)
{
    return plugin->abi_version >= 2 ? plugin->gathers : NULL;
}

static int check_methods(const struct attn_plugin *plugin, const char *origin, char *why,
                         size_t why_len)
{
    for (const struct attn_method *const *m = plugin->methods; m && *m; m++) {
        const int index = (int)(m - plugin->methods) + 1;
        char name[48], variant[48];
        quotable((*m)->name, name, sizeof name);
        const char *missing = missing_operation(*m), *bad = bad_variant(*m);
        const char *computes = NULL; /* read once the ABI version is known good */
        int twice = 0; /* the same name and backend earlier in this plugin */
        for (const struct attn_method *const *e = plugin->methods; e < m && !twice; e++)
            twice = good_name((*e)->name) && good_name((*m)->name) &&
                    !strcmp((*e)->name, (*m)->name) && (*e)->backend == (*m)->backend;
        if ((*m)->abi_version < 1 || (*m)->abi_version > ATTN_ABI_VERSION)
            snprintf(why, why_len, "%s: method %d '%s' has ABI version %d (need 1..%d)", origin,
                     index, name, (*m)->abi_version, ATTN_ABI_VERSION);
        else if (!good_name((*m)->name))
            snprintf(why, why_len, "%s: method %d's name '%s' is not 1 to %d letters, digits, "
                     "'_', '-' or '.'", origin, index, name, ATTN_NAME_MAX);
        else if (missing)
            snprintf(why, why_len, "%s: method '%s' lacks the operation '%s'", origin, name,
                     missing);
        else if ((*m)->backend != ATTN_CPU && (*m)->backend != ATTN_CUDA)
            snprintf(why, why_len, "%s: method '%s' has backend %d (need ATTN_CPU or ATTN_CUDA)",
                     origin, name, (int)(*m)->backend);
        else if (bad)
            snprintf(why, why_len, "%s: method '%s' has a variant '%s' that is not 1 to %d "
                     "letters, digits, '_', '-' or '.'", origin, name,
                     quotable(bad, variant, sizeof variant), ATTN_NAME_MAX);
        else if (twice || attn_method_find((*m)->name, (*m)->backend))
            snprintf(why, why_len, "%s: method '%s' on %s %s", origin, name,
                     attn_backend_name((*m)->backend),
                     twice ? "is listed twice" : "already exists");
        else if ((computes = attn_method_computes(*m)) && !attn_reference_known(computes))
            snprintf(why, why_len, "%s: method '%s' computes '%s', which is not a definition of "
                     "attnbench (full, linear, agent, nystrom, topk, mita; NULL when it computes "
                     "none of them)", origin, name, quotable(computes, variant, sizeof variant));
        else
            continue;
        return -1;
    }
    return 0;
}

/* A gather version's name is given as params.gather and as the variant
 * `gather:NAME`: the rules of a method's name, and none taken. */
static int check_gathers(const struct attn_plugin *plugin, const char *origin, char *why,
                         size_t why_len)
{
    const struct attn_gather_version *const *gathers = plugin_gathers(plugin);
    int have = 0;
    for (const struct attn_gather_version *const *g = attn_gather_all(); *g; g++) have++;
    for (const struct attn_gather_version *const *g = gathers; g && *g; g++) {
        const int index = (int)(g - gathers) + 1;
        char name[48];
        quotable((*g)->name, name, sizeof name);
        int twice = 0; /* the same name earlier in this plugin */
        for (const struct attn_gather_version *const *e = gathers; e < g && !twice; e++)
            twice = good_name((*e)->name) && good_name((*g)->name) &&
                    !strcmp((*e)->name, (*g)->name);
        if ((*g)->abi_version < 2 || (*g)->abi_version > ATTN_ABI_VERSION)
            snprintf(why, why_len, "%s: gather version %d '%s' has ABI version %d (need 2..%d)",
                     origin, index, name, (*g)->abi_version, ATTN_ABI_VERSION);
        else if (!good_name((*g)->name))
            snprintf(why, why_len, "%s: gather version %d's name '%s' is not 1 to %d letters, "
                     "digits, '_', '-' or '.'", origin, index, name, ATTN_NAME_MAX);
        else if (!(*g)->launch)
            snprintf(why, why_len, "%s: gather version '%s' lacks the operation 'launch'", origin,
                     name);
        else if (attn_gather_name_reserved((*g)->name))
            snprintf(why, why_len, "%s: gather version '%s': the name is reserved ('fused' is "
                     "MiTA reading K_E and V_E in place, 'copy' the gather method's ceiling)",
                     origin, name);
        else if (twice || attn_gather_find((*g)->name))
            snprintf(why, why_len, "%s: gather version '%s' %s", origin, name,
                     twice ? "is listed twice" : "already exists");
        else if (have + index > ATTN_GATHER_VERSIONS_MAX)
            snprintf(why, why_len, "%s: gather version '%s' is one too many (at most %d in all, "
                     "built-in ones included)", origin, name, ATTN_GATHER_VERSIONS_MAX);
        else
            continue;
        return -1;
    }
    return 0;
}

int attn_plugin_check(const struct attn_plugin *plugin, const char *origin, char *why,
                      size_t why_len)
{
    if (!plugin) {
        snprintf(why, why_len, "%s: %s() returned no plugin (NULL)", origin, ATTN_PLUGIN_ENTRY);
        return -1;
    }
    if (plugin->abi_version < 1 || plugin->abi_version > ATTN_ABI_VERSION) {
        snprintf(why, why_len, "%s: built for ABI version %d, this attnbench has ABI "
                 "version %d (rebuild the plugin against this attn.h)", origin,
                 plugin->abi_version, ATTN_ABI_VERSION);
        return -1;
    }
    const struct attn_gather_version *const *gathers = plugin_gathers(plugin);
    if (!(plugin->methods && plugin->methods[0]) && !(gathers && gathers[0])) {
        snprintf(why, why_len, "%s: %s() returned no methods and no gather versions (need "
                 "either, NULL-terminated; gather versions from ABI version 2)", origin,
                 ATTN_PLUGIN_ENTRY);
        return -1;
    }
    if (check_methods(plugin, origin, why, why_len)) return -1;
    return check_gathers(plugin, origin, why, why_len);
}

int attn_plugin_load(const char *path, char *why, size_t why_len)
{
    char origin[600];
    snprintf(origin, sizeof origin, "plugin %s", path);
    void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!so) {
        snprintf(why, why_len, "%s: cannot load: %s", origin, dlerror());
        return -1;
    }
    attn_plugin_entry_fn entry;
    /* ISO C forbids converting void* to a function pointer; POSIX requires it
     * to work, and memcpy keeps the compiler quiet about it. */
    void *sym = dlsym(so, ATTN_PLUGIN_ENTRY);
    if (!sym) {
        snprintf(why, why_len, "%s: no symbol '%s' (a plugin must export "
                 "const struct attn_plugin *%s(void))", origin, ATTN_PLUGIN_ENTRY,
                 ATTN_PLUGIN_ENTRY);
        dlclose(so);
        return -1;
    }
    memcpy(&entry, &sym, sizeof entry);
    const struct attn_plugin *plugin = entry();
    if (attn_plugin_check(plugin, origin, why, why_len) != 0) {
        dlclose(so);
        return -1;
    }
    if (plugin->methods && attn_registry_append(plugin->methods) != 0) {
        snprintf(why, why_len, "%s: out of memory", origin);
        dlclose(so);
        return -1;
    }
    /* attn_plugin_check made sure the list has room for them. */
    const struct attn_gather_version *const *gathers = plugin_gathers(plugin);
    if (gathers && attn_gather_append(gathers) != 0) {
        snprintf(why, why_len, "%s: too many gather versions", origin);
        return -1; /* its methods are registered: the object stays loaded */
    }
    return 0; /* the object stays loaded: its methods and gathers are registered */
}
