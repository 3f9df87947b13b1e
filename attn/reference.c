/* reference.c — the double-precision reference of every method of
 * docs/methods.md (reference.h), the error metric and the selection check
 * (docs/correctness.md).
 *
 * Written to be read next to docs/methods.md: one batch-head at a time,
 * each method spelled out as its definition, every score row materialized,
 * top-k by sorting the whole row (ties to the lower index). Nothing is
 * fused, and no step of a definition is reordered, so that it shares no
 * cleverness (and no bug) with the backends it checks. What it does for
 * speed, since `run --verify` needs one head at N = 2^20 in seconds, leaves
 * every result to double rounding and independent of the machine: dot
 * products in four partial sums; loops ordered to read tensors by rows; and
 * independent rows (of the output, of the landmarks' work, of a product)
 * shared among OpenMP threads, each computed whole by one thread, so that
 * the result does not depend on the number of threads.
 */
#include "attn/reference.h"
#include "attn/methods.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* One batch-head of a call: its sizes, and where its selection comes from
 * (given: NULL means select) and goes to (chosen: NULL means not wanted). */
struct ref_head {
    int64_t N, m, k;
    int d, s_r;
    int64_t bh;              /* batch * H + head, for messages */
    /* The query rows computed: rows[0..row_count) when `rows` is given,
     * output row t of o being query rows[t]; else the rows i % row_step == 0,
     * each at its own place in o. ref_row_count, ref_row and ref_out_row read them. */
    const int64_t *rows;
    int64_t row_count, row_step;
    bool route_only;         /* mita: no shared expert */
    double scale;            /* s = 1/sqrt(d) */
    double shared_scale;     /* mita: s_sh */
    const int32_t *given_keys, *given_routes;
    int32_t *chosen_keys, *chosen_routes;
    char *why;
    size_t why_len;
};

/* q, k, v, o: [N,d] of one batch-head. Returns 0 or non-zero with h->why. */
typedef int (*ref_head_fn)(const struct ref_head *h, const double *q, const double *k,
                           const double *v, double *o);

/* Below this many multiply-adds a loop stays on one thread: starting a
 * team of threads would cost more than it saves. */
#define REF_PARALLEL_WORK (1 << 20)

/* ---- the rows a call computes ---- */

static int64_t ref_row_count(const struct ref_head *h)
{
    return h->rows ? h->row_count : (h->N + h->row_step - 1) / h->row_step;
}

/* The query row of position t. */
static int64_t ref_row(const struct ref_head *h, int64_t t)
{
    return h->rows ? h->rows[t] : t * h->row_step;
}

/* Where the output of position t goes in o. */
static double *ref_out_row(const struct ref_head *h, double *o, int64_t t)
{
    return o + (h->rows ? t : ref_row(h, t)) * h->d;
}

/* ---- small dense helpers, all in double ---- */

/* In four partial sums, so that the additions do not wait on one another:
 * a head's reference at N = 2^20 takes billions of these dot products. */
static double ref_dot(const double *x, const double *y, int d)
{
    double sum[4] = {0, 0, 0, 0};
    int c = 0;
    for (; c + 4 <= d; c += 4)
        for (int lane = 0; lane < 4; lane++) sum[lane] += x[c + lane] * y[c + lane];
    for (; c < d; c++) sum[0] += x[c] * y[c];
    return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

// x: [n], replaced by softmax(x)
static void ref_softmax(double *x, int64_t n)
{
    double max = -INFINITY, sum = 0;
    for (int64_t j = 0; j < n; j++) max = fmax(max, x[j]);
    for (int64_t j = 0; j < n; j++) {
        x[j] = exp(x[j] - max);
        sum += x[j];
    }
    for (int64_t j = 0; j < n; j++) x[j] /= sum;
}

// x: [N,d]  out: [m,d], window means; each summed over the window's rows in order
static void ref_landmarks(const double *x, int64_t N, int d, int64_t m, double *out)
{
#pragma omp parallel for schedule(static) if (N * d > REF_PARALLEL_WORK)
    for (int64_t j = 0; j < m; j++) {
        int64_t begin = attn_window_begin(j, N, m), end = attn_window_begin(j + 1, N, m);
        double *mean = out + j * d;
        for (int c = 0; c < d; c++) mean[c] = 0;
        for (int64_t r = begin; r < end; r++)
            for (int c = 0; c < d; c++) mean[c] += x[r * d + c];
        for (int c = 0; c < d; c++) mean[c] /= (double)(end - begin);
    }
}

// a: [n,p]  b: [p,q]  c: [n,q] = a b; each c_ij summed over t in order, b read by rows
static void ref_matmul(const double *a, const double *b, double *c, int64_t n, int64_t p,
                       int64_t q)
{
#pragma omp parallel for schedule(static) if (n * p * q > REF_PARALLEL_WORK)
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < q; j++) c[i * q + j] = 0;
        for (int64_t t = 0; t < p; t++)
            for (int64_t j = 0; j < q; j++) c[i * q + j] += a[i * p + t] * b[t * q + j];
    }
}

// a: [na,d]  b: [nb,d]  out: [na,nb] = softmax by rows of (a bᵀ scale)
static void ref_softmax_rows(const double *a, int64_t na, const double *b, int64_t nb, int d,
                             double scale, double *out)
{
#pragma omp parallel for schedule(dynamic) if (na * nb * d > REF_PARALLEL_WORK)
    for (int64_t i = 0; i < na; i++) {
        for (int64_t j = 0; j < nb; j++) out[i * nb + j] = scale * ref_dot(a + i * d, b + j * d, d);
        ref_softmax(out + i * nb, nb);
    }
}

// q: [d]  keys, values: [n,d]  w: [n] scratch  out: [d] = softmax(q keysᵀ scale) values
static void ref_attend_row(const double *q, const double *keys, const double *values, int64_t n,
                           int d, double scale, double *w, double *out)
{
    for (int64_t j = 0; j < n; j++) w[j] = scale * ref_dot(q, keys + j * d, d);
    ref_softmax(w, n);
    for (int c = 0; c < d; c++) out[c] = 0;
    for (int64_t j = 0; j < n; j++)
        for (int c = 0; c < d; c++) out[c] += w[j] * values[j * d + c];
}

/* ---- plain top-k: sort the whole row ---- */

struct ref_ranked {
    double score;
    int64_t index;
};

/* Higher score first; ties to the lower index. */
static int ref_rank_order(const void *pa, const void *pb)
{
    const struct ref_ranked *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

// scores: [n]  ranked: [n] scratch  out: [k], best first
static void ref_select_topk(const double *scores, int64_t n, int64_t k,
                            struct ref_ranked *ranked, int32_t *out)
{
    for (int64_t j = 0; j < n; j++) ranked[j] = (struct ref_ranked){scores[j], j};
    qsort(ranked, (size_t)n, sizeof *ranked, ref_rank_order);
    for (int64_t t = 0; t < k; t++) out[t] = (int32_t)ranked[t].index;
}

/* A given selection row, checked for range before the work starts, so that
 * a broken backend makes a message here instead of a wild read (and the
 * parallel loops that read it cannot fail). given: [count] */
static int ref_given_in_range(const struct ref_head *h, const int32_t *given, int64_t count,
                              int64_t limit, const char *what, int64_t row)
{
    for (int64_t t = 0; t < count; t++)
        if (given[t] < 0 || given[t] >= limit) {
            snprintf(h->why, h->why_len,
                     "given %s: batch-head %" PRId64 " row %" PRId64 " has %" PRId32
                     " at position %" PRId64 " (need 0 <= index < %" PRId64 ")",
                     what, h->bh, row, given[t], t, limit);
            return -1;
        }
    return 0;
}

static int ref_out_of_memory(const struct ref_head *h, const char *method)
{
    snprintf(h->why, h->why_len, "%s reference: out of memory (N=%" PRId64 ", d=%d)", method,
             h->N, h->d);
    return -1;
}

/* Each parallel region below allocates its thread's scratch rows itself; a
 * thread that got none sets `failed` and skips its share of the loop. */

/* ---- the methods ---- */

static int ref_full(const struct ref_head *h, const double *q, const double *k, const double *v,
                    double *o)
{
    const int64_t count = ref_row_count(h);
    int failed = 0;
#pragma omp parallel if (count * h->N * h->d > REF_PARALLEL_WORK)
    {
        double *w = malloc((size_t)h->N * sizeof *w); /* one row of weights */
        if (!w) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic)
        for (int64_t t = 0; t < count; t++)
            if (w)
                ref_attend_row(q + ref_row(h, t) * h->d, k, v, h->N, h->d, h->scale, w,
                               ref_out_row(h, o, t));
        free(w);
    }
    return failed ? ref_out_of_memory(h, "full") : 0;
}

/* elu(x) + 1 */
static double ref_phi(double x) { return x > 0 ? x + 1 : exp(x); }

static int ref_linear(const struct ref_head *h, const double *q, const double *k,
                      const double *v, double *o)
{
    const int64_t N = h->N, count = ref_row_count(h);
    const int d = h->d;
    double *kv = calloc((size_t)d * d, sizeof(double)); /* S = Σ_j φ(k_j) v_jᵀ: [d,d] */
    double *ksum = calloc((size_t)d, sizeof(double));   /* z = Σ_j φ(k_j): [d] */
    if (!kv || !ksum) {
        free(kv);
        free(ksum);
        return ref_out_of_memory(h, "linear");
    }
    /* By blocks of four rows a of S, so that a thread reads K and V once a
     * block, not once a row; each element is summed over j in order. */
#pragma omp parallel for schedule(static) if (N * d * d > REF_PARALLEL_WORK)
    for (int block = 0; block < d; block += 4)
        for (int64_t j = 0; j < N; j++)
            for (int a = block; a < block + 4 && a < d; a++) {
                double phi = ref_phi(k[j * d + a]);
                ksum[a] += phi;
                for (int c = 0; c < d; c++) kv[a * d + c] += phi * v[j * d + c];
            }
#pragma omp parallel for schedule(static) if (count * d * d > REF_PARALLEL_WORK)
    for (int64_t t = 0; t < count; t++) {
        const double *qi = q + ref_row(h, t) * d;
        double *oi = ref_out_row(h, o, t);
        double den = 1e-6;
        for (int a = 0; a < d; a++) den += ref_phi(qi[a]) * ksum[a];
        for (int c = 0; c < d; c++) {
            double num = 0;
            for (int a = 0; a < d; a++) num += ref_phi(qi[a]) * kv[a * d + c];
            oi[c] = num / den;
        }
    }
    free(kv);
    free(ksum);
    return 0;
}

static int ref_agent(const struct ref_head *h, const double *q, const double *k, const double *v,
                     double *o)
{
    const int64_t N = h->N, m = h->m, count = ref_row_count(h);
    const int d = h->d;
    double *agents = calloc((size_t)(m * d), sizeof(double));
    double *agent_values = calloc((size_t)(m * d), sizeof(double));
    int failed = !agents || !agent_values;
    if (!failed) {
        ref_landmarks(q, N, d, m, agents);
#pragma omp parallel if (m * N * d > REF_PARALLEL_WORK)
        {
            double *w = malloc((size_t)N * sizeof *w); /* a row of weights: m <= N */
            if (!w) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(dynamic)
            for (int64_t j = 0; j < m; j++)
                if (w)
                    ref_attend_row(agents + j * d, k, v, N, d, h->scale, w, agent_values + j * d);
            /* (the loop's barrier: every agent's value is there before a query reads it) */
#pragma omp for schedule(dynamic)
            for (int64_t t = 0; t < count; t++)
                if (w)
                    ref_attend_row(q + ref_row(h, t) * d, agents, agent_values, m, d, h->scale, w,
                                   ref_out_row(h, o, t));
            free(w);
        }
    }
    free(agents);
    free(agent_values);
    return failed ? ref_out_of_memory(h, "agent") : 0;
}

// x: [n,n], replaced by c I - x
static void ref_identity_minus(double c, double *x, int64_t n)
{
    for (int64_t i = 0; i < n * n; i++) x[i] = -x[i];
    for (int64_t i = 0; i < n; i++) x[i * n + i] += c;
}

/* docs/methods.md, "nystrom": Z₀ = Mᵀ / (max_i Σ_j |M_ij| · max_j Σ_i |M_ij|),
 * then 6 times Z ← ¼ Z (13I − MZ (15I − MZ (7I − MZ))).
 * mm, z: [m,m]  mz, t, u: [m,m] scratch */
static void ref_pinv(const double *mm, double *z, double *mz, double *t, double *u, int64_t m)
{
    double max_row = 0, max_col = 0;
    for (int64_t i = 0; i < m; i++) {
        double row = 0, col = 0;
        for (int64_t j = 0; j < m; j++) {
            row += fabs(mm[i * m + j]);
            col += fabs(mm[j * m + i]);
        }
        max_row = fmax(max_row, row);
        max_col = fmax(max_col, col);
    }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < m; j++) z[i * m + j] = mm[j * m + i] / (max_row * max_col);

    for (int it = 0; it < ATTN_NYSTROM_PINV_ITERATIONS; it++) {
        ref_matmul(mm, z, mz, m, m, m);
        memcpy(t, mz, (size_t)(m * m) * sizeof(double));
        ref_identity_minus(7, t, m);   /* 7I − MZ */
        ref_matmul(mz, t, u, m, m, m);
        ref_identity_minus(15, u, m);  /* 15I − MZ (7I − MZ) */
        ref_matmul(mz, u, t, m, m, m);
        ref_identity_minus(13, t, m);  /* 13I − MZ (15I − MZ (7I − MZ)) */
        ref_matmul(z, t, u, m, m, m);
        for (int64_t i = 0; i < m * m; i++) z[i] = u[i] / 4;
    }
}

static int ref_nystrom(const struct ref_head *h, const double *q, const double *k,
                       const double *v, double *o)
{
    const int64_t N = h->N, m = h->m, count = ref_row_count(h);
    const int d = h->d;
    double *lq = calloc((size_t)(m * d), sizeof(double)), *lk = calloc((size_t)(m * d), sizeof(double));
    double *f = calloc((size_t)(count * m), sizeof(double)); /* F's rows computed: [count,m] */
    double *g = calloc((size_t)(m * N), sizeof(double));     /* G: [m,N] */
    double *mm = calloc((size_t)(m * m), sizeof(double));    /* M: [m,m] */
    double *z = calloc((size_t)(m * m), sizeof(double)), *mz = calloc((size_t)(m * m), sizeof(double));
    double *t = calloc((size_t)(m * m), sizeof(double)), *u = calloc((size_t)(m * m), sizeof(double));
    double *gv = calloc((size_t)(m * d), sizeof(double)), *w = calloc((size_t)(m * d), sizeof(double));
    int rc = 0;
    if (!lq || !lk || !f || !g || !mm || !z || !mz || !t || !u || !gv || !w) {
        rc = ref_out_of_memory(h, "nystrom");
        goto done;
    }
    ref_landmarks(q, N, d, m, lq);
    ref_landmarks(k, N, d, m, lk);
#pragma omp parallel for schedule(static) if (count * m * d > REF_PARALLEL_WORK)
    for (int64_t r = 0; r < count; r++) { /* F = softmax(Q K̃ᵀ s), the rows computed */
        const double *qi = q + ref_row(h, r) * d;
        for (int64_t j = 0; j < m; j++) f[r * m + j] = h->scale * ref_dot(qi, lk + j * d, d);
        ref_softmax(f + r * m, m);
    }
    ref_softmax_rows(lq, m, lk, m, d, h->scale, mm);
    ref_softmax_rows(lq, m, k, N, d, h->scale, g);
    ref_pinv(mm, z, mz, t, u, m);
    ref_matmul(g, v, gv, m, N, d);  /* G V */
    ref_matmul(z, gv, w, m, m, d);  /* pinv(M) G V */
#pragma omp parallel for schedule(static) if (count * m * d > REF_PARALLEL_WORK)
    for (int64_t r = 0; r < count; r++) { /* F pinv(M) G V, as ref_matmul sums */
        double *oi = ref_out_row(h, o, r);
        for (int c = 0; c < d; c++) oi[c] = 0;
        for (int64_t j = 0; j < m; j++)
            for (int c = 0; c < d; c++) oi[c] += f[r * m + j] * w[j * d + c];
    }
done:
    free(lq);
    free(lk);
    free(f);
    free(g);
    free(mm);
    free(z);
    free(mz);
    free(t);
    free(u);
    free(gv);
    free(w);
    return rc;
}

/* softmax over the listed logits times the listed value rows.
 * logits, values: [n]  out: [d] */
static void ref_attend_listed(double *logits, const double *const *values, int64_t n, int d,
                              double *out)
{
    ref_softmax(logits, n);
    for (int c = 0; c < d; c++) out[c] = 0;
    for (int64_t t = 0; t < n; t++)
        for (int c = 0; c < d; c++) out[c] += logits[t] * values[t][c];
}

/* The `count` best of scores[0..n): `given` when an implementation's
 * selection is checked, else selected into `own`; copied to `record` when it
 * is not NULL (the caller wants what the reference chose). */
static const int32_t *ref_choose(const double *scores, int64_t n, int64_t count,
                                 const int32_t *given, int32_t *own, struct ref_ranked *ranked,
                                 int32_t *record)
{
    if (!given) ref_select_topk(scores, n, count, ranked, own);
    const int32_t *chosen = given ? given : own;
    if (record) memcpy(record, chosen, (size_t)count * sizeof(int32_t));
    return chosen;
}

static int ref_topk(const struct ref_head *h, const double *q, const double *k, const double *v,
                    double *o)
{
    const int64_t N = h->N, kk = h->k, count = ref_row_count(h);
    const int d = h->d;
    for (int64_t t = 0; h->given_keys && t < count; t++)
        if (ref_given_in_range(h, h->given_keys + ref_row(h, t) * kk, kk, N, "keys",
                               ref_row(h, t)))
            return -1;
    int failed = 0;
#pragma omp parallel if (count * N * d > REF_PARALLEL_WORK)
    {
        double *scores = malloc((size_t)N * sizeof(double));
        double *logits = malloc((size_t)kk * sizeof(double));
        const double **values = malloc((size_t)kk * sizeof(double *));
        int32_t *own = malloc((size_t)kk * sizeof(int32_t));
        struct ref_ranked *ranked = h->given_keys ? NULL : malloc((size_t)N * sizeof *ranked);
        const int ready = scores && logits && values && own && (h->given_keys || ranked);
        if (!ready) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic)
        for (int64_t t = 0; t < count; t++) {
            if (!ready) continue;
            const int64_t i = ref_row(h, t);
            const double *qi = q + i * d;
            for (int64_t j = 0; j < N; j++) scores[j] = ref_dot(qi, k + j * d, d);
            const int32_t *chosen =
                ref_choose(scores, N, kk, h->given_keys ? h->given_keys + i * kk : NULL, own,
                           ranked, h->chosen_keys ? h->chosen_keys + i * kk : NULL);
            for (int64_t j = 0; j < kk; j++) {
                logits[j] = h->scale * scores[chosen[j]];
                values[j] = v + chosen[j] * d;
            }
            ref_attend_listed(logits, values, kk, d, ref_out_row(h, o, t));
        }
        free(scores);
        free(logits);
        free(values);
        free(own);
        free(ranked);
    }
    return failed ? ref_out_of_memory(h, "topk") : 0;
}

static int ref_mita(const struct ref_head *h, const double *q, const double *k, const double *v,
                    double *o)
{
    const int64_t N = h->N, m = h->m, kk = h->k, width = m + h->s_r * kk,
                  count = ref_row_count(h);
    const int d = h->d, s_r = h->s_r;
    for (int64_t j = 0; h->given_keys && j < m; j++)
        if (ref_given_in_range(h, h->given_keys + j * kk, kk, N, "keys", j)) return -1;
    for (int64_t t = 0; h->given_routes && t < count; t++)
        if (ref_given_in_range(h, h->given_routes + ref_row(h, t) * s_r, s_r, m, "routes",
                               ref_row(h, t)))
            return -1;
    double *landmarks = calloc((size_t)(m * d), sizeof(double));        /* Q̃: [m,d] */
    double *shared_values = calloc((size_t)(m * d), sizeof(double));    /* V̂: [m,d] */
    int32_t *experts = calloc((size_t)(m * kk), sizeof(int32_t));       /* E: [m,k] */
    int failed = !landmarks || !shared_values || !experts;
    const int selects = !h->given_keys || !h->given_routes;
    if (!failed) {
        /* 1. landmark queries */
        ref_landmarks(q, N, d, m, landmarks);
        if (h->given_keys) memcpy(experts, h->given_keys, (size_t)(m * kk) * sizeof(int32_t));
#pragma omp parallel if (m * N * d > REF_PARALLEL_WORK)
        {
            double *row = malloc((size_t)N * sizeof(double)); /* a probe row, or R_i: m <= N */
            struct ref_ranked *ranked = selects ? malloc((size_t)N * sizeof *ranked) : NULL;
            int32_t *own_route = malloc((size_t)s_r * sizeof(int32_t));
            double *logits = malloc((size_t)width * sizeof(double));
            const double **values = malloc((size_t)width * sizeof(double *));
            const int ready = row && (ranked || !selects) && own_route && logits && values;
            if (!ready) {
#pragma omp atomic write
                failed = 1;
            }
            /* 2-4. probe P_j = q̃_j Kᵀ (unscaled), expert E_j = topk(P_j, k),
             * shared value V̂_j = softmax(P_j s) V */
#pragma omp for schedule(dynamic)
            for (int64_t j = 0; j < m; j++) {
                if (!ready) continue;
                for (int64_t t = 0; t < N; t++) row[t] = ref_dot(landmarks + j * d, k + t * d, d);
                if (!h->given_keys) ref_select_topk(row, N, kk, ranked, experts + j * kk);
                for (int64_t t = 0; t < N; t++) row[t] *= h->scale;
                ref_softmax(row, N);
                double *shared = shared_values + j * d; /* each summed over t in order */
                for (int c = 0; c < d; c++) shared[c] = 0;
                for (int64_t t = 0; t < N; t++)
                    for (int c = 0; c < d; c++) shared[c] += row[t] * v[t * d + c];
            }
            /* (the loop's barrier: every expert and V̂ is there before a query reads them) */
#pragma omp for schedule(dynamic)
            for (int64_t t = 0; t < count; t++) {
                if (!ready) continue;
                const int64_t i = ref_row(h, t);
                const double *qi = q + i * d;
                /* 5. routing: R_i = q_i Q̃ᵀ, the s_r best experts */
                for (int64_t j = 0; j < m; j++) row[j] = ref_dot(qi, landmarks + j * d, d);
                const int32_t *route = ref_choose(
                    row, m, s_r, h->given_routes ? h->given_routes + i * s_r : NULL, own_route,
                    ranked, h->chosen_routes ? h->chosen_routes + i * s_r : NULL);

                /* 6-7. the shared block, then the gathered keys of each routed
                 * expert, duplicates kept */
                int64_t n = 0;
                if (!h->route_only)
                    for (int64_t j = 0; j < m; j++) {
                        logits[n] = h->shared_scale * row[j];
                        values[n++] = shared_values + j * d;
                    }
                for (int r = 0; r < s_r; r++)
                    for (int64_t e = 0; e < kk; e++) {
                        int32_t key = experts[route[r] * kk + e];
                        logits[n] = h->scale * ref_dot(qi, k + key * d, d);
                        values[n++] = v + key * d;
                    }
                ref_attend_listed(logits, values, n, d, ref_out_row(h, o, t));
            }
            free(row);
            free(ranked);
            free(own_route);
            free(logits);
            free(values);
        }
        if (!failed && h->chosen_keys)
            memcpy(h->chosen_keys, experts, (size_t)(m * kk) * sizeof(int32_t));
    }
    free(landmarks);
    free(shared_values);
    free(experts);
    return failed ? ref_out_of_memory(h, "mita") : 0;
}

/* ---- the table ---- */

/* What a method selects, and so how its struct attn_selection is laid out. */
enum ref_selects {
    REF_SELECTS_NOTHING,
    REF_SELECTS_PER_QUERY, /* topk: keys [B,H,N,k] */
    REF_SELECTS_EXPERTS,   /* mita: keys [B,H,m,k], routes [B,H,N,s_r] */
};

static const struct ref_method {
    struct attn_method rules; /* the identity (methods.h): name, variants, uses */
    ref_head_fn run;
    enum ref_selects selects;
} ref_methods[] = {
    {{ATTN_IDENTITY_FULL(attn_full_variants)}, ref_full, REF_SELECTS_NOTHING},
    {{ATTN_IDENTITY_LINEAR}, ref_linear, REF_SELECTS_NOTHING},
    {{ATTN_IDENTITY_AGENT}, ref_agent, REF_SELECTS_NOTHING},
    {{ATTN_IDENTITY_NYSTROM}, ref_nystrom, REF_SELECTS_NOTHING},
    {{ATTN_IDENTITY_TOPK}, ref_topk, REF_SELECTS_PER_QUERY},
    {{ATTN_IDENTITY_MITA}, ref_mita, REF_SELECTS_EXPERTS},
};

enum { REF_METHOD_COUNT = sizeof ref_methods / sizeof ref_methods[0] };

int attn_reference_known(const char *name)
{
    for (int i = 0; i < REF_METHOD_COUNT; i++)
        if (strcmp(ref_methods[i].rules.name, name) == 0) return 1;
    return 0;
}

/* The method called `name` and valid for (p, a), or NULL with `why`. */
static const struct ref_method *ref_method_for(const char *name, const struct attn_problem *p,
                                               const struct attn_params *a, char *why,
                                               size_t why_len)
{
    const struct ref_method *rm = NULL;
    for (int i = 0; i < REF_METHOD_COUNT; i++)
        if (strcmp(ref_methods[i].rules.name, name) == 0) rm = &ref_methods[i];
    if (!rm) {
        snprintf(why, why_len, "no reference for method '%s' (have: full linear agent nystrom "
                               "topk mita)", name);
        return NULL;
    }
    /* full's variants name implementations (flash, naive, a backend's kernel
     * versions) of one definition: the reference computes it for all. */
    struct attn_params definition = *a;
    if (strcmp(name, "full") == 0) definition.variant = NULL;
    if (attn_validate_common(&rm->rules, p, &definition, why, why_len)) return NULL;
    if (rm->selects != REF_SELECTS_NOTHING && attn_validate_int32_indices(p, why, why_len))
        return NULL;
    return rm;
}

const char *attn_reference_variant(const char *name, const char *variant)
{
    for (int i = 0; variant && i < REF_METHOD_COUNT; i++) {
        const struct attn_method *rules = &ref_methods[i].rules;
        if (strcmp(rules->name, name) != 0 || strcmp(name, "full") == 0) continue;
        for (const char *const *v = rules->variants; v && *v; v++)
            if (strcmp(*v, variant) == 0) return variant;
    }
    return NULL;
}

int attn_reference_check(const char *name, const struct attn_problem *p,
                         const struct attn_params *a, char *why, size_t why_len)
{
    return ref_method_for(name, p, a, why, why_len) ? 0 : -1;
}

double attn_selection_tolerance(int d) { return 1e-4 * d; }

/* Elements of one batch-head's keys / routes in a struct attn_selection. */
static int64_t ref_keys_per_head(const struct ref_method *rm, const struct attn_problem *p,
                                 const struct attn_params *a)
{
    return (rm->selects == REF_SELECTS_PER_QUERY ? p->N : a->m) * a->k;
}

static int64_t ref_routes_per_head(const struct attn_problem *p, const struct attn_params *a)
{
    return p->N * a->s_r;
}

/* Which rows of each head a call computes: `rows` (row_count of them, output
 * compact) or every row_step-th (output in place). */
struct ref_rows {
    const int64_t *rows;
    int64_t row_count, row_step;
};

/* Runs the method's reference head by head; rows of o per head: row_count
 * with a list, else N. */
static int ref_run(const char *name, const struct attn_problem *p, const struct attn_params *a,
                   const double *q, const double *k, const double *v, double *o,
                   const struct attn_selection *given, struct attn_selection *chosen,
                   struct ref_rows rows, char *why, size_t why_len)
{
    const struct ref_method *rm = ref_method_for(name, p, a, why, why_len);
    if (!rm) return -1;
    const int64_t head = p->N * p->d;
    const int64_t out_head = (rows.rows ? rows.row_count : p->N) * p->d;
    const double s = 1.0 / sqrt((double)p->d);
    struct ref_head h = {
        .N = p->N, .m = a->m, .k = a->k, .d = p->d, .s_r = a->s_r,
        .rows = rows.rows, .row_count = rows.row_count, .row_step = rows.row_step,
        .route_only = a->variant && strcmp(a->variant, "route_only") == 0,
        .scale = s,
        .shared_scale = a->shared_scale == ATTN_SHARED_PAPER ? s : s * s,
        .why = why, .why_len = why_len,
    };
    const bool selects = rm->selects != REF_SELECTS_NOTHING;
    const bool routes = rm->selects == REF_SELECTS_EXPERTS;
    const int64_t keys_per_head = selects ? ref_keys_per_head(rm, p, a) : 0;
    const int64_t routes_per_head = routes ? ref_routes_per_head(p, a) : 0;

    for (int64_t bh = 0; bh < (int64_t)p->B * p->H; bh++) {
        h.bh = bh;
        h.given_keys = selects && given && given->keys ? given->keys + bh * keys_per_head : NULL;
        h.given_routes =
            routes && given && given->routes ? given->routes + bh * routes_per_head : NULL;
        h.chosen_keys =
            selects && chosen && chosen->keys ? chosen->keys + bh * keys_per_head : NULL;
        h.chosen_routes =
            routes && chosen && chosen->routes ? chosen->routes + bh * routes_per_head : NULL;
        int rc = rm->run(&h, q + bh * head, k + bh * head, v + bh * head, o + bh * out_head);
        if (rc) return rc;
    }
    return 0;
}

void attn_selection_sizes(const char *name, const struct attn_problem *p,
                          const struct attn_params *a, int64_t *keys, int64_t *routes)
{
    const int64_t heads = (int64_t)p->B * p->H;
    *keys = *routes = 0;
    for (int i = 0; i < REF_METHOD_COUNT; i++) {
        const struct ref_method *rm = &ref_methods[i];
        if (strcmp(rm->rules.name, name) != 0 || rm->selects == REF_SELECTS_NOTHING) continue;
        *keys = heads * ref_keys_per_head(rm, p, a);
        if (rm->selects == REF_SELECTS_EXPERTS) *routes = heads * ref_routes_per_head(p, a);
    }
}

int attn_reference(const char *name, const struct attn_problem *p, const struct attn_params *a,
                   const double *q, const double *k, const double *v, double *o,
                   const struct attn_selection *given, struct attn_selection *chosen,
                   char *why, size_t why_len)
{
    return ref_run(name, p, a, q, k, v, o, given, chosen, (struct ref_rows){.row_step = 1}, why,
                   why_len);
}

int attn_reference_sampled(const char *name, const struct attn_problem *p,
                           const struct attn_params *a, const double *q, const double *k,
                           const double *v, double *o, const struct attn_selection *given,
                           struct attn_selection *chosen, int64_t row_step, char *why,
                           size_t why_len)
{
    if (row_step < 1 || (row_step > 1 && chosen)) {
        snprintf(why, why_len, "reference: row_step=%" PRId64 " (need >= 1, and 1 when the "
                 "selection is exported)", row_step);
        return -1;
    }
    return ref_run(name, p, a, q, k, v, o, given, chosen, (struct ref_rows){.row_step = row_step},
                   why, why_len);
}

/* 0 when rows[0..count) are increasing rows of [0, N), else a message. */
static int ref_rows_valid(const int64_t *rows, int64_t count, int64_t N, char *why,
                          size_t why_len)
{
    for (int64_t t = 0; t < count; t++)
        if (rows[t] < 0 || rows[t] >= N || (t > 0 && rows[t] <= rows[t - 1])) {
            snprintf(why, why_len, "reference: row %" PRId64 " of the list is %" PRId64
                     " (need increasing rows in [0, %" PRId64 "))", t, rows[t], N);
            return -1;
        }
    return 0;
}

int attn_reference_rows(const char *name, const struct attn_problem *p,
                        const struct attn_params *a, const double *q, const double *k,
                        const double *v, const int64_t *rows, int64_t row_count, double *o,
                        const struct attn_selection *given, char *why, size_t why_len)
{
    if (ref_rows_valid(rows, row_count, p->N, why, why_len)) return -1;
    return ref_run(name, p, a, q, k, v, o, given, NULL,
                   (struct ref_rows){.rows = rows, .row_count = row_count}, why, why_len);
}

/* ---- checking ---- */

double attn_rel_error(const double *out, const double *ref, int64_t n)
{
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < n; i++) {
        /* A non-finite reference cannot vouch for anything either. */
        if (!isfinite(out[i]) || !isfinite(ref[i])) return INFINITY;
        diff += (out[i] - ref[i]) * (out[i] - ref[i]);
        norm += ref[i] * ref[i];
    }
    if (norm == 0) return diff == 0 ? 0 : INFINITY;
    return sqrt(diff / norm);
}

double attn_error_bound(enum attn_dtype t)
{
    switch (t) {
    case ATTN_FP32: return 1e-4;
    case ATTN_FP16: return 5e-3;
    case ATTN_BF16: return 2e-2;
    }
    return 0;
}

/* One selection row against its scores: indices in [0, n), distinct, and
 * no unchosen score above the lowest chosen one by more than tol; with
 * best_first, also in order (within tol). `mark` is [n] zeroes and is left
 * so. Writes what is wrong to `detail`.
 * scores: [n]  chosen: [count]  mark: [n] */
static int ref_check_set(const double *scores, int64_t n, const int32_t *chosen, int64_t count,
                         bool best_first, double tol, unsigned char *mark, const char *what,
                         char *detail, size_t detail_len)
{
    int rc = 0;
    for (int64_t c = 0; c < count && rc == 0; c++) {
        int32_t idx = chosen[c];
        if (idx < 0 || idx >= n) {
            snprintf(detail, detail_len, "%s %" PRId32 " at position %" PRId64
                     " is out of range (need 0 <= %s < %" PRId64 ")", what, idx, c, what, n);
            rc = -1;
        } else if (mark[idx]) {
            snprintf(detail, detail_len, "%s %" PRId32 " is chosen twice", what, idx);
            rc = -1;
        } else {
            mark[idx] = 1;
        }
    }
    if (rc == 0 && count < n) {
        int64_t lowest_chosen = chosen[0], best_unchosen = -1;
        for (int64_t c = 1; c < count; c++)
            if (scores[chosen[c]] < scores[lowest_chosen]) lowest_chosen = chosen[c];
        for (int64_t j = 0; j < n; j++)
            if (!mark[j] && (best_unchosen < 0 || scores[j] > scores[best_unchosen]))
                best_unchosen = j;
        if (scores[best_unchosen] > scores[lowest_chosen] + tol) {
            snprintf(detail, detail_len,
                     "%s %" PRId64 " (score %.9g) is chosen but %s %" PRId64
                     " (score %.9g) is not (tol %g)",
                     what, lowest_chosen, scores[lowest_chosen], what, best_unchosen,
                     scores[best_unchosen], tol);
            rc = -1;
        }
    }
    for (int64_t c = 0; rc == 0 && best_first && c + 1 < count; c++) {
        if (scores[chosen[c + 1]] > scores[chosen[c]] + tol) {
            snprintf(detail, detail_len,
                     "not best first: %s %" PRId32 " (score %.9g) follows %s %" PRId32
                     " (score %.9g) (tol %g)",
                     what, chosen[c + 1], scores[chosen[c + 1]], what, chosen[c],
                     scores[chosen[c]], tol);
            rc = -1;
        }
    }
    for (int64_t c = 0; c < count; c++)
        if (chosen[c] >= 0 && chosen[c] < n) mark[chosen[c]] = 0;
    return rc;
}

/* The first offending set of a check whose sets are shared among threads:
 * the lowest index wins, so that the message does not depend on them. */
struct ref_first_bad {
    int64_t index;
    char why[512];
};

static void ref_note_bad(struct ref_first_bad *bad, int64_t index, const char *fmt, ...)
{
#pragma omp critical(ref_first_bad)
    if (index < bad->index) {
        bad->index = index;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(bad->why, sizeof bad->why, fmt, ap);
        va_end(ap);
    }
}

/* attn_check_selection on the rows `rows` says (topk's per-query sets;
 * mita's experts and routes are always checked whole). */
static int ref_check_selection(const char *name, const struct attn_problem *p,
                               const struct attn_params *a, const double *q, const double *k,
                               const struct attn_selection *sel, double tol,
                               struct ref_rows rows, char *why, size_t why_len)
{
    const struct ref_method *rm = ref_method_for(name, p, a, why, why_len);
    if (!rm) return -1;
    if (rm->selects == REF_SELECTS_NOTHING) {
        snprintf(why, why_len, "%s makes no selection (topk and mita do)", name);
        return -1;
    }
    const bool experts = rm->selects == REF_SELECTS_EXPERTS;
    if (!sel->keys || (experts && !sel->routes)) {
        snprintf(why, why_len, "%s: selection->%s is NULL", name, sel->keys ? "routes" : "keys");
        return -1;
    }

    const int64_t N = p->N, head = N * p->d, m = experts ? a->m : 0;
    const int d = p->d;
    const int64_t keys_per_head = ref_keys_per_head(rm, p, a);
    const struct ref_head rows_of = {.N = N, .rows = rows.rows, .row_count = rows.row_count,
                                     .row_step = rows.row_step};
    /* The sets checked per head: topk's query rows; mita's m experts, then
     * its N queries' routes. */
    const int64_t sets = experts ? m + N : ref_row_count(&rows_of);
    double *landmarks = experts ? calloc((size_t)(m * d), sizeof(double)) : NULL;
    if (experts && !landmarks) {
        snprintf(why, why_len, "%s selection check: out of memory (N=%" PRId64 ")", name, N);
        return -1;
    }

    int rc = 0;
    for (int64_t bh = 0; bh < (int64_t)p->B * p->H && rc == 0; bh++) {
        const double *qh = q + bh * head, *kh = k + bh * head;
        const int32_t *keys = sel->keys + bh * keys_per_head;
        const int32_t *routes = experts ? sel->routes + bh * ref_routes_per_head(p, a) : NULL;
        /* The head, in messages, when there is more than one. */
        char head_name[32] = "";
        if ((int64_t)p->B * p->H > 1)
            snprintf(head_name, sizeof head_name, "b=%d h=%d ", (int)(bh / p->H),
                     (int)(bh % p->H));
        if (experts) ref_landmarks(qh, N, d, m, landmarks);
        struct ref_first_bad bad = {.index = INT64_MAX};
        int failed = 0;
#pragma omp parallel if (sets * N * d > REF_PARALLEL_WORK)
        {
            double *scores = malloc((size_t)N * sizeof(double));
            unsigned char *mark = calloc((size_t)N, 1);
            char detail[256];
            if (!scores || !mark) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(dynamic)
            for (int64_t s = 0; s < sets; s++) {
                if (!scores || !mark) continue;
                if (!experts) {
                    /* topk: each query's keys against S_i = q_i·K */
                    const int64_t i = ref_row(&rows_of, s);
                    for (int64_t t = 0; t < N; t++) scores[t] = ref_dot(qh + i * d, kh + t * d, d);
                    if (ref_check_set(scores, N, keys + i * a->k, a->k, false, tol, mark, "key",
                                      detail, sizeof detail))
                        ref_note_bad(&bad, s, "topk: %squery %" PRId64 ": %s", head_name, i,
                                     detail);
                } else if (s < m) {
                    /* mita: each expert's keys against P_j = q̃_j·K */
                    for (int64_t t = 0; t < N; t++)
                        scores[t] = ref_dot(landmarks + s * d, kh + t * d, d);
                    if (ref_check_set(scores, N, keys + s * a->k, a->k, false, tol, mark, "key",
                                      detail, sizeof detail))
                        ref_note_bad(&bad, s, "mita: %sexpert %" PRId64 ": %s", head_name, s,
                                     detail);
                } else {
                    /* mita: each query's routes against R_i = q_i·q̃, best first */
                    const int64_t i = s - m;
                    for (int64_t j = 0; j < m; j++)
                        scores[j] = ref_dot(qh + i * d, landmarks + j * d, d);
                    if (ref_check_set(scores, m, routes + i * a->s_r, a->s_r, true, tol, mark,
                                      "expert", detail, sizeof detail))
                        ref_note_bad(&bad, s, "mita: %squery %" PRId64 " routes: %s",
                                     head_name, i, detail);
                }
            }
            free(scores);
            free(mark);
        }
        if (failed) {
            snprintf(why, why_len, "%s selection check: out of memory (N=%" PRId64 ")", name, N);
            rc = -1;
        } else if (bad.index != INT64_MAX) {
            snprintf(why, why_len, "%s", bad.why);
            rc = -1;
        }
    }
    free(landmarks);
    return rc;
}

int attn_check_selection(const char *name, const struct attn_problem *p,
                         const struct attn_params *a, const double *q, const double *k,
                         const struct attn_selection *sel, double tol, char *why,
                         size_t why_len)
{
    return ref_check_selection(name, p, a, q, k, sel, tol, (struct ref_rows){.row_step = 1}, why,
                               why_len);
}

int attn_check_selection_sampled(const char *name, const struct attn_problem *p,
                                 const struct attn_params *a, const double *q, const double *k,
                                 const struct attn_selection *sel, double tol, int64_t row_step,
                                 char *why, size_t why_len)
{
    if (row_step < 1) {
        snprintf(why, why_len, "selection check: row_step=%" PRId64 " (need >= 1)", row_step);
        return -1;
    }
    return ref_check_selection(name, p, a, q, k, sel, tol,
                               (struct ref_rows){.row_step = row_step}, why, why_len);
}

int attn_check_selection_rows(const char *name, const struct attn_problem *p,
                              const struct attn_params *a, const double *q, const double *k,
                              const struct attn_selection *sel, double tol, const int64_t *rows,
                              int64_t row_count, char *why, size_t why_len)
{
    if (ref_rows_valid(rows, row_count, p->N, why, why_len)) return -1;
    return ref_check_selection(name, p, a, q, k, sel, tol,
                               (struct ref_rows){.rows = rows, .row_count = row_count}, why,
                               why_len);
}
