/* bad_plugins.c — plugins that must be refused, one per build flag:
 *   NO_ENTRY       exports no attnbench_plugin symbol
 *   FUTURE_ABI     declares an ABI version newer than the harness's
 *   NO_RUN         a method without its run operation
 */
#include "attn.h"

#ifndef NO_ENTRY
static double no_work(const struct attn_problem *p, const struct attn_params *a) { return 0; }
static const char *always_valid(const struct attn_problem *p, const struct attn_params *a,
                                char *why, size_t why_len)
{
    return NULL;
}
#ifndef NO_RUN
static int do_nothing(void *state, const struct attn_tensors *t, void *stream) { return 0; }
#endif

static const struct attn_method broken_method = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "broken",
    .backend = ATTN_CPU,
    .validate = always_valid,
#ifndef NO_RUN
    .run = do_nothing,
#endif
    .flops = no_work,
    .bytes = no_work,
};

static const struct attn_method *const methods[] = {&broken_method, NULL};

static const struct attn_plugin plugin = {
#ifdef FUTURE_ABI
    .abi_version = ATTN_ABI_VERSION + 1,
#else
    .abi_version = ATTN_ABI_VERSION,
#endif
    .name = "bad",
    .methods = methods,
};

const struct attn_plugin *attnbench_plugin(void) { return &plugin; }
#else
int not_a_plugin(void) { return 42; }
#endif
