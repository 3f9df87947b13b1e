/* test_check.c — the checker itself (harness/check/check.c) on the CPU backend:
 * a correct method passes, also at an N where only sampled rows are
 * compared; a method that leaves an output element unwritten, or computes
 * the wrong function, fails with a message that says so. */
#include <math.h>

#include "check/check.h"
#include "attn/method_call.h"
#include "attn/registry.h"
#include "test_util.h"

/* A copy of the CPU `linear` method whose run() corrupts its output, so
 * that the reference exists but the answer is wrong or incomplete. */
static struct attn_method broken;
static int corrupt_mode; /* 1: leave element 7 unwritten; 2: scale every element by 1.01 */

static int broken_run(void *state, const struct attn_tensors *t, void *stream)
{
    int rc = attn_method_run(&attn_cpu_linear, state, t, stream);
    float *o = t->o;
    if (corrupt_mode == 1) o[7] = NAN;
    if (corrupt_mode == 2)
        for (int i = 0; i < 2 * 300 * 64; i++) o[i] *= 1.01f;
    return rc;
}

/* The CPU method refuses other backends; it is asked as the CPU it is. */
static const char *broken_validate(const struct attn_problem *p, const struct attn_params *a,
                                   char *why, size_t why_len)
{
    struct attn_problem on_cpu = *p;
    on_cpu.backend = ATTN_CPU;
    return attn_method_validate(&attn_cpu_linear, &on_cpu, a, why, why_len);
}

static int broken_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                        void *workspace, char *why, size_t why_len)
{
    struct attn_problem on_cpu = *p;
    on_cpu.backend = ATTN_CPU;
    return attn_method_setup(&attn_cpu_linear, state, &on_cpu, a, workspace, why, why_len);
}

static struct sweep_point point(const char *method, int64_t N)
{
    struct sweep_point p = {0};
    snprintf(p.method, sizeof p.method, "%s", method);
    p.problem = (struct attn_problem){1, 2, N, 64, ATTN_FP32, ATTN_CPU, 42};
    p.params = (struct attn_params){.m = 16, .k = 16, .s_r = 1};
    return p;
}

int main(void)
{
    struct backend *b = backend_get(ATTN_CPU);
    struct device_info info;
    char why[256];
    CHECK(b->init(b, &info, why, sizeof why) == 0);
    struct check_result r;

    struct sweep_point ok = point("mita", 300);
    check_point(&ok, b, &r);
    CHECK(r.passed);
    CHECK(r.rel_error < 1e-5);

    /* N = 4096: rows sampled every 8th, still a pass, still every element checked written */
    CHECK(check_row_step(4096) == 8);
    CHECK(check_row_step(1024) == 1);
    struct sweep_point large = point("topk", 4096);
    check_point(&large, b, &r);
    CHECK(r.passed);
    CHECK(r.unwritten == 0);

    /* The broken method, registered under the name the reference knows
     * ("linear") but on a backend slot no built-in uses here. */
    broken = attn_cpu_linear;
    broken.backend = ATTN_CUDA;
    broken.run = broken_run;
    broken.validate = broken_validate;
    broken.setup = broken_setup;
    const struct attn_method *add[] = {&broken, NULL};
    if (!attn_method_find("linear", ATTN_CUDA)) {
        CHECK(attn_registry_append(add) == 0);
        struct sweep_point bad = point("linear", 300);
        bad.problem.backend = ATTN_CUDA; /* finds `broken`; memory still on b, the CPU */
        corrupt_mode = 1;
        check_point(&bad, b, &r);
        CHECK(!r.passed);
        CHECK(r.unwritten == 1);
        CHECK_CONTAINS(r.message, "not finite");
        corrupt_mode = 2;
        check_point(&bad, b, &r);
        CHECK(!r.passed);
        CHECK(r.rel_error > 5e-3 && r.rel_error < 2e-2);
        CHECK_CONTAINS(r.message, "exceeds");
    }
    printf("%s\n", check_failures ? "FAILED" : "all passed");
    return check_failures ? 1 : 0;
}
