/* method_call.c — the wrappers of method_call.h: the only caller of a
 * struct attn_method's operations. */
#include "attn/method_call.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A broken precondition is the caller's bug: say which, where, and stop. */
#define REQUIRE(cond)                                                                    \
    do {                                                                                 \
        if (!(cond)) precondition_failed(__func__, #cond);                               \
    } while (0)

static _Noreturn void precondition_failed(const char *function, const char *condition)
{
    fprintf(stderr, "%s: precondition failed: %s\n", function, condition);
    abort();
}

/* Fields are only ever appended, so an older method is complete up to its
 * version; a newer one may rely on fields this attnbench never calls. */
static int abi_known(const struct attn_method *m)
{
    return m->abi_version >= 1 && m->abi_version <= ATTN_ABI_VERSION;
}

static const char *abi_refusal(const struct attn_method *m, char *why, size_t why_len)
{
    snprintf(why, why_len, "method '%s' has ABI version %d (need 1 <= version <= %d: "
             "rebuild it against this attn.h)", m->name ? m->name : "?", m->abi_version,
             ATTN_ABI_VERSION);
    return why;
}

const char *attn_method_validate(const struct attn_method *m, const struct attn_problem *p,
                                 const struct attn_params *a, char *why, size_t why_len)
{
    REQUIRE(m && p && a && why && why_len > 0);
    if (!abi_known(m)) return abi_refusal(m, why, why_len);
    REQUIRE(m->validate);
    return m->validate(p, a, why, why_len);
}

size_t attn_method_workspace_bytes(const struct attn_method *m, const struct attn_problem *p,
                                   const struct attn_params *a)
{
    REQUIRE(m && p && a);
    if (!abi_known(m)) return SIZE_MAX;
    return m->workspace_bytes ? m->workspace_bytes(p, a) : 0;
}

int attn_method_setup(const struct attn_method *m, void *state, const struct attn_problem *p,
                      const struct attn_params *a, void *workspace, char *why, size_t why_len)
{
    REQUIRE(m && state && p && a && why && why_len > 0);
    if (!abi_known(m)) {
        abi_refusal(m, why, why_len);
        return -1;
    }
    return m->setup ? m->setup(state, p, a, workspace, why, why_len) : 0;
}

int attn_method_run(const struct attn_method *m, void *state, const struct attn_tensors *t,
                    void *stream)
{
    REQUIRE(m && state && t);
    if (!abi_known(m)) return -1;
    REQUIRE(m->run);
    return m->run(state, t, stream);
}

void attn_method_teardown(const struct attn_method *m, void *state)
{
    REQUIRE(m);
    if (state && abi_known(m) && m->teardown) m->teardown(state);
}

double attn_method_flops(const struct attn_method *m, const struct attn_problem *p,
                         const struct attn_params *a)
{
    REQUIRE(m && p && a);
    if (!abi_known(m)) return NAN;
    REQUIRE(m->flops);
    return m->flops(p, a);
}

double attn_method_bytes(const struct attn_method *m, const struct attn_problem *p,
                         const struct attn_params *a)
{
    REQUIRE(m && p && a);
    if (!abi_known(m)) return NAN;
    REQUIRE(m->bytes);
    return m->bytes(p, a);
}

int attn_method_has_selection(const struct attn_method *m)
{
    REQUIRE(m);
    return abi_known(m) && m->export_selection != NULL;
}

int attn_method_export_selection(const struct attn_method *m, void *state,
                                 struct attn_selection *out)
{
    REQUIRE(m && state && out);
    if (!attn_method_has_selection(m)) return -1;
    return m->export_selection(state, out);
}

const char *attn_method_computes(const struct attn_method *m)
{
    REQUIRE(m);
    return m->abi_version >= 2 ? m->computes : NULL;
}
