/* abi1_plugin.c — a plugin built for ABI 1, as it was laid out: its method
 * and plugin descriptors end where ABI 1's did (no `computes`, no
 * `gathers`), spelled out below as they were, so that a harness that read
 * an ABI-2 field of them would read past the objects (AddressSanitizer's
 * redzones around globals report it). It must still load and run, and
 * `run --verify` must find no definition to hold it to.
 *
 * The method, `abi1_copy`, is not attention: O = V (cpu, fp32).
 */
#include <stdio.h>
#include <string.h>

#include "attn.h"

/* struct attn_method and struct attn_plugin of ABI 1. */
struct attn_method_abi1 {
    int abi_version;
    const char *name;
    const char *description;
    const char *const *variants;
    enum attn_backend backend;
    unsigned uses;
    size_t state_size;
    const char *(*validate)(const struct attn_problem *p, const struct attn_params *a,
                            char *why, size_t why_len);
    size_t (*workspace_bytes)(const struct attn_problem *p, const struct attn_params *a);
    int (*setup)(void *state, const struct attn_problem *p, const struct attn_params *a,
                 void *workspace, char *why, size_t why_len);
    int (*run)(void *state, const struct attn_tensors *t, void *stream);
    void (*teardown)(void *state);
    double (*flops)(const struct attn_problem *p, const struct attn_params *a);
    double (*bytes)(const struct attn_problem *p, const struct attn_params *a);
    int (*export_selection)(void *state, struct attn_selection *out);
};

struct attn_plugin_abi1 {
    int abi_version;
    const char *name;
    const struct attn_method_abi1 *const *methods;
};

_Static_assert(sizeof(struct attn_method_abi1) < sizeof(struct attn_method),
               "ABI 2 appended fields to struct attn_method");

struct copy_state {
    int64_t elems;
};

static const char *copy_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    if (p->backend != ATTN_CPU || p->dtype != ATTN_FP32) {
        snprintf(why, why_len, "abi1_copy runs on the cpu backend in fp32 only");
        return why;
    }
    return NULL;
}

static int copy_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                      void *workspace, char *why, size_t why_len)
{
    ((struct copy_state *)state)->elems = attn_tensor_elems(p);
    return 0;
}

static int copy_run(void *state, const struct attn_tensors *t, void *stream)
{
    memcpy(t->o, t->v, (size_t)((const struct copy_state *)state)->elems * sizeof(float));
    return 0;
}

static double copy_flops(const struct attn_problem *p, const struct attn_params *a) { return 0; }

static double copy_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    return 2.0 * (double)attn_tensor_elems(p) * sizeof(float);
}

static const struct attn_method_abi1 method = {
    .abi_version = 1,
    .name = "abi1_copy",
    .description = "O = V, from a plugin built for ABI 1",
    .backend = ATTN_CPU,
    .state_size = sizeof(struct copy_state),
    .validate = copy_validate,
    .setup = copy_setup,
    .run = copy_run,
    .flops = copy_flops,
    .bytes = copy_bytes,
};

static const struct attn_method_abi1 *const methods[] = {&method, NULL};

static const struct attn_plugin_abi1 plugin = {
    .abi_version = 1,
    .name = "abi1",
    .methods = methods,
};

/* The harness reads the descriptors as today's structs, up to the fields
 * their ABI version has. */
const struct attn_plugin *attnbench_plugin(void)
{
    return (const struct attn_plugin *)(const void *)&plugin;
}
