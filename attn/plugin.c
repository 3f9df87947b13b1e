/* plugin.c — loads a user's method from a shared object (`--plugin x.so`).
 *
 * The object exports ATTN_PLUGIN_ENTRY ("attnbench_plugin"), a function that
 * returns a static struct attn_plugin. We refuse an object built against a
 * newer ABI than ours (it may rely on fields we would never call) and any
 * method missing a mandatory operation, so that a bad plugin fails at load
 * time with a message instead of crashing mid-sweep. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "attn/registry.h"

/* The operations without which the harness cannot run or describe a method. */
static const char *missing_operation(const struct attn_method *m)
{
    if (!m->name || !m->name[0]) return "name";
    if (!m->validate) return "validate";
    if (!m->run) return "run";
    if (!m->flops) return "flops";
    if (!m->bytes) return "bytes";
    return NULL;
}

int attn_plugin_load(const char *path, char *why, size_t why_len)
{
    void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!so) {
        snprintf(why, why_len, "plugin %s: cannot load: %s", path, dlerror());
        return -1;
    }
    attn_plugin_entry_fn entry;
    /* ISO C forbids converting void* to a function pointer; POSIX requires it
     * to work, and memcpy keeps the compiler quiet about it. */
    void *sym = dlsym(so, ATTN_PLUGIN_ENTRY);
    if (!sym) {
        snprintf(why, why_len, "plugin %s: no symbol '%s' (a plugin must export "
                 "const struct attn_plugin *%s(void))", path, ATTN_PLUGIN_ENTRY, ATTN_PLUGIN_ENTRY);
        dlclose(so);
        return -1;
    }
    memcpy(&entry, &sym, sizeof entry);
    const struct attn_plugin *plugin = entry();
    if (!plugin || !plugin->methods) {
        snprintf(why, why_len, "plugin %s: %s() returned no methods", path, ATTN_PLUGIN_ENTRY);
        dlclose(so);
        return -1;
    }
    if (plugin->abi_version < 1 || plugin->abi_version > ATTN_ABI_VERSION) {
        snprintf(why, why_len, "plugin %s: built for ABI version %d, this attnbench has ABI "
                 "version %d (rebuild the plugin against this attn.h)", path,
                 plugin->abi_version, ATTN_ABI_VERSION);
        dlclose(so);
        return -1;
    }
    for (const struct attn_method *const *m = plugin->methods; *m; m++) {
        const char *missing = missing_operation(*m);
        if ((*m)->abi_version < 1 || (*m)->abi_version > ATTN_ABI_VERSION)
            snprintf(why, why_len, "plugin %s: method '%s' has ABI version %d (need 1..%d)", path,
                     (*m)->name ? (*m)->name : "?", (*m)->abi_version, ATTN_ABI_VERSION);
        else if (missing)
            snprintf(why, why_len, "plugin %s: method '%s' lacks the operation '%s'", path,
                     (*m)->name ? (*m)->name : "?", missing);
        else if (attn_method_find((*m)->name, (*m)->backend))
            snprintf(why, why_len, "plugin %s: method '%s' on %s already exists", path,
                     (*m)->name, attn_backend_name((*m)->backend));
        else
            continue;
        dlclose(so);
        return -1;
    }
    if (attn_registry_append(plugin->methods) != 0) {
        snprintf(why, why_len, "plugin %s: out of memory", path);
        dlclose(so);
        return -1;
    }
    return 0; /* the object stays loaded: its methods are in the registry */
}
