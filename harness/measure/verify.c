/* verify.c — a measured point's output against the double reference, head
 * by head (see verify.h). */
#include "measure/verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/method_call.h"
#include "attn/reference.h"
#include "core/clock.h"

int64_t verify_sample_rows(int64_t N, int64_t want, int64_t *out)
{
    if (want >= N) {
        for (int64_t i = 0; i < N; i++) out[i] = i;
        return N;
    }
    if (want < 2) {
        if (want == 1) out[0] = 0;
        return want > 0 ? want : 0;
    }
    /* floor(t (N-1) / (want-1)): from 0 to N - 1 in steps of at least 1 */
    for (int64_t t = 0; t < want; t++) out[t] = t * (N - 1) / (want - 1);
    return want;
}

/* The host memory of one check, released in one place. */
struct verify_memory {
    int64_t *rows;                /* the sampled rows of every head */
    void *stored;                 /* one head of one tensor, in its dtype */
    double *q, *k, *v;            /* one head, in double: [N,d] */
    double *out, *ref;            /* its sampled rows: [rows,d] */
    struct attn_selection sel;    /* every head's, as the method exported it */
};

static void release(struct verify_memory *x)
{
    void *all[] = {x->rows, x->stored, x->q, x->k, x->v, x->out, x->ref, x->sel.keys,
                   x->sel.routes};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
}

static void conclude(struct verify_result *res, enum verify_outcome outcome, const char *fmt, ...)
{
    res->outcome = outcome;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof res->detail, fmt, ap);
    va_end(ap);
}

/* attn_to_double in chunks shared among threads: a head at N = 2^20 is
 * 2^27 elements. */
static void to_double(const void *src, enum attn_dtype dtype, double *dst, int64_t n)
{
    const int64_t chunk = 1 << 16;
    const size_t size = attn_dtype_size(dtype);
#pragma omp parallel for schedule(static) if (n > 16 * chunk)
    for (int64_t c = 0; c < n; c += chunk)
        attn_to_double((const char *)src + c * size, dtype, dst + c, n - c < chunk ? n - c : chunk);
}

/* Elements of `src` that are NaN or infinite: still poisoned, never written. */
static int64_t count_not_finite(const void *src, enum attn_dtype dtype, int64_t n)
{
    enum { CHUNK = 4096 };
    const size_t size = attn_dtype_size(dtype);
    int64_t bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad) if (n > 64 * CHUNK)
    for (int64_t c = 0; c < n; c += CHUNK) {
        float x[CHUNK];
        const int64_t len = n - c < CHUNK ? n - c : CHUNK;
        attn_to_float((const char *)src + c * size, dtype, x, len);
        for (int64_t i = 0; i < len; i++) bad += !isfinite(x[i]);
    }
    return bad;
}

/* Head `bh`'s slice of tensor `src` into x->stored. 0, or the backend's error. */
static int copy_head(struct backend *b, struct verify_memory *x, const void *src, int64_t bh,
                     int64_t elems, size_t size)
{
    return b->copy_to_host(b, x->stored, (const char *)src + (size_t)bh * (size_t)elems * size,
                           (size_t)elems * size);
}

static void verify_heads(const struct attn_method *m, void *state, const struct attn_problem *p,
                         const struct attn_params *a, struct backend *b,
                         const struct attn_tensors *t, struct verify_result *res)
{
    char why[512];
    const char *computes = attn_method_computes(m);
    if (!computes || !attn_reference_known(computes)) {
        conclude(res, VERIFY_NONE, "%s computes no definition (attn.h's computes)", m->name);
        return;
    }
    /* The reference runs one head at a time: a problem of B = H = 1. */
    struct attn_problem head = *p;
    head.B = head.H = 1;
    struct attn_params definition = *a;
    definition.variant = attn_reference_variant(computes, a->variant);
    if (attn_reference_check(computes, &head, &definition, why, sizeof why)) {
        conclude(res, VERIFY_NONE, "the reference of %s: %s", computes, why);
        return;
    }
    int64_t n_keys, n_routes;
    attn_selection_sizes(computes, p, a, &n_keys, &n_routes);
    if (n_keys > 0 && !attn_method_has_selection(m)) {
        conclude(res, VERIFY_NONE, "computes %s but exports no selection (export_selection)",
                 computes);
        return;
    }
    if (b->sync(b, why, sizeof why)) {
        conclude(res, VERIFY_ERROR, "the last run: %s", why);
        return;
    }

    const int64_t heads = (int64_t)p->B * p->H, elems = p->N * p->d;
    const size_t size = attn_dtype_size(p->dtype);
    struct verify_memory x = {0};
    x.rows = malloc(VERIFY_ROWS_PER_HEAD * sizeof *x.rows);
    const int64_t count = x.rows ? verify_sample_rows(p->N, VERIFY_ROWS_PER_HEAD, x.rows) : 0;
    const size_t doubles = (size_t)elems * sizeof(double), rows = (size_t)(count * p->d);
    x.stored = malloc((size_t)elems * size);
    x.q = malloc(doubles);
    x.k = malloc(doubles);
    x.v = malloc(doubles);
    x.out = malloc(rows * sizeof(double) + 1);
    x.ref = malloc(rows * sizeof(double) + 1);
    x.sel.keys = n_keys ? malloc((size_t)n_keys * sizeof(int32_t)) : NULL;
    x.sel.routes = n_routes ? malloc((size_t)n_routes * sizeof(int32_t)) : NULL;
    if (!x.rows || !x.stored || !x.q || !x.k || !x.v || !x.out || !x.ref ||
        (n_keys && !x.sel.keys) || (n_routes && !x.sel.routes)) {
        const double bytes = (double)elems * (double)(size + 3 * sizeof(double)) +
                             4.0 * (double)(n_keys + n_routes);
        conclude(res, VERIFY_OOM, "the check needs %.2f GiB of host memory", bytes / (1 << 30));
        release(&x);
        return;
    }
    int rc = n_keys ? attn_method_export_selection(m, state, &x.sel) : 0;
    if (rc) {
        conclude(res, VERIFY_ERROR, "export_selection returned %d", rc);
        release(&x);
        return;
    }

    const double tolerance = attn_selection_tolerance(p->d);
    double diff = 0, norm = 0;
    int64_t not_finite = 0;
    for (int64_t bh = 0; bh < heads && res->outcome == VERIFY_OK; bh++) {
        const int batch = (int)(bh / p->H), h = (int)(bh % p->H);
        /* The head's inputs, as the method read them. */
        const void *inputs[3] = {t->q, t->k, t->v};
        double *in_double[3] = {x.q, x.k, x.v};
        static const char names[] = "QKV";
        for (int which = 0; which < 3 && rc == 0; which++) {
            rc = copy_head(b, &x, inputs[which], bh, elems, size);
            if (rc == 0) to_double(x.stored, p->dtype, in_double[which], elems);
            else conclude(res, VERIFY_ERROR, "copying %c of b=%d h=%d back: error %d",
                          names[which], batch, h, rc);
        }
        /* Its output: every element written, and the sampled rows. */
        if (rc == 0 && (rc = copy_head(b, &x, t->o, bh, elems, size)) != 0)
            conclude(res, VERIFY_ERROR, "copying O of b=%d h=%d back: error %d", batch, h, rc);
        if (rc) break;
        not_finite += count_not_finite(x.stored, p->dtype, elems);
        for (int64_t r = 0; r < count; r++)
            attn_to_double((const char *)x.stored + (size_t)(x.rows[r] * p->d) * size, p->dtype,
                           x.out + r * p->d, p->d);

        /* topk and mita: first a valid selection, then the output given it. */
        const int64_t keys_per_head = n_keys / heads, routes_per_head = n_routes / heads;
        struct attn_selection given = {
            n_keys ? x.sel.keys + bh * keys_per_head : NULL,
            n_routes ? x.sel.routes + bh * routes_per_head : NULL,
        };
        if (n_keys && attn_check_selection_rows(computes, &head, &definition, x.q, x.k, &given,
                                                tolerance, x.rows, count, why, sizeof why)) {
            conclude(res, VERIFY_WRONG, "selection b=%d h=%d: %s", batch, h, why);
            break;
        }
        /* Shape and selection are checked: only memory can fail here. */
        if (attn_reference_rows(computes, &head, &definition, x.q, x.k, x.v, x.rows, count,
                                x.ref, n_keys ? &given : NULL, why, sizeof why)) {
            conclude(res, VERIFY_OOM, "%s", why);
            break;
        }
        for (size_t i = 0; i < rows; i++) {
            if (!isfinite(x.out[i]) || !isfinite(x.ref[i])) continue; /* counted above */
            diff += (x.out[i] - x.ref[i]) * (x.out[i] - x.ref[i]);
            norm += x.ref[i] * x.ref[i];
        }
        for (size_t i = 0; i < rows; i++) not_finite += !isfinite(x.ref[i]);
    }
    release(&x);
    if (res->outcome != VERIFY_OK) return;
    if (not_finite) {
        res->error = INFINITY;
        conclude(res, VERIFY_WRONG, "not finite: %lld elements of O (or of the reference)",
                 (long long)not_finite);
        return;
    }
    res->error = norm > 0 ? sqrt(diff / norm) : diff == 0 ? 0 : INFINITY;
    const double bound = attn_error_bound(p->dtype);
    if (!(res->error <= bound))
        conclude(res, VERIFY_WRONG, "%.1e", res->error);
}

void verify_output(const struct attn_method *m, void *state, const struct attn_problem *p,
                   const struct attn_params *a, struct backend *b, const struct attn_tensors *t,
                   struct verify_result *res)
{
    const double start = monotonic_seconds();
    memset(res, 0, sizeof *res);
    res->outcome = VERIFY_OK;
    res->error = NAN;
    verify_heads(m, state, p, a, b, t, res);
    res->seconds = monotonic_seconds() - start;
}
