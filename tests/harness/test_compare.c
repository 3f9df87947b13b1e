/* test_compare.c — run against run (harness/results/compare.c): the Mann–Whitney
 * p-values against values worked out by hand, the smallest p the sample
 * counts allow, the verdicts on samples with a known change (by the test,
 * and by the ranges where the counts are too few for it), and two synthetic
 * runs with a planted slowdown, a planted speed-up, noise, a lost point,
 * points in one run only, few samples, and empty or unreadable samples: the
 * right verdict and reason for each, the summary line, and the exit status
 * of the gate; and points run by other kernels, named. */
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

static void test_min_p(void)
{
    /* 2 / C(na + nb, na): the two orderings with one side wholly below. */
    CHECK(near(mann_whitney_min_p(3, 3), 2.0 / 20));
    CHECK(near(mann_whitney_min_p(3, 4), 2.0 / 35));
    CHECK(near(mann_whitney_min_p(4, 3), 2.0 / 35));
    CHECK(near(mann_whitney_min_p(5, 5), 2.0 / 252));
    CHECK(near(mann_whitney_min_p(1, 20), 2.0 / 21));
    CHECK(mann_whitney_min_p(1, 1) == 1 && mann_whitney_min_p(0, 5) == 1);
    const double tiny = mann_whitney_min_p(200, 200);
    CHECK(tiny > 0 && tiny < 1e-100);
    /* The exact test reaches it: 3 against 3, apart. */
    const double low[] = {1, 2, 3}, high[] = {4, 5, 6};
    CHECK(near(mann_whitney_p(low, 3, high, 3), mann_whitney_min_p(3, 3)));
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

    /* One sample a side, 1% apart: the ranges are apart by less than the
     * 2% that counts, and the test cannot tell. */
    compare_samples(base, 1, fresh, 1, &defaults, &r);
    CHECK(r.verdict == COMPARE_UNJUDGED && r.by_ranges);
    CHECK_CONTAINS(r.reason, "apart by less than the 2% that counts");
}

/* Too few samples for the test to reach alpha: never "same"; slower or
 * faster only where the ranges stand apart, else unjudged. */
static void test_few_samples(void)
{
    struct compare_result r;
    const double base[] = {1.00, 1.02, 0.99};
    const double ten_times[] = {10.0, 10.3, 9.9}, tenth[] = {0.100, 0.103, 0.099};
    const double overlap[] = {1.01, 0.98, 1.4}, close_by[] = {1.03, 1.035, 1.04};

    /* 3 against 3, ten times slower: p can be no lower than 0.1. */
    compare_samples(base, 3, ten_times, 3, &defaults, &r);
    CHECK(r.verdict == COMPARE_SLOWER && r.by_ranges && near(r.p_min, 0.1));
    CHECK_CONTAINS(r.reason, "3 vs 3 samples: p >= 0.1 > alpha 0.05, judged by ranges: ");
    CHECK_CONTAINS(r.reason, "new's fastest +870.6% over base's slowest");
    compare_samples(base, 3, tenth, 3, &defaults, &r);
    CHECK(r.verdict == COMPARE_FASTER && r.by_ranges);
    CHECK_CONTAINS(r.reason, "new's slowest -89.6% under base's fastest");
    /* Overlapping ranges, 30% apart at the top: nothing can be said. */
    compare_samples(base, 3, overlap, 3, &defaults, &r);
    CHECK(r.verdict == COMPARE_UNJUDGED);
    CHECK_CONTAINS(r.reason, "judged by ranges: they overlap");
    /* A run against itself: unjudged, not "same". */
    compare_samples(base, 3, base, 3, &defaults, &r);
    CHECK(r.verdict == COMPARE_UNJUDGED);
    /* Apart, by less than min_effect (1.03 / 1.02 is 1%). */
    compare_samples(base, 3, close_by, 3, &defaults, &r);
    CHECK(r.verdict == COMPARE_UNJUDGED);
    CHECK_CONTAINS(r.reason, "apart by less than the 2% that counts");
    /* One sample a side, ten times slower. */
    compare_samples(base, 1, ten_times, 1, &defaults, &r);
    CHECK(r.verdict == COMPARE_SLOWER && r.p_min == 1);
    CHECK_CONTAINS(r.reason, "1 vs 1 samples: p >= 1 > alpha 0.05, judged by ranges");
    /* Ties put the normal approximation at p = 0.047 here; the counts
     * still cannot reach 0.05 exactly, so the ranges decide. */
    const double ones[] = {1, 1, 1}, twos[] = {2, 2, 2};
    CHECK(mann_whitney_p(ones, 3, twos, 3) < 0.05);
    compare_samples(ones, 3, twos, 3, &defaults, &r);
    CHECK(r.verdict == COMPARE_SLOWER && r.by_ranges);
    /* --alpha 0.1: 3 against 3 can reach it only at p = 0.1, not below. */
    struct compare_options loose = defaults;
    loose.alpha = 0.1;
    compare_samples(base, 3, overlap, 3, &loose, &r);
    CHECK_CONTAINS(r.reason, "p >= 0.1 >= alpha 0.1, judged by ranges");
    /* 3 against 5 can reach p = 2/56 < 0.05: the test decides. */
    const double five[] = {1.01, 0.98, 1.4, 1.0, 1.02};
    compare_samples(base, 3, five, 5, &defaults, &r);
    CHECK(r.verdict == COMPARE_SAME && !r.by_ranges);
    CHECK_CONTAINS(r.reason, "3 vs 5 samples: p ");
    CHECK_CONTAINS(r.reason, " >= alpha 0.05");
    /* No samples on a side: unjudged, with no median or change. */
    compare_samples(base, 3, base, 0, &defaults, &r);
    CHECK(r.verdict == COMPARE_UNJUDGED && isnan(r.ratio));
    CHECK_STR(r.reason, "no samples in new");
    compare_samples(base, 0, base, 0, &defaults, &r);
    CHECK_STR(r.reason, "no samples in either run");
}

/* The kernels column of the rows written next ("" as on the CPU). */
static const char *row_kernels = "";

/* A row of method `method` at N with `status`, `reps` samples given as
 * samples_ms text, and ms_median `median`. */
static void add_row_samples(struct csv_writer *w, const char *method, long N, const char *status,
                            int reps, double median, const char *samples)
{
    struct result_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.suite, sizeof r.suite, "unit");
    snprintf(r.point.method, sizeof r.point.method, "%s", method);
    snprintf(r.point.variant, sizeof r.point.variant, "v");
    r.point.problem = (struct attn_problem){.B = 1, .H = 2, .N = N, .d = 64, .dtype = ATTN_FP32,
                                            .backend = ATTN_CPU};
    snprintf(r.status, sizeof r.status, "%s", status);
    r.reps = reps;
    r.ms_median = median;
    snprintf(r.samples_ms, sizeof r.samples_ms, "%s", samples);
    snprintf(r.kernels, sizeof r.kernels, "%s", row_kernels);
    CHECK(csv_writer_row(w, &r) == 0);
}

/* A row of method `method` at N with `status` and, when ok, 8 samples
 * around `median`. */
static void add_row(struct csv_writer *w, const char *method, long N, double median,
                    const char *status)
{
    char text[256] = "";
    const int ok = strcmp(status, "ok") == 0;
    if (ok) {
        double s[8];
        samples_around(median, s, 8);
        size_t n = 0;
        for (int i = 0; i < 8; i++)
            n += (size_t)snprintf(text + n, sizeof text - n, "%s%.6g", i ? ";" : "", s[i]);
    }
    add_row_samples(w, method, N, status, ok ? 8 : 0, ok ? median : 0, text);
}

/* A point of an ok row and its samples_ms, as given. */
struct sampled_row {
    const char *method;
    long N;
    const char *samples;
};

/* Writes `rows` to `path` (csv_writer_open's `mode`); compare recomputes
 * the medians from the samples. */
static void write_sampled(const char *path, enum run_file_mode mode, const struct sampled_row *rows,
                          size_t count)
{
    char err[1024];
    struct csv_writer w;
    CHECK(csv_writer_open(&w, path, mode, NULL, NULL, err, sizeof err) == 0);
    for (size_t i = 0; i < count; i++)
        add_row_samples(&w, rows[i].method, rows[i].N, "ok", 3, 0, rows[i].samples);
    csv_writer_close(&w);
}
#define WRITE_SAMPLED(path, mode, ...)                                                    \
    write_sampled(path, mode, (const struct sampled_row[]){__VA_ARGS__},                  \
                  sizeof((const struct sampled_row[]){__VA_ARGS__}) / sizeof(struct sampled_row))

static int allow_unjudged; /* run_compare's --allow-unjudged */

static int run_compare(const char *base, const char *fresh, double threshold, char *out,
                       size_t out_len, char *err, size_t err_len)
{
    struct compare_options opt = defaults;
    opt.base_path = base;
    opt.new_path = fresh;
    opt.threshold = threshold;
    opt.allow_unjudged = allow_unjudged;
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
    CHECK_CONTAINS(out, "gate 5%: 1 slower beyond it, 1 lost, 0 unjudged -> FAIL\n");
    CHECK_CONTAINS(line_of(out, "full", 2048, line, sizeof line), "(beyond the threshold)");
    CHECK(run_compare(base, fresh, 0.25, out, sizeof out, err, sizeof err) == 1);
    CHECK_CONTAINS(out, "gate 25%: 0 slower beyond it, 1 lost, 0 unjudged -> FAIL");

    /* Without the lost point, a 25% gate passes a 20% slowdown; 5% does not. */
    CHECK(csv_writer_open(&w, scratch_path(calm, sizeof calm, dir, "calm.csv"),
                          RUN_FILE_NEW, NULL, NULL, err, sizeof err) == 0);
    add_row(&w, "full", 1024, 1.0, "ok");
    add_row(&w, "full", 2048, 4.8, "ok");
    csv_writer_close(&w);
    CHECK(run_compare(base, calm, 0.25, out, sizeof out, err, sizeof err) == 0);
    CHECK_CONTAINS(out, "gate 25%: 0 slower beyond it, 0 lost, 0 unjudged -> pass");
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

/* The runs: a budget cut points to 3 samples (or 1), and a row whose
 * samples are empty or unreadable; each is judged, or unjudged and said so,
 * and the gate fails on the slowdown and on the unjudged. */
static void test_few_sample_files(const char *dir)
{
    char base[1024], fresh[1024], err[1024], out[16384], line[512];
    WRITE_SAMPLED(scratch_path(base, sizeof base, dir, "few-base.csv"), RUN_FILE_NEW,
                  {"full", 1024, "1.0;1.02;0.99"}, {"full", 2048, "4.0"},
                  {"linear", 1024, "1.0;1.02;0.99"}, {"linear", 2048, "1.0;1.02;0.99"},
                  {"agent", 1024, "1.0;1.02;0.99"});
    WRITE_SAMPLED(scratch_path(fresh, sizeof fresh, dir, "few-new.csv"), RUN_FILE_NEW,
                  {"full", 1024, "10.0;10.3;9.9"},  /* 10x slower, 3 samples */
                  {"full", 2048, "40.0"},           /* 10x slower, 1 sample */
                  {"linear", 1024, "1.01;0.98;1.4"}, /* overlapping: unjudged */
                  {"linear", 2048, ""},             /* no samples */
                  {"agent", 1024, "1.0;fast;0.9"}); /* unreadable */

    CHECK(run_compare(base, fresh, 0.05, out, sizeof out, err, sizeof err) == 1);
    CHECK_CONTAINS(line_of(out, "full", 1024, line, sizeof line), "SLOWER");
    CHECK_CONTAINS(line, "3 vs 3 samples: p >= 0.1 > alpha 0.05, judged by ranges: new's "
                         "fastest +870.6% over base's slowest (beyond the threshold)");
    CHECK_CONTAINS(line_of(out, "full", 2048, line, sizeof line), "SLOWER");
    CHECK_CONTAINS(line, "1 vs 1 samples: p >= 1 > alpha 0.05, judged by ranges");
    CHECK_CONTAINS(line_of(out, "linear", 1024, line, sizeof line), "unjudged");
    CHECK_CONTAINS(line, "they overlap");
    /* Empty samples: never a -100% change, never "same". */
    line_of(out, "linear", 2048, line, sizeof line);
    CHECK_CONTAINS(line, "1.0000           -                  -  unjudged no samples in new");
    CHECK(!strstr(line, "-100"));
    CHECK_CONTAINS(line_of(out, "agent", 1024, line, sizeof line),
                   "unjudged new's samples_ms unreadable at 'fast;0.9'");
    CHECK_CONTAINS(out, "compare: 5 points in both: 2 slower, 0 faster, 0 same within noise, 3 "
                        "unjudged, 0 not ok");
    CHECK_CONTAINS(out, "gate 5%: 2 slower beyond it, 0 lost, 3 unjudged (--allow-unjudged to "
                        "pass) -> FAIL\n");

    /* Without the slowdowns (rows measured again: the last counts), the
     * unjudged alone fail the gate ... */
    WRITE_SAMPLED(fresh, RUN_FILE_RESUME, {"full", 1024, "1.0;1.02;0.99"}, {"full", 2048, "4.0"});
    CHECK(run_compare(base, fresh, 0.05, out, sizeof out, err, sizeof err) == 1);
    CHECK_CONTAINS(out, "gate 5%: 0 slower beyond it, 0 lost, 5 unjudged (--allow-unjudged to "
                        "pass) -> FAIL\n");
    /* ... unless allowed; without a gate the exit status is 0. */
    allow_unjudged = 1;
    CHECK(run_compare(base, fresh, 0.05, out, sizeof out, err, sizeof err) == 0);
    CHECK_CONTAINS(out, "gate 5%: 0 slower beyond it, 0 lost, 5 unjudged (allowed) -> pass\n");
    allow_unjudged = 0;
    CHECK(run_compare(base, fresh, -1, out, sizeof out, err, sizeof err) == 0);

    /* Unreadable samples in both runs, each named. */
    WRITE_SAMPLED(scratch_path(fresh, sizeof fresh, dir, "few-bad.csv"), RUN_FILE_NEW,
                  {"full", 1024, "1.0;;2.0"}, {"full", 2048, "1.0;2.0;"},
                  {"linear", 1024, "1.0;-2;3"}, {"linear", 2048, "nan;1"});
    CHECK(run_compare(fresh, fresh, -1, out, sizeof out, err, sizeof err) == 0);
    CHECK_CONTAINS(line_of(out, "full", 1024, line, sizeof line),
                   "unjudged base's samples_ms unreadable at ';2.0'; new's samples_ms "
                   "unreadable at ';2.0'");
    CHECK_CONTAINS(line_of(out, "full", 2048, line, sizeof line), "samples_ms ends in ';'");
    CHECK_CONTAINS(line_of(out, "linear", 1024, line, sizeof line), "unreadable at '-2;3'");
    CHECK_CONTAINS(line_of(out, "linear", 2048, line, sizeof line), "unreadable at 'nan;1'");
    CHECK_CONTAINS(out, "4 unjudged");
}

/* Points whose rows name other kernels (another version picked, another
 * build): both lists under the point's line, and a count in the summary;
 * rows without kernels (the CPU, an earlier file) say nothing. */
static void test_other_kernels(const char *dir)
{
    char base[1024], fresh[1024], err[1024], out[16384];
    struct csv_writer w;
    CHECK(csv_writer_open(&w, scratch_path(base, sizeof base, dir, "k-base.csv"), RUN_FILE_NEW,
                          NULL, NULL, err, sizeof err) == 0);
    row_kernels = "flash_w4<__nv_bfloat16, 64>";
    add_row(&w, "full", 1024, 1.0, "ok");
    add_row(&w, "full", 2048, 4.0, "ok");
    row_kernels = "";
    add_row(&w, "linear", 1024, 1.0, "ok");
    csv_writer_close(&w);
    CHECK(csv_writer_open(&w, scratch_path(fresh, sizeof fresh, dir, "k-new.csv"), RUN_FILE_NEW,
                          NULL, NULL, err, sizeof err) == 0);
    row_kernels = "flash_wgmma<__nv_bfloat16, 64, 0>";
    add_row(&w, "full", 1024, 0.7, "ok");
    row_kernels = "flash_w4<__nv_bfloat16, 64>";
    add_row(&w, "full", 2048, 4.0, "ok");
    row_kernels = "linear_out";
    add_row(&w, "linear", 1024, 1.0, "ok");
    row_kernels = "";
    csv_writer_close(&w);

    CHECK(run_compare(base, fresh, 0.05, out, sizeof out, err, sizeof err) == 0);
    CHECK_CONTAINS(out, "faster   ");
    CHECK_CONTAINS(out, "\n    kernels were: flash_w4<__nv_bfloat16, 64>\n    kernels now:  "
                        "flash_wgmma<__nv_bfloat16, 64, 0>\n");
    const char *first = strstr(out, "kernels were");
    CHECK(first && !strstr(first + 1, "kernels were")); /* one point only */
    CHECK_CONTAINS(out, "; 1 run by other kernels");
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
    test_min_p();
    test_verdicts();
    test_few_samples();
    test_files(dir);
    test_few_sample_files(dir);
    test_other_kernels(dir);
    test_bad_files(dir);
    scratch_remove(dir);
    return check_exit("test_compare");
}
