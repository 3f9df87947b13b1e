/* test_compare.c — run against run (harness/results/compare.c): the Mann–Whitney
 * p-values against values worked out by hand, the verdicts on samples with
 * a known change, and two synthetic runs with a planted slowdown, a planted
 * speed-up, noise, a lost point and points in one run only: the right
 * verdict for each, the summary line, and the exit status of the gate. */
#include "results/compare.h"

#include <math.h>

#include "results/csv.h"
#include "test_util.h"

static const struct compare_options defaults = {.alpha = 0.05, .min_effect = 0.02,
                                                .threshold = -1};

static int near(double a, double b) { return fabs(a - b) <= 1e-9 * (1 + fabs(b)); }

static void test_mann_whitney(void)
{
    /* Exact: of the C(6,3) = 20 orderings, U = 0 once and U = 9 once. */
    const double low[] = {1, 2, 3}, high[] = {4, 5, 6};
    CHECK(near(mann_whitney_p(low, 3, high, 3), 2.0 / 20));
    CHECK(near(mann_whitney_p(high, 3, low, 3), 2.0 / 20));
    /* U = 3 for {1,3,5} against {2,4,6}: P(U <= 3) = 7/20, so p = 0.7. */
    const double odd[] = {1, 3, 5}, even[] = {2, 4, 6};
    CHECK(near(mann_whitney_p(odd, 3, even, 3), 0.7));
    /* Five against five, apart: 2 of C(10,5) = 252 orderings are as extreme. */
    const double a5[] = {1.0, 1.1, 1.2, 1.3, 1.4}, b5[] = {2.0, 2.1, 2.2, 2.3, 2.4};
    CHECK(near(mann_whitney_p(a5, 5, b5, 5), 2.0 / 252));
    /* All equal: no evidence of anything. */
    const double same[] = {1, 1, 1, 1};
    CHECK(mann_whitney_p(same, 4, same, 4) == 1);
    CHECK(mann_whitney_p(same, 0, same, 4) == 1);

    /* Large samples (the normal approximation): apart, and interleaved. */
    double x[60], y[60], z[60];
    for (int i = 0; i < 60; i++) {
        x[i] = 1.0 + 0.001 * i;
        y[i] = 2.0 + 0.001 * i;
        z[i] = 1.0 + 0.001 * i + 0.0005;
    }
    CHECK(mann_whitney_p(x, 60, y, 60) < 1e-15);
    CHECK(mann_whitney_p(x, 60, z, 60) > 0.8);
    /* With ties, z = (|U - n1 n2 / 2| - 1/2) / sigma, sigma from the tie-
     * corrected variance: {1,1,2,2} against {2,2,3,3}: U = 2, ties of 2, 4, 2
     * give sigma^2 = 16/12 * (9 - 72/56), z = 5.5 / sigma. */
    const double t1[] = {1, 1, 2, 2}, t2[] = {2, 2, 3, 3};
    double sigma = sqrt(16.0 / 12 * (9 - 72.0 / 56));
    CHECK(near(mann_whitney_p(t1, 4, t2, 4), erfc(5.5 / sigma / sqrt(2))));
}

/* Samples of a point around `median`, with a little spread. */
static void samples_around(double median, double *out, int n)
{
    for (int i = 0; i < n; i++) out[i] = median * (1 + 0.004 * ((i * 7) % 5 - 2));
}

static void test_verdicts(void)
{
    double base[10], fresh[10];
    struct compare_result r;
    samples_around(1.0, base, 10);

    samples_around(1.3, fresh, 10);
    compare_samples(base, 10, fresh, 10, &defaults, &r);
    CHECK(r.verdict == COMPARE_SLOWER);
    CHECK(near(r.ratio, 1.3) && r.p < 0.001);

    samples_around(0.7, fresh, 10);
    compare_samples(base, 10, fresh, 10, &defaults, &r);
    CHECK(r.verdict == COMPARE_FASTER);

    samples_around(1.0, fresh, 10);
    compare_samples(base, 10, fresh, 10, &defaults, &r);
    CHECK(r.verdict == COMPARE_SAME && r.p == 1);

    /* 1% slower, every sample: significant, but under the 2% that counts. */
    samples_around(1.01, fresh, 10);
    compare_samples(base, 10, fresh, 10, &defaults, &r);
    CHECK(r.p < 0.05 && r.verdict == COMPARE_SAME);
    struct compare_options strict = defaults;
    strict.min_effect = 0.005;
    compare_samples(base, 10, fresh, 10, &strict, &r);
    CHECK(r.verdict == COMPARE_SLOWER);

    /* 30% slower in the median, but the spreads overlap: noise. */
    const double wide_base[] = {1.0, 2.0, 0.5, 1.5, 3.0}, wide_new[] = {1.9, 0.6, 2.5, 2.1, 3.1};
    compare_samples(wide_base, 5, wide_new, 5, &defaults, &r);
    CHECK(r.ratio > 1.2 && r.verdict == COMPARE_SAME);

    /* One sample a side: no spread to judge by. */
    compare_samples(base, 1, fresh, 1, &defaults, &r);
    CHECK(r.verdict == COMPARE_UNJUDGED);
}

/* A row of method `method` at N with `status` and samples around `median`. */
static void add_row(struct csv_writer *w, const char *method, long N, double median,
                    const char *status)
{
    struct result_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.suite, sizeof r.suite, "unit");
    snprintf(r.point.method, sizeof r.point.method, "%s", method);
    snprintf(r.point.variant, sizeof r.point.variant, "v");
    r.point.problem = (struct attn_problem){.B = 1, .H = 2, .N = N, .d = 64, .dtype = ATTN_FP32,
                                            .backend = ATTN_CPU};
    snprintf(r.status, sizeof r.status, "%s", status);
    if (strcmp(status, "ok") == 0) {
        double s[8];
        samples_around(median, s, 8);
        r.reps = 8;
        r.ms_median = median;
        size_t n = 0;
        for (int i = 0; i < 8; i++)
            n += (size_t)snprintf(r.samples_ms + n, sizeof r.samples_ms - n, "%s%.6g",
                                  i ? ";" : "", s[i]);
    }
    CHECK(csv_writer_row(w, &r) == 0);
}

static int run_compare(const char *base, const char *fresh, double threshold, char *out,
                       size_t out_len, char *err, size_t err_len)
{
    struct compare_options opt = defaults;
    opt.base_path = base;
    opt.new_path = fresh;
    opt.threshold = threshold;
    char *out_text = NULL, *err_text = NULL;
    size_t a = 0, b = 0;
    FILE *fo = open_memstream(&out_text, &a), *fe = open_memstream(&err_text, &b);
    int rc = compare_files(&opt, fo, fe);
    fclose(fo);
    fclose(fe);
    snprintf(out, out_len, "%s", out_text);
    snprintf(err, err_len, "%s", err_text);
    free(out_text);
    free(err_text);
    return rc;
}

/* The line of the output that names `method` at N. */
static const char *line_of(const char *out, const char *method, long N, char *line, size_t len)
{
    char want[64];
    snprintf(want, sizeof want, "%s/v fp32 B=1 H=2 N=%ld ", method, N);
    const char *at = strstr(out, want);
    line[0] = '\0';
    if (at) snprintf(line, len, "%.*s", (int)strcspn(at, "\n"), at);
    return line;
}

static void test_files(const char *dir)
{
    char base[1024], fresh[1024], calm[1024], err[1024], out[16384], line[256];
    struct csv_writer w;
    CHECK(csv_writer_open(&w, scratch_path(base, sizeof base, dir, "base.csv"),
                          RUN_FILE_NEW, NULL, NULL, err, sizeof err) == 0);
    add_row(&w, "full", 1024, 1.0, "ok");
    add_row(&w, "full", 2048, 4.0, "ok");
    add_row(&w, "linear", 1024, 0.5, "ok");
    add_row(&w, "linear", 2048, 1.0, "ok");
    add_row(&w, "topk", 1024, 2.0, "ok");        /* lost in the new run */
    add_row(&w, "agent", 1024, 0.3, "ok");       /* only in the base run */
    add_row(&w, "nystrom", 1024, 0.0, "oom");    /* not comparable */
    csv_writer_close(&w);
    CHECK(csv_writer_open(&w, scratch_path(fresh, sizeof fresh, dir, "new.csv"),
                          RUN_FILE_NEW, NULL, NULL, err, sizeof err) == 0);
    add_row(&w, "full", 1024, 1.0, "ok");        /* same */
    add_row(&w, "full", 2048, 4.8, "ok");        /* planted: 20% slower */
    add_row(&w, "linear", 1024, 0.35, "ok");     /* planted: 30% faster */
    add_row(&w, "linear", 2048, 1.005, "ok");    /* same within noise */
    add_row(&w, "topk", 1024, 0.0, "error:boom");
    add_row(&w, "nystrom", 1024, 0.0, "oom");
    add_row(&w, "mita", 1024, 0.4, "ok");        /* only in the new run */
    csv_writer_close(&w);

    CHECK(run_compare(base, fresh, -1, out, sizeof out, err, sizeof err) == 0);
    CHECK_CONTAINS(line_of(out, "full", 2048, line, sizeof line), "+20.0%");
    CHECK_CONTAINS(line, "SLOWER");
    CHECK_CONTAINS(line_of(out, "linear", 1024, line, sizeof line), "-30.0%");
    CHECK_CONTAINS(line, "faster");
    CHECK_CONTAINS(line_of(out, "full", 1024, line, sizeof line), "same");
    CHECK_CONTAINS(line_of(out, "linear", 2048, line, sizeof line), "same");
    CHECK_CONTAINS(line_of(out, "topk", 1024, line, sizeof line), "LOST");
    CHECK_CONTAINS(line_of(out, "nystrom", 1024, line, sizeof line), "not comparable");
    CHECK_CONTAINS(out, "compare: 6 points in both: 1 slower, 1 faster, 2 same within noise, 0 "
                        "unjudged, 2 not ok; 1 only in ");
    CHECK_CONTAINS(out, ", 1 only in ");
    CHECK(!strstr(out, "gate"));

    /* The gate: 20% is beyond 5%, and a point was lost. */
    CHECK(run_compare(base, fresh, 0.05, out, sizeof out, err, sizeof err) == 1);
    CHECK_CONTAINS(out, "gate 5%: 1 slower beyond it, 1 lost -> FAIL\n");
    CHECK_CONTAINS(line_of(out, "full", 2048, line, sizeof line), "(beyond the threshold)");
    CHECK(run_compare(base, fresh, 0.25, out, sizeof out, err, sizeof err) == 1);
    CHECK_CONTAINS(out, "gate 25%: 0 slower beyond it, 1 lost -> FAIL");

    /* Without the lost point, a 25% gate passes a 20% slowdown; 5% does not. */
    CHECK(csv_writer_open(&w, scratch_path(calm, sizeof calm, dir, "calm.csv"),
                          RUN_FILE_NEW, NULL, NULL, err, sizeof err) == 0);
    add_row(&w, "full", 1024, 1.0, "ok");
    add_row(&w, "full", 2048, 4.8, "ok");
    csv_writer_close(&w);
    CHECK(run_compare(base, calm, 0.25, out, sizeof out, err, sizeof err) == 0);
    CHECK_CONTAINS(out, "gate 25%: 0 slower beyond it, 0 lost -> pass");
    CHECK(run_compare(base, calm, 0.05, out, sizeof out, err, sizeof err) == 1);
    /* A run against itself: nothing changed. */
    CHECK(run_compare(base, base, 0.05, out, sizeof out, err, sizeof err) == 0);
    CHECK_CONTAINS(out, "compare: 7 points in both: 0 slower, 0 faster, 6 same within noise");

    /* A point measured again later in a file: the last row counts. */
    CHECK(csv_writer_open(&w, calm, RUN_FILE_RESUME, NULL, NULL, err, sizeof err) == 0);
    add_row(&w, "full", 2048, 4.0, "ok");
    csv_writer_close(&w);
    CHECK(run_compare(base, calm, 0.05, out, sizeof out, err, sizeof err) == 0);
    CHECK_CONTAINS(out, "0 slower, 0 faster, 2 same within noise");
    CHECK_CONTAINS(out, "1 repeated rows (the last of each point counts)");
}

static void test_bad_files(const char *dir)
{
    char base[1024], other[1024], err[1024], out[8192];
    struct csv_writer w;
    CHECK(csv_writer_open(&w, scratch_path(base, sizeof base, dir, "b.csv"),
                          RUN_FILE_NEW, NULL, NULL, err, sizeof err) == 0);
    add_row(&w, "full", 1024, 1.0, "ok");
    csv_writer_close(&w);

    scratch_write(scratch_path(other, sizeof other, dir, "nosamples.csv"),
                  "suite,method,status\nunit,full,ok\n");
    CHECK(run_compare(base, other, 0.05, out, sizeof out, err, sizeof err) == 2);
    CHECK_CONTAINS(err, "nosamples.csv: no 'samples_ms' column");

    scratch_write(other, "suite,method,status,samples_ms\nunit,full,ok,1;2\n");
    CHECK(run_compare(other, base, 0.05, out, sizeof out, err, sizeof err) == 2);
    CHECK_CONTAINS(err, "nosamples.csv: a point column is missing");

    CHECK(run_compare(base, scratch_path(other, sizeof other, dir, "absent.csv"), 0.05, out,
                      sizeof out, err, sizeof err) == 2);
    CHECK_CONTAINS(err, "absent.csv: cannot open");

    /* Nothing in common: no comparison at all. */
    CHECK(csv_writer_open(&w, scratch_path(other, sizeof other, dir, "disjoint.csv"),
                          RUN_FILE_NEW, NULL, NULL, err, sizeof err) == 0);
    add_row(&w, "linear", 1024, 1.0, "ok");
    csv_writer_close(&w);
    CHECK(run_compare(base, other, 0.05, out, sizeof out, err, sizeof err) == 2);
    CHECK_CONTAINS(err, "have no point in common");
}

int main(void)
{
    char dir[512];
    scratch_make(dir, sizeof dir);
    test_mann_whitney();
    test_verdicts();
    test_files(dir);
    test_bad_files(dir);
    scratch_remove(dir);
    return check_exit("test_compare");
}
