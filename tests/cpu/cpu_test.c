/* cpu_test.c — helpers shared by the CPU tests (cpu_test.h). */
#include "cpu_test.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/method_call.h"
#include "attn/reference.h"
#include "attn/registry.h"

const struct attn_method *const test_cpu_methods[] = {
    &attn_cpu_full, &attn_cpu_linear, &attn_cpu_agent, &attn_cpu_nystrom,
    &attn_cpu_topk, &attn_cpu_mita,   NULL,
};

const struct attn_method *test_cpu_method_named(const char *name)
{
    for (const struct attn_method *const *m = test_cpu_methods; *m; m++)
        if (strcmp((*m)->name, name) == 0) return *m;
    return NULL;
}

struct attn_problem test_problem(int B, int H, int64_t N, int d, uint64_t seed)
{
    return (struct attn_problem){.B = B, .H = H, .N = N, .d = d, .dtype = ATTN_FP32,
                                 .backend = ATTN_CPU, .seed = seed};
}

int test_inputs_make(const struct attn_problem *p, struct test_inputs *in)
{
    int64_t n = attn_tensor_elems(p);
    *in = (struct test_inputs){.n = n};
    in->q = malloc((size_t)n * sizeof(float));
    in->k = malloc((size_t)n * sizeof(float));
    in->v = malloc((size_t)n * sizeof(float));
    in->qd = malloc((size_t)n * sizeof(double));
    in->kd = malloc((size_t)n * sizeof(double));
    in->vd = malloc((size_t)n * sizeof(double));
    if (!in->q || !in->k || !in->v || !in->qd || !in->kd || !in->vd) {
        printf("FAIL out of memory for inputs of %" PRId64 " elements\n", n);
        test_inputs_free(in);
        return -1;
    }
    attn_random_fill_host(in->q, ATTN_FP32, p->seed, 0, n);
    attn_random_fill_host(in->k, ATTN_FP32, p->seed, 1, n);
    attn_random_fill_host(in->v, ATTN_FP32, p->seed, 2, n);
    test_inputs_sync(in);
    return 0;
}

void test_inputs_sync(struct test_inputs *in)
{
    attn_to_double(in->q, ATTN_FP32, in->qd, in->n);
    attn_to_double(in->k, ATTN_FP32, in->kd, in->n);
    attn_to_double(in->v, ATTN_FP32, in->vd, in->n);
}

void test_inputs_free(struct test_inputs *in)
{
    free(in->q);
    free(in->k);
    free(in->v);
    free(in->qd);
    free(in->kd);
    free(in->vd);
    *in = (struct test_inputs){0};
}

int test_selection_alloc(const char *name, const struct attn_problem *p,
                         const struct attn_params *a, struct attn_selection *sel)
{
    int64_t heads = (int64_t)p->B * p->H;
    int mita = strcmp(name, "mita") == 0;
    size_t keys = (size_t)(heads * (mita ? a->m : p->N) * a->k);
    sel->keys = malloc(keys * sizeof(int32_t));
    sel->routes = mita ? malloc((size_t)(heads * p->N * a->s_r) * sizeof(int32_t)) : NULL;
    if (!sel->keys || (mita && !sel->routes)) {
        printf("FAIL out of memory for a %s selection\n", name);
        test_selection_free(sel);
        return -1;
    }
    return 0;
}

void test_selection_free(struct attn_selection *sel)
{
    free(sel->keys);
    free(sel->routes);
    *sel = (struct attn_selection){0};
}

int test_run_cpu(const struct attn_method *m, const struct attn_problem *p,
                 const struct attn_params *a, const struct test_inputs *in, float *out,
                 struct attn_selection *sel)
{
    char why[512] = "";
    if (attn_method_validate(m, p, a, why, sizeof why)) {
        printf("FAIL %s: validate refused a valid case: %s\n", m->name, why);
        return -1;
    }
    size_t bytes = attn_method_workspace_bytes(m, p, a);
    void *workspace = malloc(bytes ? bytes : 1);
    void *state = calloc(1, m->state_size ? m->state_size : 1);
    int rc = -1;
    if (!workspace || !state) {
        printf("FAIL %s: cannot allocate %zu bytes of workspace\n", m->name, bytes);
        goto done;
    }
    /* All-ones bytes are NaN as floats and -1 as indices: reading scratch
     * before writing it, or leaving output unwritten, shows. */
    memset(workspace, 0xFF, bytes);
    memset(out, 0xFF, (size_t)in->n * sizeof(float));
    if (attn_method_setup(m, state, p, a, workspace, why, sizeof why)) {
        printf("FAIL %s: setup: %s\n", m->name, why);
        goto teardown;
    }
    struct attn_tensors t = {.q = in->q, .k = in->k, .v = in->v, .o = out};
    if (attn_method_run(m, state, &t, NULL)) {
        printf("FAIL %s: run returned an error\n", m->name);
        goto teardown;
    }
    if (sel && attn_method_export_selection(m, state, sel)) {
        printf("FAIL %s: export_selection returned an error\n", m->name);
        goto teardown;
    }
    for (int64_t i = 0; i < in->n; i++)
        if (!isfinite(out[i])) {
            printf("FAIL %s: output element %" PRId64 " of %" PRId64
                   " is %g after the run (unwritten or overflowed)\n",
                   m->name, i, in->n, out[i]);
            goto teardown;
        }
    rc = 0;
teardown:
    attn_method_teardown(m, state);
done:
    free(workspace);
    free(state);
    return rc;
}

int test_reference(const char *name, const struct attn_problem *p, const struct attn_params *a,
                   const struct test_inputs *in, const struct attn_selection *given,
                   struct attn_selection *chosen, double *ref)
{
    char why[512] = "";
    if (attn_reference(name, p, a, in->qd, in->kd, in->vd, ref, given, chosen, why, sizeof why)) {
        printf("FAIL %s reference: %s\n", name, why);
        return -1;
    }
    return 0;
}

double test_rel_error(const float *out, const double *ref, int64_t n)
{
    double *wide = malloc((size_t)n * sizeof(double));
    if (!wide) return INFINITY;
    attn_to_double(out, ATTN_FP32, wide, n);
    double err = attn_rel_error(wide, ref, n);
    free(wide);
    return err;
}

void test_describe(const struct attn_method *m, const struct attn_problem *p,
                   const struct attn_params *a, char *buf, size_t len)
{
    const char *variant = attn_variant_of(m, a);
    int n = snprintf(buf, len, "%s%s%s B=%d H=%d N=%" PRId64 " d=%d", m->name,
                     m->variants ? ":" : "", m->variants ? variant : "", p->B, p->H, p->N, p->d);
    if (m->uses & ATTN_USES_M) n += snprintf(buf + n, len - n, " m=%" PRId64, a->m);
    if (m->uses & ATTN_USES_K) n += snprintf(buf + n, len - n, " k=%" PRId64, a->k);
    if (m->uses & ATTN_USES_S_R) n += snprintf(buf + n, len - n, " s_r=%d", a->s_r);
    if (m->uses & ATTN_USES_SHARED_SCALE)
        n += snprintf(buf + n, len - n, " shared_scale=%s",
                      attn_shared_scale_name(a->shared_scale));
    snprintf(buf + n, len - n, " seed=%" PRIu64, p->seed);
}
