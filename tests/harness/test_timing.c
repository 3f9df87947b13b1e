/* test_timing.c — the measurement rules (harness/measure/timing.h) on a
 * fake backend whose samples are known: a fixed count, the budget's cap,
 * the noise target, the minimum time, graph timing where there are no
 * graphs; the median's noise (core/stats.h) and the energy arithmetic. */
#include <math.h>
#include <string.h>

#include "measure/timing.h"
#include "tests/harness/test_util.h"

/* The fake's samples repeat this pattern (ms). */
static const double *pattern;
static int pattern_len, runs;

static int fake_time_run(struct backend *b, const struct attn_method *m, void *state,
                         const struct attn_tensors *t, double *ms, char *why, size_t why_len)
{
    *ms = pattern[runs++ % pattern_len];
    return 0;
}
static int fake_nothing(struct backend *b, char *why, size_t why_len) { return 0; }

static struct backend fake = {
    .kind = ATTN_CPU, .flush_cache = fake_nothing, .time_run = fake_time_run,
    .sync = fake_nothing,
};

static struct timing_result res;

/* Samples of the pattern under the rules; 0 or the error. */
static int sample(const double *p, int n, struct timing_rules r)
{
    pattern = p;
    pattern_len = n;
    runs = 0;
    struct device_info cpu = {.name = "fake"};
    char why[256];
    return timing_take_samples("fake", &fake, &cpu, NULL, NULL, NULL, &r, &res, why, sizeof why);
}

static struct timing_rules rules(int reps, double max_noise, int max_samples, double min_time)
{
    return timing_rules_for(ATTN_CPU, 2, reps, max_noise, 5, max_samples, min_time,
                            TIMING_EVENTS, 0);
}

int main(void)
{
    const double flat[] = {1.0};
    const double spread[] = {1.0, 3.0};
    const double ten_ms[] = {10.0};

    /* Fixed: the suite's reps, after the warm-up; the budget's cap says so. */
    CHECK(sample(flat, 1, rules(7, 0, 200, 0)) == 0);
    CHECK(res.n == 7 && res.stop == STOP_MAX_SAMPLES && runs == 2 + 7);
    struct timing_rules capped = rules(7, 0, 200, 0);
    capped.cap = 3;
    capped.capped_by_budget = 1;
    CHECK(sample(flat, 1, capped) == 0 && res.n == 3 && res.stop == STOP_BUDGET);
    CHECK(!strcmp(stop_reason_name(STOP_BUDGET), "budget"));

    /* A noise target: flat samples meet it once there are 6 (the fewest
     * with an interval); samples that spread 1..3 never meet 1%. */
    CHECK(sample(flat, 1, rules(7, 1.0, 200, 0)) == 0);
    CHECK(res.n == 6 && res.stop == STOP_NOISE && res.noise_pct == 0);
    CHECK(sample(spread, 2, rules(7, 1.0, 40, 0)) == 0);
    CHECK(res.n == 40 && res.stop == STOP_MAX_SAMPLES && res.noise_pct > 1.0);
    /* ... and it must also last min_time: 10 ms samples, 0.1 s. */
    CHECK(sample(ten_ms, 1, rules(7, 1.0, 200, 0.1)) == 0);
    CHECK(res.n == 10 && res.stop == STOP_NOISE);
    /* A minimum time and no noise target: "time". */
    CHECK(sample(ten_ms, 1, rules(7, 0, 200, 0.05)) == 0);
    CHECK(res.n == 5 && res.stop == STOP_TIME);

    /* Graph timing where there are no graphs: an error that says so. */
    struct timing_rules graph = rules(7, 0, 200, 0);
    graph.mode = TIMING_GRAPH;
    CHECK(sample(flat, 1, graph) != 0);

    /* No NVML on a CPU: no readings, no energy, and a note. */
    CHECK(sample(flat, 1, rules(3, 0, 200, 0)) == 0);
    CHECK(!res.has_readings && isnan(res.energy_j) && res.note[0]);

    /* The median's noise: the 95% interval's half-width over the median. */
    const double eleven[] = {10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 20};
    CHECK(isinf(sample_noise_pct(eleven, 5)));
    CHECK(sample_noise_pct(eleven, 10) == 0);
    const double ramp[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    /* ranks 2 and 9 of 10: (9 - 2) / 2 / 5.5 */
    CHECK(fabs(sample_noise_pct(ramp, 10) - 100.0 * 3.5 / 5.5) < 1e-9);

    /* Energy: 1500 mJ over 1000 forwards is 1.5 mJ each; 700 W for 2 ms is 1.4 J. */
    CHECK(fabs(timing_energy_from_counter(10000, 11500, 1000) - 1.5e-3) < 1e-12);
    CHECK(fabs(timing_energy_from_power(700, 2.0) - 1.4) < 1e-12);
    return check_exit("test_timing");
}
