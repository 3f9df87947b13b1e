/* test_budget.c — samples within the time budget (harness/measure/budget.h):
 * the suite's reps without a budget or a measured point of the series; as
 * many as fit, warm-up included, 3 at least; none when 3 do not fit; a
 * series is the same point but N, scaled by the FLOP model. */
#include <string.h>

#include "attn/registry.h"
#include "measure/budget.h"
#include "tests/harness/test_util.h"

static struct sweep_point full_point(int64_t N)
{
    struct sweep_point p;
    memset(&p, 0, sizeof p);
    snprintf(p.method, sizeof p.method, "full");
    snprintf(p.variant, sizeof p.variant, "flash");
    p.problem = (struct attn_problem){.B = 1, .H = 1, .N = N, .d = 64, .dtype = ATTN_FP32,
                                      .backend = ATTN_CPU, .seed = 1};
    return p;
}

/* An `ok` row of the point that took `ms` a run, with full's FLOP model. */
static struct result_row measured(struct sweep_point p, double ms)
{
    struct result_row r;
    memset(&r, 0, sizeof r);
    r.point = p;
    snprintf(r.status, sizeof r.status, "ok");
    r.flops_model = 4.0 * (double)p.problem.N * (double)p.problem.N * p.problem.d;
    r.ms_median = ms;
    return r;
}

static int samples_at(const struct budget *b, int64_t N)
{
    struct sweep_point p = full_point(N);
    return budget_samples(b, &p);
}

int main(void)
{
    struct budget b;
    /* No budget: always the suite's reps. */
    CHECK(budget_init(&b, 0, 10, 2, 4) == 0);
    struct result_row r = measured(full_point(1024), 1000.0);
    budget_record(&b, &r);
    CHECK(samples_at(&b, 2048) == 10);
    budget_free(&b);

    /* 100 s a point: 1 s at N=1024 predicts 4 s at 2048 (4N²d), 16 at
     * 4096, 64 at 8192; two of the runs that fit are the warm-up. */
    CHECK(budget_init(&b, 100, 10, 2, 4) == 0);
    CHECK(samples_at(&b, 2048) == 10); /* nothing measured yet */
    budget_record(&b, &r);
    CHECK(samples_at(&b, 2048) == 10); /* 25 - 2 fit, 10 asked */
    CHECK(samples_at(&b, 4096) == 4);  /* 6 - 2 fit */
    CHECK(samples_at(&b, 8192) == 0);  /* 1 - 2: not even 3 */
    b.seconds = 80;
    CHECK(samples_at(&b, 4096) == 3);  /* 5 - 2: the fewest */
    b.seconds = 100;
    /* Another series (d = 128) has no measured point: the suite's reps. */
    struct sweep_point other = full_point(8192);
    other.problem.d = 128;
    CHECK(budget_samples(&b, &other) == 10);
    /* A failed row teaches nothing. */
    struct result_row failed = measured(full_point(4096), 0.001);
    snprintf(failed.status, sizeof failed.status, "error:x");
    budget_record(&b, &failed);
    CHECK(samples_at(&b, 8192) == 0);
    budget_free(&b);
    return check_exit("test_budget");
}
