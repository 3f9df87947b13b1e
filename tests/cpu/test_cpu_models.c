/* test_cpu_models.c — the pure operations besides validate(): flops() and
 * bytes() give the models of docs/work-models.md for the whole problem, and
 * workspace_bytes() has the shape each method promises: full:naive grows as
 * N² (the point of the variant), full:flash not at all, topk as N·k (the
 * exported keys), mita as N·s_r + m·k.
 */
#include <math.h>
#include <stdio.h>

#include "cpu_test.h"
#include "attn/method_call.h"
#include "attn/registry.h"
#include "attn/work_models.h"

static int expect_equal(const char *what, double got, double want)
{
    int pass = fabs(got - want) <= 1e-9 * fabs(want);
    printf("%s %s: %.6g (want %.6g)\n", pass ? "ok  " : "FAIL", what, got, want);
    return pass ? 0 : -1;
}

static int check_work_models(void)
{
    const struct attn_problem p = test_problem(2, 3, 1000, 24, 1);
    const struct attn_params a = {.m = 16, .k = 32, .s_r = 2};
    const double heads = 6, N = 1000, d = 24, m = 16, k = 32, s_r = 2, floor4 = 4 * heads * N * d * 4;
    int rc = 0;
    rc |= expect_equal("full flops 4 N² d", attn_method_flops(&attn_cpu_full, &p, &a),
                       heads * 4 * N * N * d);
    rc |= expect_equal("linear flops 4 N d²", attn_method_flops(&attn_cpu_linear, &p, &a),
                       heads * 4 * N * d * d);
    rc |= expect_equal("agent flops 8 N m d", attn_method_flops(&attn_cpu_agent, &p, &a),
                       heads * 8 * N * m * d);
    rc |= expect_equal("nystrom flops 8 N m d + 4 m² d + 6 (4 m³)",
                       attn_method_flops(&attn_cpu_nystrom, &p, &a),
                       heads * (8 * N * m * d + 4 * m * m * d + 6 * 4 * m * m * m));
    rc |= expect_equal("topk flops 2 N² d + 4 N k d", attn_method_flops(&attn_cpu_topk, &p, &a),
                       heads * (2 * N * N * d + 4 * N * k * d));
    rc |= expect_equal("mita flops 6 m N d + 4 N (m + s_r k) d",
                       attn_method_flops(&attn_cpu_mita, &p, &a),
                       heads * (6 * m * N * d + 4 * N * (m + s_r * k) * d));
    for (const struct attn_method *const *mm = test_cpu_methods; *mm; mm++) {
        int mita = *mm == &attn_cpu_mita;
        char what[64];
        snprintf(what, sizeof what, "%s bytes %s B H N d sizeof(fp32)", (*mm)->name,
                 mita ? "6" : "4");
        rc |= expect_equal(what, attn_method_bytes(*mm, &p, &a), mita ? floor4 * 1.5 : floor4);
    }
    /* With a gather version: K_E and V_E written, then read, besides the gather's floor. */
    struct attn_params g = a;
    g.gather = "fused";
    rc |= expect_equal("mita bytes with gather=fused: the six passes",
                       attn_bytes_mita(&p, &g), floor4 * 1.5);
    g.gather = "vec16";
    rc |= expect_equal("mita bytes with gather=vec16: + B H m k (6 d sizeof + 4)",
                       attn_bytes_mita(&p, &g), floor4 * 1.5 + heads * m * k * (6 * d * 4 + 4));
    return rc;
}

/* workspace_bytes at N and 2N: the growth a method promises. */
static int expect_growth(const char *what, const struct attn_method *m, const char *variant,
                         double lo, double hi)
{
    struct attn_problem p = test_problem(1, 4, 1024, 64, 1);
    struct attn_params a = {.m = 32, .k = 64, .s_r = 2, .variant = variant};
    double at_n = (double)attn_method_workspace_bytes(m, &p, &a);
    p.N *= 2;
    double at_2n = (double)attn_method_workspace_bytes(m, &p, &a);
    double ratio = at_2n / at_n;
    int pass = ratio >= lo && ratio <= hi;
    printf("%s %s: workspace %.0f -> %.0f bytes when N doubles (x%.2f, want x%.2f..%.2f)\n",
           pass ? "ok  " : "FAIL", what, at_n, at_2n, ratio, lo, hi);
    return pass ? 0 : -1;
}

static int check_workspaces(void)
{
    int rc = 0;
    rc |= expect_growth("full:naive grows as N²", &attn_cpu_full, "naive", 3.9, 4.0);
    rc |= expect_growth("full:flash does not grow with N", &attn_cpu_full, "flash", 1.0, 1.0);
    rc |= expect_growth("linear does not grow with N", &attn_cpu_linear, NULL, 1.0, 1.0);
    rc |= expect_growth("topk grows as N", &attn_cpu_topk, NULL, 1.9, 2.0);
    rc |= expect_growth("mita grows at most as N", &attn_cpu_mita, NULL, 1.5, 2.0);
    return rc;
}

int main(void)
{
    int failures = (check_work_models() != 0) + (check_workspaces() != 0);
    printf("models: %d of 2 groups passed\n", 2 - failures);
    return failures ? 1 : 0;
}
