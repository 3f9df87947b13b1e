/* check.c — see check.h. */
#include "check/check.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/method_call.h"
#include "attn/reference.h"
#include "attn/registry.h"
#include "core/inputs.h"
#include "measure/load_inputs.h"

/* The host-side buffers of one check, released in one place. */
struct check_buffers {
    void *q, *k, *v, *o, *workspace, *state;      /* on the backend */
    void *stored;                                 /* host copy in the dtype */
    double *qd, *kd, *vd, *od, *refd;             /* host, double */
    struct attn_selection sel;
};

static void release_buffers(struct backend *b, struct check_buffers *x)
{
    void *device_buffers[] = {x->q, x->k, x->v, x->o, x->workspace};
    for (size_t i = 0; i < 5; i++)
        if (device_buffers[i]) b->release(device_buffers[i]);
    void *host_buffers[] = {x->state, x->stored, x->qd, x->kd, x->vd, x->od, x->refd,
                            x->sel.keys, x->sel.routes};
    for (size_t i = 0; i < sizeof host_buffers / sizeof *host_buffers; i++) free(host_buffers[i]);
}

static int fail(struct check_result *res, const char *what, const char *detail)
{
    res->passed = 0;
    snprintf(res->message, sizeof res->message, "%s: %s", what, detail);
    return -1;
}

/* Run on the backend and bring the output back as double; the selection
 * too when the definition it computes, `computes`, selects keys. */
static int run_on_backend(const struct sweep_point *pt, const struct attn_method *m,
                          const char *computes, const struct attn_params *params,
                          struct backend *b,
                          struct check_buffers *x, struct check_result *res)
{
    char why[512];
    const struct attn_problem *p = &pt->problem;
    int64_t n = attn_tensor_elems(p);
    size_t bytes = (size_t)n * attn_dtype_size(p->dtype);
    void **inputs[3] = {&x->q, &x->k, &x->v};
    for (int which = 0; which < 3; which++) {
        *inputs[which] = b->alloc(bytes);
        if (!*inputs[which]) return fail(res, "alloc", "out of memory");
    }
    if (load_inputs(b, pt, (void *const[3]){x->q, x->k, x->v}, why, sizeof why) != LOAD_INPUTS_OK)
        return fail(res, "inputs", why);
    x->o = b->alloc(bytes);
    x->workspace = b->alloc(attn_method_workspace_bytes(m, p, params));
    x->state = calloc(1, m->state_size ? m->state_size : 1);
    if (!x->o || !x->workspace || !x->state) return fail(res, "alloc", "out of memory");
    if (b->poison(b, x->o, bytes)) return fail(res, "poison", "memset failed");
    if (attn_method_setup(m, x->state, p, params, x->workspace, why, sizeof why))
        return fail(res, "setup", why);
    struct attn_tensors t = {x->q, x->k, x->v, x->o};
    int rc = attn_method_run(m, x->state, &t, b->stream);
    if (rc) {
        snprintf(why, sizeof why, "returned %d", rc);
        return fail(res, "run", why);
    }
    if (b->sync(b, why, sizeof why)) return fail(res, "run", why);
    if (b->copy_to_host(b, x->stored, x->o, bytes)) return fail(res, "copy", "copy back failed");
    attn_to_double(x->stored, p->dtype, x->od, n);
    int64_t nk, nr;
    attn_selection_sizes(computes, p, params, &nk, &nr);
    if (nk > 0 && !attn_method_has_selection(m)) {
        snprintf(why, sizeof why, "computes %s but exports no selection (export_selection)",
                 computes);
        return fail(res, "selection", why);
    }
    if (nk > 0) {
        x->sel.keys = malloc((size_t)nk * sizeof(int32_t));
        x->sel.routes = malloc((size_t)(nr ? nr : 1) * sizeof(int32_t));
        if (!x->sel.keys || !x->sel.routes) return fail(res, "alloc", "out of memory");
        if (attn_method_export_selection(m, x->state, &x->sel))
            return fail(res, "selection", "export failed");
    }
    return 0;
}

int64_t check_row_step(int64_t N) { return N > 1024 ? N / 512 : 1; }

/* ‖out − ref‖/‖ref‖ over the rows i % row_step == 0 of every head. */
static double sampled_rel_error(const double *out, const double *ref,
                                const struct attn_problem *p, int64_t row_step)
{
    if (row_step == 1) return attn_rel_error(out, ref, attn_tensor_elems(p));
    double diff = 0, norm = 0;
    for (int64_t bh = 0; bh < (int64_t)p->B * p->H; bh++)
        for (int64_t i = 0; i < p->N; i += row_step)
            for (int c = 0; c < p->d; c++) {
                int64_t at = (bh * p->N + i) * p->d + c;
                if (!isfinite(out[at])) return INFINITY;
                diff += (out[at] - ref[at]) * (out[at] - ref[at]);
                norm += ref[at] * ref[at];
            }
    return sqrt(diff) / sqrt(norm);
}

void check_point(const struct sweep_point *pt, struct backend *b, struct check_result *res)
{
    char why[512];
    memset(res, 0, sizeof *res);
    const struct attn_problem *p = &pt->problem;
    res->bound = attn_error_bound(p->dtype);
    const struct attn_method *m = attn_method_find(pt->method, p->backend);
    if (!m) {
        fail(res, "method", "not found on this backend");
        return;
    }
    /* The reference is that of the definition the method computes, for the
     * variant of the definition that the method's variant selects. */
    const char *computes = attn_method_computes(m);
    if (!computes || !attn_reference_known(computes)) {
        fail(res, "reference", "none: the method computes no definition (attn.h's computes)");
        return;
    }
    struct attn_params params = point_params(pt);
    struct attn_params definition = params;
    definition.variant = attn_reference_variant(computes, params.variant);
    const char *bad = attn_method_validate(m, p, &params, why, sizeof why);
    if (bad) {
        fail(res, "invalid", bad);
        return;
    }
    struct check_buffers x = {0};
    int64_t n = attn_tensor_elems(p);
    x.stored = malloc((size_t)n * attn_dtype_size(p->dtype));
    double **doubles[4] = {&x.qd, &x.kd, &x.vd, &x.od};
    for (int i = 0; i < 4; i++) *doubles[i] = malloc((size_t)n * sizeof(double));
    x.refd = malloc((size_t)n * sizeof(double));
    if (!x.stored || !x.qd || !x.kd || !x.vd || !x.od || !x.refd) {
        fail(res, "alloc", "out of host memory");
        release_buffers(b, &x);
        return;
    }
    if (run_on_backend(pt, m, computes, &params, b, &x, res) == 0) {
        /* The reference sees exactly the stored inputs. */
        double *inputs[3] = {x.qd, x.kd, x.vd};
        int loaded = 1;
        for (int which = 0; which < 3 && loaded; which++) {
            loaded = load_inputs_host(pt, which, x.stored, why, sizeof why) == LOAD_INPUTS_OK;
            attn_to_double(x.stored, p->dtype, inputs[which], n);
        }
        for (int64_t i = 0; i < n; i++) res->unwritten += !isfinite(x.od[i]);
        const struct attn_selection *given = x.sel.keys ? &x.sel : NULL;
        int64_t row_step = check_row_step(p->N);
        if (!loaded) {
            fail(res, "inputs", why);
        } else if (res->unwritten) {
            snprintf(why, sizeof why, "%" PRId64 " of %" PRId64 " elements not finite",
                     res->unwritten, n);
            fail(res, "output", why);
        } else if (given && attn_check_selection_sampled(computes, p, &definition, x.qd, x.kd,
                                                         given, attn_selection_tolerance(p->d),
                                                         row_step, why, sizeof why)) {
            fail(res, "selection", why);
        } else if (attn_reference_sampled(computes, p, &definition, x.qd, x.kd, x.vd, x.refd,
                                          given, NULL, row_step, why, sizeof why)) {
            fail(res, "reference", why);
        } else {
            res->rel_error = sampled_rel_error(x.od, x.refd, p, row_step);
            res->passed = res->rel_error <= res->bound;
            if (!res->passed) {
                snprintf(why, sizeof why, "relative error %.3e exceeds %.0e", res->rel_error,
                         res->bound);
                fail(res, "accuracy", why);
            }
        }
    }
    attn_method_teardown(m, x.state);
    release_buffers(b, &x);
}

/* The shapes: B, H, N, m, k, s_r, shared_scale. */
static const struct {
    int B, H;
    int64_t N, m, k;
    int s_r;
    enum attn_shared_scale scale;
} shapes[] = {
    {1, 2, 256, 16, 32, 1, ATTN_SHARED_OFFICIAL},  /* the plain case, two heads */
    {2, 1, 300, 7, 5, 2, ATTN_SHARED_PAPER},       /* N % m != 0, s_r = 2, batch of 2 */
    {1, 1, 97, 1, 1, 1, ATTN_SHARED_OFFICIAL},     /* m = 1, k = 1, odd N */
    {1, 1, 64, 64, 64, 1, ATTN_SHARED_OFFICIAL},   /* m = N, k = N */
};

int check_supports(const struct attn_method *method, const char *variant, enum attn_dtype dtype,
                   int d)
{
    const struct attn_problem p = {shapes[0].B, shapes[0].H, shapes[0].N, d, dtype,
                                   method->backend, 1};
    const struct attn_params a = {.m = shapes[0].m, .k = shapes[0].k, .s_r = shapes[0].s_r,
                                  .variant = variant && *variant ? variant : NULL,
                                  .shared_scale = shapes[0].scale};
    char why[256];
    return attn_method_validate(method, &p, &a, why, sizeof why) == NULL;
}

int check_cases(const struct attn_method *method, const enum attn_dtype *dtypes, int n_dtypes,
                int d, struct sweep_point *out, int max)
{
    int count = 0;
    /* gather (tests/gpu/test_gather.c) and a plugin's own definitions have
     * no reference. */
    const char *computes = attn_method_computes(method);
    if (!computes || !attn_reference_known(computes)) return 0;
    static const char *const no_variant[] = {"", NULL};
    const char *const *variants = method->variants && method->variants[0] ? method->variants
                                                                            : no_variant;
    /* Every shape on iid inputs; the plain shape on each other distribution,
     * whose structure (clusters, smooth waves, rising scores) is what trips a
     * selection or a routing up. */
    const size_t n_shapes = sizeof shapes / sizeof *shapes;
    for (const char *const *v = variants; *v; v++)
        for (int t = 0; t < n_dtypes; t++)
            for (size_t c = 0; c < n_shapes + ATTN_INPUTS_COUNT - 1 && count < max &&
                               check_supports(method, *v, dtypes[t], d);
                 c++) {
                const size_t s = c < n_shapes ? c : 0;
                const enum attn_inputs kind =
                    c < n_shapes ? ATTN_INPUTS_IID : (enum attn_inputs)(c - n_shapes + 1);
                struct sweep_point *pt = &out[count++];
                memset(pt, 0, sizeof *pt);
                snprintf(pt->method, sizeof pt->method, "%s", method->name);
                snprintf(pt->variant, sizeof pt->variant, "%s", *v);
                snprintf(pt->inputs, sizeof pt->inputs, "%s", inputs_kind_name(kind));
                pt->uses = method->uses;
                pt->problem = (struct attn_problem){shapes[s].B, shapes[s].H, shapes[s].N, d,
                                                    dtypes[t], method->backend, 1000 + c};
                pt->params.m = shapes[s].m;
                pt->params.k = shapes[s].k;
                pt->params.s_r = shapes[s].s_r;
                pt->params.shared_scale = shapes[s].scale;
            }
    return count;
}
