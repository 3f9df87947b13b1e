/* test_cpu_methods.c — one CPU method (argv[1]) against the double
 * reference, over every variant and a grid of awkward shapes: B·H > 1,
 * N not a multiple of m, k = 1 and k = N, m = 1 and m = N, d = 64 and odd
 * or small d, N = 1. Each case draws fresh seeded inputs, poisons the
 * workspace and the output, and must stay within the fp32 bound
 * (docs/correctness.md, "Error metric and bounds").
 *
 * For topk and mita the check has the two parts of docs/correctness.md
 * ("Selection-based methods"): (a) the exported
 * selection is valid (attn_check_selection) and (b) the output matches the
 * reference computed with that same selection.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_test.h"
#include "attn/method_call.h"
#include "attn/reference.h"

/* Scores are O(10) here and fp32 rounds them to ~1e-6: a wrong choice
 * beyond that is a bug, not a near-tie. */
#define SELECTION_TOL 1e-4

static const struct shape {
    int B, H;
    int64_t N;
    int d;
} shapes[] = {
    {2, 3, 100, 24}, /* B·H = 6 over 3 threads; N = 100 is not a multiple of m = 7 */
    {1, 2, 128, 64},
    {3, 1, 37, 5},   /* prime N, odd d below the 8-wide dot product */
    {1, 1, 1, 1},    /* the smallest problem: m = k = N = 1 */
};

/* Up to three distinct values from {1, mid, N} that are <= N. */
static int values_up_to(int64_t N, int64_t mid, int64_t out[3])
{
    int64_t candidates[3] = {1, mid, N};
    int count = 0;
    for (int i = 0; i < 3; i++) {
        int seen = candidates[i] > N;
        for (int j = 0; j < count; j++) seen |= out[j] == candidates[i];
        if (!seen) out[count++] = candidates[i];
    }
    return count;
}

static int selects(const struct attn_method *m) { return attn_method_has_selection(m); }

/* One case: returns 0 when it passes. */
static int check_case(const struct attn_method *m, const struct attn_problem *p,
                      const struct attn_params *a)
{
    char name[256], why[512];
    test_describe(m, p, a, name, sizeof name);
    struct test_inputs in;
    if (test_inputs_make(p, &in)) return -1;
    float *out = malloc((size_t)in.n * sizeof(float));
    double *ref = malloc((size_t)in.n * sizeof(double));
    struct attn_selection sel = {0};
    int rc = -1;
    if (!out || !ref || (selects(m) && test_selection_alloc(m->name, p, a, &sel))) {
        printf("FAIL %s: out of memory\n", name);
        goto done;
    }
    if (test_run_cpu(m, p, a, &in, out, selects(m) ? &sel : NULL)) {
        printf("     in %s\n", name);
        goto done;
    }
    if (selects(m) &&
        attn_check_selection(m->name, p, a, in.qd, in.kd, &sel, SELECTION_TOL, why, sizeof why)) {
        printf("FAIL %s: invalid selection: %s\n", name, why);
        goto done;
    }
    if (test_reference(m->name, p, a, &in, selects(m) ? &sel : NULL, NULL, ref)) goto done;
    double err = test_rel_error(out, ref, in.n), bound = attn_error_bound(ATTN_FP32);
    rc = err <= bound ? 0 : -1;
    printf("%s %s: rel_error %.2e (bound %.0e)%s\n", rc ? "FAIL" : "ok  ", name, err, bound,
           selects(m) ? ", selection valid, reference given it" : "");
done:
    test_inputs_free(&in);
    test_selection_free(&sel);
    free(out);
    free(ref);
    return rc;
}

int main(int argc, char **argv)
{
    const struct attn_method *m = argc == 2 ? test_cpu_method_named(argv[1]) : NULL;
    if (!m) {
        fprintf(stderr, "usage: %s full|linear|agent|nystrom|topk|mita\n", argv[0]);
        return 2;
    }
    /* More threads than batch-heads in some shapes, fewer in others: every
     * thread's scratch slice gets used. */
    omp_set_num_threads(3);

    /* A method without variants runs once, with variant NULL. */
    int variant_count = 0;
    while (m->variants && m->variants[variant_count]) variant_count++;
    const int runs_per_params = variant_count ? variant_count : 1;
    uint64_t seed = 1000;
    int cases = 0, failures = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int64_t N = shapes[s].N;
        int64_t ms[3] = {0}, ks[3] = {0};
        int m_count = m->uses & ATTN_USES_M ? values_up_to(N, 7, ms) : 1;
        int k_count = m->uses & ATTN_USES_K ? values_up_to(N, 5, ks) : 1;
        int s_r_max = m->uses & ATTN_USES_S_R ? 2 : 1;
        int scale_count = m->uses & ATTN_USES_SHARED_SCALE ? 2 : 1;
        for (int mi = 0; mi < m_count; mi++)
            for (int ki = 0; ki < k_count; ki++)
                for (int s_r = 1; s_r <= s_r_max && s_r <= (ms[mi] ? ms[mi] : 1); s_r++)
                    for (int sc = 0; sc < scale_count; sc++)
                        for (int vi = 0; vi < runs_per_params; vi++) {
                            struct attn_problem p = test_problem(shapes[s].B, shapes[s].H, N,
                                                                 shapes[s].d, seed++);
                            struct attn_params a = {
                                .m = ms[mi], .k = ks[ki],
                                .s_r = m->uses & ATTN_USES_S_R ? s_r : 0,
                                .variant = variant_count ? m->variants[vi] : NULL,
                                .shared_scale = (enum attn_shared_scale)sc,
                            };
                            cases++;
                            failures += check_case(m, &p, &a) != 0;
                        }
    }
    printf("%s: %d of %d cases passed\n", m->name, cases - failures, cases);
    return failures ? 1 : 0;
}
