/* test_cpu_validate.c — what validate() of every CPU method refuses, and
 * that its message names the parameter at fault: zero sizes, k > N, m > N,
 * s_r > m (and zeros of each), fp16 and bf16 (the CPU backend is fp32),
 * an unknown variant, a non-CPU backend. Valid cases must pass, including
 * those whose unused parameters are left at zero. The reference refuses
 * the same shapes, and unknown methods.
 */
#include <stdio.h>
#include <string.h>

#include "cpu_test.h"
#include "attn/method_call.h"
#include "attn/reference.h"

static int expect(const struct attn_method *m, const struct attn_problem *p,
                  const struct attn_params *a, const char *label, const char *needle)
{
    char why[512] = "";
    const char *err = attn_method_validate(m, p, a, why, sizeof why);
    int pass = needle ? err && strstr(err, needle) : !err;
    printf("%s %s %s: %s%s%s\n", pass ? "ok  " : "FAIL", m->name, label,
           err ? "refused: " : "accepted", err ? err : "",
           !pass && needle ? (err ? " (should name it)" : " (should be refused)") : "");
    if (!pass && needle) printf("     expected a message containing '%s'\n", needle);
    return pass ? 0 : -1;
}

static int expect_reference_refuses(const char *name, const struct attn_problem *p,
                                    const struct attn_params *a, const char *label,
                                    const char *needle)
{
    char why[512] = "";
    double unused = 0;
    /* Refused before any tensor is touched, so none is passed. */
    int refused = attn_reference(name, p, a, &unused, &unused, &unused, &unused, NULL, NULL, why,
                                 sizeof why) != 0;
    int pass = refused && strstr(why, needle);
    printf("%s reference %s %s: %s%s\n", pass ? "ok  " : "FAIL", name, label,
           refused ? "refused: " : "accepted", why);
    return pass ? 0 : -1;
}

static int check_method(const struct attn_method *m)
{
    const struct attn_problem base = test_problem(1, 2, 64, 16, 1);
    const struct attn_params valid = {.m = 8, .k = 8, .s_r = 1};
    struct attn_problem p;
    struct attn_params a;
    int rc = 0;

    rc |= expect(m, &base, &valid, "m=8 k=8 s_r=1", NULL);
    for (const char *const *v = m->variants; v && *v; v++) {
        a = valid;
        a.variant = *v;
        char label[64];
        snprintf(label, sizeof label, "variant %s", *v);
        rc |= expect(m, &base, &a, label, NULL);
    }
    if (!(m->uses & (ATTN_USES_M | ATTN_USES_K | ATTN_USES_S_R))) {
        a = (struct attn_params){0};
        rc |= expect(m, &base, &a, "unused m, k, s_r left at 0", NULL);
    }

    p = base, p.B = 0, rc |= expect(m, &p, &valid, "B=0", "B=0");
    p = base, p.H = 0, rc |= expect(m, &p, &valid, "H=0", "H=0");
    p = base, p.N = 0, rc |= expect(m, &p, &valid, "N=0", "N=0");
    p = base, p.d = 0, rc |= expect(m, &p, &valid, "d=0", "d=0");
    p = base, p.dtype = ATTN_FP16, rc |= expect(m, &p, &valid, "fp16", "dtype=fp16");
    p = base, p.dtype = ATTN_FP16, rc |= expect(m, &p, &valid, "fp16 says what works", "fp32");
    p = base, p.dtype = ATTN_BF16, rc |= expect(m, &p, &valid, "bf16", "dtype=bf16");
    p = base, p.backend = ATTN_CUDA, rc |= expect(m, &p, &valid, "backend cuda", "backend=cuda");
    a = valid, a.variant = "bogus", rc |= expect(m, &base, &a, "variant bogus", "'bogus'");

    if (m->uses & ATTN_USES_M) {
        a = valid, a.m = base.N + 1, rc |= expect(m, &base, &a, "m > N", "m=65");
        a = valid, a.m = 0, rc |= expect(m, &base, &a, "m=0", "m=0");
    }
    if (m->uses & ATTN_USES_K) {
        a = valid, a.k = base.N + 1, rc |= expect(m, &base, &a, "k > N", "k=65");
        a = valid, a.k = 0, rc |= expect(m, &base, &a, "k=0", "k=0");
    }
    if (m->uses & ATTN_USES_S_R) {
        a = valid, a.s_r = (int)valid.m + 1, rc |= expect(m, &base, &a, "s_r > m", "s_r=9");
        a = valid, a.s_r = 0, rc |= expect(m, &base, &a, "s_r=0", "s_r=0");
    }
    if (m->uses & ATTN_USES_GATHER) {
        a = valid, a.gather = "fused", rc |= expect(m, &base, &a, "gather=fused", NULL);
        a = valid, a.gather = "vec16";
        rc |= expect(m, &base, &a, "gather=vec16 (a CUDA kernel)",
                     "gather=vec16: the CPU backend reads K_E and V_E in place; gather versions "
                     "are CUDA kernels");
    }
    return rc;
}

int main(void)
{
    int failures = 0, groups = 0;
    for (const struct attn_method *const *m = test_cpu_methods; *m; m++, groups++)
        failures += check_method(*m) != 0;

    const struct attn_problem base = test_problem(1, 1, 32, 8, 1);
    struct attn_params a = {.m = 4, .k = 33, .s_r = 1};
    int rc = 0;
    rc |= expect_reference_refuses("topk", &base, &a, "k > N", "k=33");
    a = (struct attn_params){.m = 33};
    rc |= expect_reference_refuses("nystrom", &base, &a, "m > N", "m=33");
    a = (struct attn_params){.m = 4, .k = 4, .s_r = 5};
    rc |= expect_reference_refuses("mita", &base, &a, "s_r > m", "s_r=5");
    a = (struct attn_params){.m = 4, .k = 4, .s_r = 1, .variant = "bogus"};
    rc |= expect_reference_refuses("mita", &base, &a, "variant bogus", "'bogus'");
    rc |= expect_reference_refuses("bogus", &base, &a, "unknown method", "'bogus'");
    failures += rc != 0;
    groups++;

    printf("validate: %d of %d groups passed\n", groups - failures, groups);
    return failures ? 1 : 0;
}
