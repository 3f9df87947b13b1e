/* test_cpu_selection.c — the selections of topk and mita:
 *   ties go to the lower index, in the CPU backend and in the reference
 *   (inputs built with exactly tied scores);
 *   the reference's own selection passes attn_check_selection with tol = 0;
 *   attn_check_selection rejects broken selections (a low key swapped in, a
 *   key chosen twice, an index out of range, routes not best first), and
 *   attn_reference rejects a given index out of range instead of reading it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_test.h"
#include "attn/reference.h"
#include "attn/registry.h"

/* Keys come in identical pairs (2j, 2j+1): every score ties with its
 * partner, so a selection that takes 2j+1 without 2j broke the tie rule.
 * sets: [rows, count] */
static int check_pairs_tie_low(const char *who, const int32_t *sets, int64_t rows,
                               int64_t count, int64_t N)
{
    unsigned char *taken = calloc((size_t)N, 1);
    int rc = taken ? 0 : -1;
    for (int64_t r = 0; r < rows && rc == 0; r++) {
        const int32_t *set = sets + r * count;
        for (int64_t t = 0; t < count; t++) taken[set[t]] = 1;
        for (int64_t j = 1; j < N && rc == 0; j += 2)
            if (taken[j] && !taken[j - 1]) {
                printf("FAIL %s: row %lld takes key %lld but not its tied partner %lld\n", who,
                       (long long)r, (long long)j, (long long)(j - 1));
                rc = -1;
            }
        for (int64_t t = 0; t < count; t++) taken[set[t]] = 0;
    }
    free(taken);
    if (rc == 0) printf("ok   %s: every tie went to the lower index\n", who);
    return rc;
}

/* K rows 2j+1 := K rows 2j, in every batch-head. */
static void pair_up_keys(const struct attn_problem *p, struct test_inputs *in)
{
    for (int64_t bh = 0; bh < (int64_t)p->B * p->H; bh++) {
        float *k = in->k + bh * p->N * p->d;
        for (int64_t j = 1; j < p->N; j += 2)
            memcpy(k + j * p->d, k + (j - 1) * p->d, (size_t)p->d * sizeof(float));
    }
    test_inputs_sync(in);
}

static int check_topk_ties(int64_t k)
{
    struct attn_problem p = test_problem(1, 2, 40, 16, 601 + (uint64_t)k);
    struct attn_params a = {.k = k};
    struct test_inputs in;
    struct attn_selection cpu = {0}, ref = {0};
    float *out = NULL;
    double *ref_out = NULL;
    char who[128];
    int rc = test_inputs_make(&p, &in);
    if (rc) return rc;
    pair_up_keys(&p, &in);
    out = malloc((size_t)in.n * sizeof(float));
    ref_out = malloc((size_t)in.n * sizeof(double));
    rc = out && ref_out ? 0 : -1;
    if (rc == 0) rc = test_selection_alloc("topk", &p, &a, &cpu);
    if (rc == 0) rc = test_selection_alloc("topk", &p, &a, &ref);
    if (rc == 0) rc = test_run_cpu(&attn_cpu_topk, &p, &a, &in, out, &cpu);
    if (rc == 0) rc = test_reference("topk", &p, &a, &in, NULL, &ref, ref_out);
    if (rc == 0) {
        int64_t rows = (int64_t)p.B * p.H * p.N;
        snprintf(who, sizeof who, "topk k=%lld, paired keys: cpu", (long long)k);
        rc |= check_pairs_tie_low(who, cpu.keys, rows, k, p.N);
        snprintf(who, sizeof who, "topk k=%lld, paired keys: reference", (long long)k);
        rc |= check_pairs_tie_low(who, ref.keys, rows, k, p.N);
    }
    test_selection_free(&cpu);
    test_selection_free(&ref);
    test_inputs_free(&in);
    free(out);
    free(ref_out);
    return rc;
}

/* Every query's routes must be the experts 0, 1, ..., s_r - 1.
 * routes: [rows, s_r] */
static int check_routes_lowest(const char *who, const int32_t *routes, int64_t rows, int s_r)
{
    for (int64_t i = 0; i < rows; i++)
        for (int r = 0; r < s_r; r++)
            if (routes[i * s_r + r] != r) {
                printf("FAIL %s: query %lld route %d is expert %d; all experts tie, so it must "
                       "be %d\n", who, (long long)i, r, routes[i * s_r + r], r);
                return -1;
            }
    printf("ok   %s: tied routes went to the lowest experts, best first\n", who);
    return 0;
}

/* Q rows repeat with the window length, so all m landmarks are the same
 * vector: every routing score ties, and so does every probe row. */
static int check_mita_ties(int s_r)
{
    struct attn_problem p = test_problem(2, 1, 32, 16, 611 + (uint64_t)s_r);
    struct attn_params a = {.m = 4, .k = 5, .s_r = s_r};
    const int64_t window = p.N / a.m;
    struct test_inputs in;
    struct attn_selection cpu = {0}, ref = {0};
    float *out = NULL;
    double *ref_out = NULL;
    char who[128];
    int rc = test_inputs_make(&p, &in);
    if (rc) return rc;
    for (int64_t row = 0; row < (int64_t)p.B * p.H * p.N; row++)
        if (row % p.N >= window)
            memcpy(in.q + row * p.d, in.q + (row - window) * p.d, (size_t)p.d * sizeof(float));
    pair_up_keys(&p, &in);
    out = malloc((size_t)in.n * sizeof(float));
    ref_out = malloc((size_t)in.n * sizeof(double));
    rc = out && ref_out ? 0 : -1;
    if (rc == 0) rc = test_selection_alloc("mita", &p, &a, &cpu);
    if (rc == 0) rc = test_selection_alloc("mita", &p, &a, &ref);
    if (rc == 0) rc = test_run_cpu(&attn_cpu_mita, &p, &a, &in, out, &cpu);
    if (rc == 0) rc = test_reference("mita", &p, &a, &in, NULL, &ref, ref_out);
    if (rc == 0) {
        int64_t heads = (int64_t)p.B * p.H;
        snprintf(who, sizeof who, "mita s_r=%d, equal landmarks: cpu", s_r);
        rc |= check_routes_lowest(who, cpu.routes, heads * p.N, s_r);
        rc |= check_pairs_tie_low(who, cpu.keys, heads * a.m, a.k, p.N);
        snprintf(who, sizeof who, "mita s_r=%d, equal landmarks: reference", s_r);
        rc |= check_routes_lowest(who, ref.routes, heads * p.N, s_r);
        rc |= check_pairs_tie_low(who, ref.keys, heads * a.m, a.k, p.N);
    }
    test_selection_free(&cpu);
    test_selection_free(&ref);
    test_inputs_free(&in);
    free(out);
    free(ref_out);
    return rc;
}

/* attn_check_selection must accept (expect_ok) or reject the selection. */
static int expect_check(const char *what, int expect_ok, const char *name,
                        const struct attn_problem *p, const struct attn_params *a,
                        const struct test_inputs *in, const struct attn_selection *sel,
                        double tol)
{
    char why[512] = "";
    int ok = attn_check_selection(name, p, a, in->qd, in->kd, sel, tol, why, sizeof why) == 0;
    int pass = ok == expect_ok;
    printf("%s %s: %s%s%s\n", pass ? "ok  " : "FAIL", what, ok ? "accepted" : "rejected",
           ok ? "" : ": ", why);
    return pass ? 0 : -1;
}

/* The key of query i with the lowest score q_i·k_t. q, k: [N,d] of one head */
static int32_t lowest_key(const double *q, const double *k, int64_t N, int d, int64_t i)
{
    int32_t lowest = 0;
    double lowest_score = 0;
    for (int64_t t = 0; t < N; t++) {
        double s = 0;
        for (int c = 0; c < d; c++) s += q[i * d + c] * k[t * d + c];
        if (t == 0 || s < lowest_score) {
            lowest = (int32_t)t;
            lowest_score = s;
        }
    }
    return lowest;
}

/* A checker case: inputs, the CPU method's output and selection (`sel`, which
 * the checks then break), and the reference's own selection and output. */
struct checker_case {
    struct attn_problem p;
    struct attn_params a;
    struct test_inputs in;
    struct attn_selection sel, own;
    float *out;
    double *ref;
};

/* Fills c (its p and a set) for `method`; 0, or nonzero with c to close anyway. */
static int checker_case_open(struct checker_case *c, const char *method,
                             const struct attn_method *cpu)
{
    int rc = test_inputs_make(&c->p, &c->in);
    if (rc) return rc;
    c->out = malloc((size_t)c->in.n * sizeof(float));
    c->ref = malloc((size_t)c->in.n * sizeof(double));
    rc = c->out && c->ref ? 0 : -1;
    if (rc == 0) rc = test_selection_alloc(method, &c->p, &c->a, &c->sel);
    if (rc == 0) rc = test_selection_alloc(method, &c->p, &c->a, &c->own);
    if (rc == 0) rc = test_run_cpu(cpu, &c->p, &c->a, &c->in, c->out, &c->sel);
    if (rc == 0) rc = test_reference(method, &c->p, &c->a, &c->in, NULL, &c->own, c->ref);
    return rc;
}

static void checker_case_close(struct checker_case *c)
{
    test_selection_free(&c->sel);
    test_selection_free(&c->own);
    test_inputs_free(&c->in);
    free(c->out);
    free(c->ref);
}

static int check_topk_checker(void)
{
    struct checker_case c = {.p = test_problem(1, 2, 50, 24, 621), .a = {.k = 6}};
    const struct attn_problem *p = &c.p;
    const struct attn_params *a = &c.a;
    char why[512];
    int rc = checker_case_open(&c, "topk", &attn_cpu_topk);
    if (rc == 0) {
        const int64_t i = 7; /* the query whose keys get broken */
        int32_t *keys = c.sel.keys + i * a->k;
        rc |= expect_check("topk: the reference's own selection, tol 0", 1, "topk", p, a, &c.in,
                           &c.own, 0);
        rc |= expect_check("topk: the cpu selection, tol 1e-4", 1, "topk", p, a, &c.in, &c.sel,
                           1e-4);
        keys[0] = lowest_key(c.in.qd, c.in.kd, p->N, p->d, i);
        rc |= expect_check("topk: the lowest key swapped in", 0, "topk", p, a, &c.in, &c.sel,
                           1e-4);
        keys[0] = keys[1];
        rc |= expect_check("topk: a key chosen twice", 0, "topk", p, a, &c.in, &c.sel, 1e-4);
        keys[0] = (int32_t)p->N;
        rc |= expect_check("topk: a key out of range", 0, "topk", p, a, &c.in, &c.sel, 1e-4);
        const int given_refused = attn_reference("topk", p, a, c.in.qd, c.in.kd, c.in.vd, c.ref,
                                                 &c.sel, NULL, why, sizeof why);
        printf("%s topk: reference given a key out of range: %s%s\n",
               given_refused ? "ok  " : "FAIL", given_refused ? "refused: " : "accepted",
               given_refused ? why : "");
        rc |= given_refused ? 0 : -1;
    }
    checker_case_close(&c);
    return rc;
}

static int check_mita_checker(void)
{
    struct checker_case c = {
        .p = test_problem(2, 1, 60, 16, 631),
        .a = {.m = 6, .k = 4, .s_r = 2, .shared_scale = ATTN_SHARED_PAPER},
    };
    const struct attn_problem *p = &c.p;
    const struct attn_params *a = &c.a;
    int rc = checker_case_open(&c, "mita", &attn_cpu_mita);
    if (rc == 0) {
        int32_t *route = c.sel.routes + 11 * a->s_r, *expert = c.sel.keys + 3 * a->k;
        rc |= expect_check("mita: the reference's own selection, tol 0", 1, "mita", p, a, &c.in,
                           &c.own, 0);
        rc |= expect_check("mita: the cpu selection, tol 1e-4", 1, "mita", p, a, &c.in, &c.sel,
                           1e-4);
        const int32_t first = route[0], second = route[1];
        route[0] = second;
        route[1] = first;
        rc |= expect_check("mita: routes not best first", 0, "mita", p, a, &c.in, &c.sel, 1e-4);
        route[0] = first;
        route[1] = (int32_t)a->m;
        rc |= expect_check("mita: a route out of range", 0, "mita", p, a, &c.in, &c.sel, 1e-4);
        route[1] = second;
        expert[1] = expert[0];
        rc |= expect_check("mita: an expert with a key twice", 0, "mita", p, a, &c.in, &c.sel,
                           1e-4);
    }
    checker_case_close(&c);
    return rc;
}

int main(void)
{
    int failures = 0, groups = 0;
    for (int64_t k = 1; k <= 5; k += 4, groups++) failures += check_topk_ties(k) != 0;
    for (int s_r = 1; s_r <= 2; s_r++, groups++) failures += check_mita_ties(s_r) != 0;
    failures += check_topk_checker() != 0;
    failures += check_mita_checker() != 0;
    groups += 2;
    printf("selection: %d of %d groups passed\n", groups - failures, groups);
    return failures ? 1 : 0;
}
