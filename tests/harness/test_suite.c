/* test_suite.c — the `.suite` format (harness/sweep/suite.c): good files, every
 * error and its file:line, command-line overrides, expansion and lookup. */
#include "sweep/suite.h"

#include <errno.h>
#include <stdlib.h>

#include "test_util.h"

static int axis_is(const struct suite_values *a, int count, const int64_t *want)
{
    if (a->count != count) return 0;
    for (int i = 0; i < count; i++)
        if (a->values[i] != want[i]) return 0;
    return 1;
}
#define AXIS_IS(axis, ...)                                                           \
    axis_is(&(axis), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
            (int64_t[]){__VA_ARGS__})

static void test_defaults(void)
{
    struct suite s;
    suite_init_defaults(&s);
    CHECK(s.method_count == 6);
    CHECK_STR(s.methods[0].name, "full");
    CHECK_STR(s.methods[5].name, "mita");
    CHECK_STR(s.methods[5].variant, "");
    CHECK(AXIS_IS(s.axes[AXIS_N], 1024, 2048, 4096));
    CHECK(AXIS_IS(s.axes[AXIS_B], 1) && AXIS_IS(s.axes[AXIS_H], 8) && AXIS_IS(s.axes[AXIS_D], 64));
    CHECK(AXIS_IS(s.axes[AXIS_M], 64) && AXIS_IS(s.axes[AXIS_K], 64) && AXIS_IS(s.axes[AXIS_S_R], 1));
    CHECK(s.axes[AXIS_DTYPE].count == 1 && s.axes[AXIS_DTYPE].values[0] == ATTN_FP32);
    CHECK(s.axes[AXIS_SHARED_SCALE].count == 1 && s.axes[AXIS_SHARED_SCALE].values[0] == ATTN_SHARED_OFFICIAL);
    CHECK(!s.backend_set);
    CHECK(s.reps == 10 && s.warmup == 2 && s.budget_s <= 0 && s.timeout_s == 0 && s.seed == 1);
    CHECK_STR(s.name, "default");
}

static void test_every_key(void)
{
    static const char text[] =
        "# a suite that sets every key\n"
        "\n"
        "name     everything   # trailing comment\n"
        "describe N from 2^10 to 2^20, two dtypes\n"
        "methods  full:flash, full:naive linear mita:route_only,topk\n"
        "seqlen   2^10..2^20\n"
        "   B 1,2\n"
        "H 8 16\n"
        "d 64\r\n"
        "dtype bf16, fp16\n"
        "m 32..256\n"
        "k 64, 2^7\n"
        "s_r 1 2\n"
        "shared_scale official paper\n"
        "backend cuda\n"
        "reps 20\n"
        "warmup 0\n"
        "budget 2.5\n"
        "timeout 90.5\n"
        "verify yes\n"
        "seed 18446744073709551615"; /* no final newline: fine for a suite */
    struct suite s;
    char err[512] = "";
    CHECK(suite_parse_text(text, "every.suite", &s, err, sizeof err) == 0);
    CHECK_STR(err, "");
    CHECK_STR(s.name, "everything");
    CHECK_STR(s.description, "N from 2^10 to 2^20, two dtypes");
    CHECK_STR(s.path, "");
    CHECK(s.method_count == 5);
    CHECK_STR(s.methods[0].name, "full");
    CHECK_STR(s.methods[0].variant, "flash");
    CHECK_STR(s.methods[1].variant, "naive");
    CHECK_STR(s.methods[2].name, "linear");
    CHECK_STR(s.methods[2].variant, "");
    CHECK_STR(s.methods[3].name, "mita");
    CHECK_STR(s.methods[3].variant, "route_only");
    CHECK_STR(s.methods[4].name, "topk");
    CHECK(s.axes[AXIS_N].count == 11 && s.axes[AXIS_N].values[0] == 1024 && s.axes[AXIS_N].values[10] == 1 << 20);
    CHECK(AXIS_IS(s.axes[AXIS_B], 1, 2));
    CHECK(AXIS_IS(s.axes[AXIS_H], 8, 16));
    CHECK(AXIS_IS(s.axes[AXIS_D], 64));
    CHECK(s.axes[AXIS_DTYPE].count == 2 && s.axes[AXIS_DTYPE].values[0] == ATTN_BF16 && s.axes[AXIS_DTYPE].values[1] == ATTN_FP16);
    CHECK(AXIS_IS(s.axes[AXIS_M], 32, 64, 128, 256));
    CHECK(AXIS_IS(s.axes[AXIS_K], 64, 128));
    CHECK(AXIS_IS(s.axes[AXIS_S_R], 1, 2));
    CHECK(s.axes[AXIS_SHARED_SCALE].count == 2 && s.axes[AXIS_SHARED_SCALE].values[0] == ATTN_SHARED_OFFICIAL &&
          s.axes[AXIS_SHARED_SCALE].values[1] == ATTN_SHARED_PAPER);
    CHECK(s.backend_set && s.backend == ATTN_CUDA);
    CHECK(s.reps == 20 && s.warmup == 0 && s.budget_s == 2.5 && s.timeout_s == 90.5);
    CHECK(s.seed == UINT64_MAX);
    CHECK(s.verify == 1);
}

static void test_int_lists(void)
{
    struct suite_values a;
    char err[256];
    CHECK(suite_parse_int_list("64", &a, err, sizeof err) == 0 && AXIS_IS(a, 64));
    CHECK(suite_parse_int_list("64,128", &a, err, sizeof err) == 0 && AXIS_IS(a, 64, 128));
    CHECK(suite_parse_int_list("64 128", &a, err, sizeof err) == 0 && AXIS_IS(a, 64, 128));
    CHECK(suite_parse_int_list(" 64 ,\t128, ", &a, err, sizeof err) == 0 && AXIS_IS(a, 64, 128));
    CHECK(suite_parse_int_list("2^10..2^13", &a, err, sizeof err) == 0 &&
          AXIS_IS(a, 1024, 2048, 4096, 8192));
    CHECK(suite_parse_int_list("1024..8192", &a, err, sizeof err) == 0 &&
          AXIS_IS(a, 1024, 2048, 4096, 8192));
    CHECK(suite_parse_int_list("3..20", &a, err, sizeof err) == 0 && AXIS_IS(a, 3, 6, 12));
    CHECK(suite_parse_int_list("5..5", &a, err, sizeof err) == 0 && AXIS_IS(a, 5));
    CHECK(suite_parse_int_list("1, 2^3..2^4 100", &a, err, sizeof err) == 0 &&
          AXIS_IS(a, 1, 8, 16, 100));
    CHECK(suite_parse_int_list("2^40", &a, err, sizeof err) == 0 &&
          AXIS_IS(a, INT64_C(1) << 40));
    CHECK(suite_parse_int_list("1..2^40", &a, err, sizeof err) == 0 && a.count == 41);

    /* A failed parse leaves the list as it was. */
    a = (struct suite_values){.values = {7}, .count = 1};
    CHECK(suite_parse_int_list("2^41", &a, err, sizeof err) != 0 && AXIS_IS(a, 7));
    CHECK_CONTAINS(err, "'2^41' is too large (need <= 2^40)");
    CHECK(suite_parse_int_list("1099511627777", &a, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "too large");
    CHECK(suite_parse_int_list("2^100", &a, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "too large");
    CHECK(suite_parse_int_list("0x10", &a, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "'0x10' is not a number (need an integer such as 64");
    CHECK(suite_parse_int_list("-3", &a, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "'-3' is not a number");
    CHECK(suite_parse_int_list("1...4", &a, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "'1...4' is not a number");
    CHECK(suite_parse_int_list("0..8", &a, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "=0 (need >= 1)");
    CHECK(suite_parse_int_list("64..32", &a, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "'64..32' is an empty range (need start <= end)");
    CHECK(suite_parse_int_list("64 2^6", &a, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "64 is listed twice");
    CHECK(suite_parse_int_list(" , ", &a, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "empty list");

    char many[1024] = "";
    for (int i = 1; i <= SUITE_MAX_VALUES + 1; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%d ", i);
    CHECK(suite_parse_int_list(many, &a, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "more than 64 values");
}

/* Each bad text, the line its error must name, and a part of the message. */
static void test_errors(void)
{
    static const struct {
        const char *text;
        int line;
        const char *message;
    } cases[] = {
        {"seqlne 64\n", 1,
         "unknown key 'seqlne' (known: name, describe, methods, dtype, B, H, seqlen, d, m, k, "
         "s_r, shared_scale, inputs, gather, backend, reps, warmup, budget, timeout, seed, max_noise, "
         "min_samples, max_samples, min_time, timing, zip, verify)"},
        {"# comment\n\nB 1\nH 8\nb 2\n", 5, "unknown key 'b'"},
        {"B 0\n", 1, "B=0 (need >= 1)"},
        {"d 1\nB 2^31\n", 2, "B=2147483648 (need <= 2147483647)"},
        {"seqlen 2^10..2^x\n", 1, "'2^10..2^x' is not a number"},
        {"seqlen 2^41\n", 1, "'2^41' is too large (need <= 2^40)"},
        {"k 2^10..2^50\n", 1, "'2^10..2^50' is too large"},
        /* A power past 2^63 is too large, not wrapped round to a small value
         * ((2^32 + 1)^2 would wrap to 2^33 + 1; found by tests/fuzz). */
        {"seqlen 4294967297^2\n", 1, "'4294967297^2' is too large (need <= 2^40)"},
        {"m 28888888888^12\n", 1, "'28888888888^12' is too large"},
        {"seqlen 8192..1024\n", 1, "'8192..1024' is an empty range"},
        {"seqlen 64\nH 8\n  seqlen 128\n", 3, "'seqlen' given twice"},
        {"m   # none\n", 1, "empty list for 'm'"},
        {"methods\n", 1, "empty list for 'methods'"},
        {"methods full mita:\n", 1, "'mita:' is not a method (need name or name:variant"},
        {"methods :flash\n", 1, "':flash' is not a method"},
        {"methods a:b:c\n", 1, "'a:b:c' is not a method"},
        {"methods full, full\n", 1, "'full' is listed twice in 'methods'"},
        {"methods full:flash full:flash\n", 1, "'full:flash' is listed twice"},
        {"methods full@x=1\n", 1, "'full@x=1': need name:variant@axis=value+value"},
        {"methods full@d\n", 1, "'full@d': need name:variant@axis=value+value"},
        {"methods full@d=\n", 1, "'full@d=': need name:variant@axis=value+value"},
        {"methods full@dtype=bf16+fp17\n", 1, "'full@dtype=bf16+fp17': unknown dtype 'fp17'"},
        {"methods full@d=64+64\n", 1, "'full@d=64+64': 64 is listed twice"},
        {"dtype fp8\n", 1, "unknown dtype 'fp8' (known: fp32, fp16, bf16)"},
        {"dtype bf16 bf16\n", 1, "'bf16' is listed twice in 'dtype'"},
        {"shared_scale both\n", 1, "unknown shared_scale 'both' (known: official, paper)"},
        {"backend tpu\n", 1, "unknown backend 'tpu' (known: cpu, cuda)"},
        {"backend cpu cuda\n", 1, "'backend' takes one value, got another: 'cuda'"},
        {"backend\n", 1, "no value for 'backend'"},
        {"name two words\n", 1, "'name' takes one value"},
        {"describe   # nothing\n", 1, "no value for 'describe'"},
        {"reps 0\n", 1, "reps=0 (need >= 1)"},
        {"warmup many\n", 1, "'many' is not a number"},
        {"reps 2^40\n", 1, "reps=2^40 (need <= 200)"},
        {"reps 201\n", 1, "reps=201 (need <= 200)"},
        {"budget -1\n", 1, "budget=-1 (need >= 0 seconds"},
        {"budget soon\n", 1, "budget 'soon' is not a number"},
        {"timeout -5\n", 1, "timeout=-5 (need >= 0 seconds; 0: none)"},
        {"timeout never\n", 1, "timeout 'never' is not a number (need seconds"},
        {"timeout 10 20\n", 1, "'timeout' takes one value, got another: '20'"},
        {"seed 18446744073709551616\n", 1, "seed 18446744073709551616 is too large (need < 2^64)"},
        {"seed -1\n", 1, "seed '-1' is not a number"},
        {"verify maybe\n", 1, "verify 'maybe': need yes or no"},
        {"verify yes no\n", 1, "'verify' takes one value, got another: 'no'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct suite s;
        char err[1024] = "", where[64];
        snprintf(where, sizeof where, "suites/x.suite:%d: ", cases[i].line);
        CHECK(suite_parse_text(cases[i].text, "suites/x.suite", &s, err, sizeof err) != 0);
        CHECK(strncmp(err, where, strlen(where)) == 0);
        CHECK_CONTAINS(err, cases[i].message);
    }
}

static void test_parse_file(const char *dir)
{
    char path[1024], err[1024];
    struct suite s;
    scratch_write(scratch_path(path, sizeof path, dir, "short_seq.suite"),
                  "seqlen 128 256\nmethods full\n");
    CHECK(suite_parse_file(path, &s, err, sizeof err) == 0);
    CHECK_STR(s.path, path);
    CHECK_STR(s.name, "short_seq"); /* no `name` line: the file's name */
    CHECK(AXIS_IS(s.axes[AXIS_N], 128, 256));
    CHECK(AXIS_IS(s.axes[AXIS_H], 8)); /* the defaults stand where the file is silent */

    scratch_write(path, "name other\nmethods linear\n");
    CHECK(suite_parse_file(path, &s, err, sizeof err) == 0);
    CHECK_STR(s.name, "other");

    /* The methods are the one key without a default: a suite that leaves
     * them out, or an empty one, is refused with its file named. */
    char want[1100];
    scratch_write(path, "name other\nseqlen 256\n");
    CHECK(suite_parse_file(path, &s, err, sizeof err) != 0);
    snprintf(want, sizeof want, "%s: no 'methods' line: a suite names the methods it runs", path);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    scratch_write(path, "");
    CHECK(suite_parse_file(path, &s, err, sizeof err) != 0);
    snprintf(want, sizeof want, "%s: the suite is empty: a suite names the methods it runs", path);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    scratch_write(path, "# only a comment\n\n");
    CHECK(suite_parse_file(path, &s, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "the suite is empty");

    scratch_write(path, "# header\nB 1\nH 0\n");
    CHECK(suite_parse_file(path, &s, err, sizeof err) != 0);
    snprintf(want, sizeof want, "%s:3: H=0 (need >= 1)", path);
    CHECK_STR(err, want);

    scratch_path(path, sizeof path, dir, "missing.suite");
    CHECK(suite_parse_file(path, &s, err, sizeof err) != 0);
    CHECK_CONTAINS(err, path);
    CHECK_CONTAINS(err, strerror(ENOENT));
}

static void test_set(void)
{
    struct suite s;
    char err[1024];
    suite_init_defaults(&s);
    CHECK(suite_set(&s, "seqlen", "2^10..2^14", err, sizeof err) == 0);
    CHECK(AXIS_IS(s.axes[AXIS_N], 1024, 2048, 4096, 8192, 16384));
    CHECK(suite_set(&s, "methods", "full,mita:route_only", err, sizeof err) == 0);
    CHECK(s.method_count == 2);
    CHECK_STR(s.methods[1].name, "mita");
    CHECK_STR(s.methods[1].variant, "route_only");
    CHECK(suite_set(&s, "dtype", "bf16 fp16", err, sizeof err) == 0);
    CHECK(s.axes[AXIS_DTYPE].count == 2 && s.axes[AXIS_DTYPE].values[0] == ATTN_BF16);
    CHECK(suite_set(&s, "backend", "cuda", err, sizeof err) == 0);
    CHECK(s.backend_set && s.backend == ATTN_CUDA);
    CHECK(suite_set(&s, "reps", "3", err, sizeof err) == 0 && s.reps == 3);
    CHECK(suite_set(&s, "budget", "0", err, sizeof err) == 0 && s.budget_s == 0);
    CHECK(suite_set(&s, "timeout", "120", err, sizeof err) == 0 && s.timeout_s == 120);
    CHECK_STR(suite_flag_key("--timeout"), "timeout"); /* every setting is a flag too */
    CHECK(suite_set(&s, "name", "cli", err, sizeof err) == 0);
    CHECK_STR(s.name, "cli");

    /* Errors name the option and its value; the axis is left as it was. */
    CHECK(suite_set(&s, "seqlen", "2^x", err, sizeof err) != 0);
    CHECK_STR(err, "--seqlen '2^x': '2^x' is not a number (need an integer such as 64 or 2^10, "
                   "or a doubling range such as 2^10..2^14)");
    CHECK(AXIS_IS(s.axes[AXIS_N], 1024, 2048, 4096, 8192, 16384));
    CHECK(suite_set(&s, "m", "", err, sizeof err) != 0);
    CHECK_STR(err, "--m '': empty list for 'm'");
    CHECK(suite_set(&s, "seqlne", "64", err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--seqlne '64': unknown key 'seqlne' (known: name, describe");
    CHECK(suite_set(&s, "dtype", "fp8", err, sizeof err) != 0);
    CHECK(s.axes[AXIS_DTYPE].count == 2);
}

static void test_expand(void)
{
    struct suite s;
    char err[512];
    CHECK(suite_parse_text("methods full:naive mita\n"
                           "dtype fp32 bf16\n"
                           "B 1 2\n"
                           "seqlen 256 512 1024\n"
                           "m 16\nk 32\ns_r 2\nshared_scale paper\n"
                           "backend cuda\nseed 42\n",
                           NULL, &s, err, sizeof err) == 0);
    struct sweep_point *p = NULL;
    long n = suite_expand(&s, &p);
    CHECK(n == 2 * 2 * 2 * 3);
    if (n != 24 || !p) {
        free(p);
        return;
    }
    /* methods outermost, seqlen innermost: index = ((method*2 + dtype)*2 + B)*3 + seqlen */
    for (long i = 0; i < n; i++) {
        long seqlen = i % 3, b = i / 3 % 2, dtype = i / 6 % 2, method = i / 12;
        CHECK_STR(p[i].method, method ? "mita" : "full");
        CHECK_STR(p[i].variant, method ? "" : "naive");
        CHECK(p[i].problem.dtype == (dtype ? ATTN_BF16 : ATTN_FP32));
        CHECK(p[i].problem.B == b + 1);
        CHECK(p[i].problem.N == 256 << seqlen);
        CHECK(p[i].problem.H == 8 && p[i].problem.d == 64);
        CHECK(p[i].problem.backend == ATTN_CUDA && p[i].problem.seed == 42);
        CHECK(p[i].params.m == 16 && p[i].params.k == 32 && p[i].params.s_r == 2);
        CHECK(p[i].params.shared_scale == ATTN_SHARED_PAPER);
        CHECK(p[i].params.variant == NULL);
    }
    free(p);

    /* Every axis counts: 6 methods x 3 seqlen x 2 H x 2 d x 2 m x 2 k x 2 s_r x 2 scales. */
    suite_init_defaults(&s);
    CHECK(suite_set(&s, "H", "4 8", err, sizeof err) == 0);
    CHECK(suite_set(&s, "d", "64 128", err, sizeof err) == 0);
    CHECK(suite_set(&s, "m", "16 32", err, sizeof err) == 0);
    CHECK(suite_set(&s, "k", "16 32", err, sizeof err) == 0);
    CHECK(suite_set(&s, "s_r", "1 2", err, sizeof err) == 0);
    CHECK(suite_set(&s, "shared_scale", "official,paper", err, sizeof err) == 0);
    n = suite_expand(&s, &p);
    CHECK(n == 6 * 3 * 2 * 2 * 2 * 2 * 2 * 2);
    /* The next-to-innermost axis is shared_scale, then s_r, k, m, d, H. */
    if (n > 3) {
        CHECK(p[0].params.shared_scale == ATTN_SHARED_OFFICIAL && p[0].problem.N == 1024);
        CHECK(p[1].problem.N == 2048);
        CHECK(p[3].params.shared_scale == ATTN_SHARED_PAPER && p[3].problem.N == 1024);
        CHECK(p[6].params.s_r == 2 && p[6].params.shared_scale == ATTN_SHARED_OFFICIAL);
        CHECK(p[12].params.k == 32 && p[12].params.s_r == 1);
        CHECK(p[24].params.m == 32 && p[24].params.k == 16);
        CHECK(p[48].problem.d == 128 && p[48].params.m == 16);
        CHECK(p[96].problem.H == 8 && p[96].problem.d == 64);
        CHECK_STR(p[192].method, "linear");
    }
    free(p);
}

/* The suite as suite_write() writes it, in a malloc'd string. */
static char *written(const struct suite *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    suite_write(f, s);
    fclose(f);
    return text;
}

/* The suite written out holds `part`, and read back expands to `points`. */
static void check_written(const struct suite *s, const char *part, long points)
{
    char err[512] = "";
    char *text = written(s);
    CHECK_CONTAINS(text, part);
    struct suite back;
    struct sweep_point *p = NULL;
    CHECK(suite_parse_text(text, "written", &back, err, sizeof err) == 0);
    CHECK(suite_expand(&back, &p) == points);
    free(p);
    free(text);
}

/* zip: the axes of a group take their i-th values together, N innermost
 * still; group sizes must agree, in a file and after the flags; written out,
 * read back the same. */
static void test_zip(void)
{
    struct suite s;
    char err[512] = "";
    CHECK(suite_parse_text("methods full\n"
                           "seqlen 1024,4096,16384\n"
                           "B 16 4 1\n"
                           "H 32,16\n"
                           "d 64,128\n"
                           "dtype fp16 bf16\n"
                           "zip seqlen+B H+d\n",
                           NULL, &s, err, sizeof err) == 0);
    CHECK_STR(err, "");
    struct sweep_point *p = NULL;
    long n = suite_expand(&s, &p);
    CHECK(n == 2 * 2 * 3 && p); /* dtype x (H, d) x (N, B) */
    for (long i = 0; i < n && p; i++) {
        CHECK(p[i].problem.B * p[i].problem.N == 16384);
        CHECK(p[i].problem.H * p[i].problem.d == 2048);
    }
    if (n == 12 && p) {
        CHECK(p[0].problem.N == 1024 && p[1].problem.N == 4096 && p[2].problem.N == 16384);
        CHECK(p[0].problem.d == 64 && p[3].problem.d == 128);
        CHECK(p[0].problem.dtype == ATTN_FP16 && p[6].problem.dtype == ATTN_BF16);
    }
    free(p);

    check_written(&s, "zip          B+seqlen H+d\n", 12);

    /* Overridden by the flags: the counts are checked after the last. */
    CHECK(suite_set(&s, "seqlen", "2^10,2^12", err, sizeof err) == 0);
    CHECK(suite_check(&s, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "B and seqlen are zipped (they take their i-th values together) but B "
                        "has 3 values and seqlen 2");
    CHECK(suite_set(&s, "B", "16,4", err, sizeof err) == 0);
    CHECK(suite_check(&s, err, sizeof err) == 0);

    static const struct {
        const char *text, *message;
    } bad[] = {
        {"methods full\nseqlen 1,2\nB 1\nzip seqlen+B\n",
         "x.suite: B and seqlen are zipped (they take their i-th values together) but B has 1 "
         "value and seqlen 2"},
        {"methods full\nzip seqlen\n", "x.suite:2: zip: 'seqlen' is one axis"},
        {"methods full\nzip seqlen+X\n", "x.suite:2: zip: 'X' is not an axis"},
        {"methods full\nzip seqlen+B B+H\n", "x.suite:2: zip: B is in more than one group"},
        {"methods full\nzip seqlen++B\n", "x.suite:2: zip: '' is not an axis"},
        {"methods full\nzip\n", "x.suite:2: no value for 'zip'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(suite_parse_text(bad[i].text, "x.suite", &s, err, sizeof err) != 0);
        CHECK_CONTAINS(err, bad[i].message);
    }
}

/* name:variant@axis=v+v: a method runs only at those values of the axis (a
 * version of one head dimension in a suite that zips several); written out and
 * read back the same; refused where the file's axis lists none of them, or the
 * axis or a value is unknown; left without points by a flag, not an error. */
static void test_only(void)
{
    static const char flash_peers_like[] =
        "methods full:flash full:flash_w4@d=64+128, full:flash_wgmma_bn80@d=256 mita@dtype=bf16\n"
        "seqlen 1024,4096\nB 16,4\nH 32,16,8\nd 64,128,256\ndtype fp16 bf16\nzip seqlen+B H+d\n";
    struct suite s;
    char err[512] = "";
    CHECK(suite_parse_text(flash_peers_like, NULL, &s, err, sizeof err) == 0 && !err[0]);
    CHECK(s.method_count == 4 && !s.methods[0].only_set && s.methods[1].only_set &&
          s.methods[1].only_axis == AXIS_D && s.methods[1].only_count == 2 &&
          s.methods[3].only_axis == AXIS_DTYPE && s.methods[3].only[0] == ATTN_BF16);
    struct sweep_point *p = NULL;
    long n = suite_expand(&s, &p);
    /* flash 2 dtypes x 3 (H, d) x 2 (N, B); w4 2 x 2 x 2; bn80 2 x 1 x 2; mita 1 x 3 x 2 */
    CHECK(n == 12 + 8 + 4 + 6 && p);
    int bad = 0;
    for (long i = 0; i < n && p; i++) {
        bad |= !strcmp(p[i].variant, "flash_w4") && p[i].problem.d == 256;
        bad |= !strcmp(p[i].variant, "flash_wgmma_bn80") && p[i].problem.d != 256;
        bad |= !strcmp(p[i].method, "mita") && p[i].problem.dtype != ATTN_BF16;
    }
    CHECK(!bad);
    free(p);

    check_written(&s, " full:flash_w4@d=64+128 full:flash_wgmma_bn80@d=256 mita@dtype=bf16\n", 30);

    /* A flag that leaves a restricted method no value: it has no points, the rest run. */
    CHECK(suite_set(&s, "H", "32", err, sizeof err) == 0 && suite_set(&s, "d", "64", err, sizeof err) == 0);
    CHECK(suite_check(&s, err, sizeof err) == 0);
    n = suite_expand(&s, &p);
    CHECK(n == 4 + 4 + 2 && p); /* flash 2 x 2, w4 2 x 2, mita 1 x 2; bn80 none */
    free(p);

    /* Values the file's axis does not list (a malformed restriction: test_errors). */
    CHECK(suite_parse_text("methods full@d=256\nd 64,128\n", "x.suite", &s, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "x.suite: methods: full runs only at d values the suite does not list "
                        "(its d: 64 128)");
    CHECK(suite_parse_text("methods full@dtype=bf16\n", "x.suite", &s, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "x.suite: methods: full runs only at dtype values the suite does not "
                        "list (its dtype: fp32)");
}

/* The text axes: words kept in each point, refused by name, written back. */
static void test_text_axes(void)
{
    struct suite s;
    char err[512] = "";
    CHECK(suite_parse_text("methods mita full\n"
                           "seqlen 256\n"
                           "inputs iid, clustered file:/data/qkv.safetensors\n"
                           "gather fused vec16\n",
                           NULL, &s, err, sizeof err) == 0);
    CHECK_STR(err, "");
    struct sweep_point *p = NULL;
    long n = suite_expand(&s, &p);
    CHECK(n == 2 * 3 * 2 && p);
    if (n == 12 && p) {
        /* gather inside inputs: index = (method*3 + inputs)*2 + gather */
        CHECK_STR(p[0].inputs, "iid");
        CHECK_STR(p[0].gather, "fused");
        CHECK_STR(p[1].gather, "vec16");
        CHECK_STR(p[2].inputs, "clustered");
        CHECK_STR(p[5].inputs, "file:/data/qkv.safetensors");
        CHECK_STR(p[11].method, "full");
        struct attn_params a = point_params(&p[1]);
        CHECK(a.gather && strcmp(a.gather, "vec16") == 0 && a.variant == NULL);
    }
    free(p);

    /* Written out and read back: the same words. */
    char *text = written(&s);
    CHECK_CONTAINS(text, "inputs       iid clustered file:/data/qkv.safetensors\n");
    CHECK_CONTAINS(text, "gather       fused vec16\n");
    struct suite back;
    CHECK(suite_parse_text(text, "written", &back, err, sizeof err) == 0);
    CHECK(back.axes[AXIS_INPUTS].count == 3 && back.axes[AXIS_GATHER].count == 2);
    for (int i = 0; i < 3 && back.axes[AXIS_INPUTS].count == 3; i++)
        CHECK(back.axes[AXIS_INPUTS].values[i] == s.axes[AXIS_INPUTS].values[i]);
    free(text);

    static const struct {
        const char *key, *value, *message;
    } bad[] = {
        {"inputs", "clustred",
         "--inputs 'clustred': unknown inputs 'clustred' (known: iid, clustered, image, rising, "
         "file:PATH)"},
        {"inputs", "file:", "inputs 'file:' names no file"},
        {"inputs", "image image", "'image' is listed twice in 'inputs'"},
        {"gather", "a/b", "gather 'a/b' is not a name"},
        {"gather", "", "empty list for 'gather'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(suite_set(&s, bad[i].key, bad[i].value, err, sizeof err) != 0);
        CHECK_CONTAINS(err, bad[i].message);
    }
    char long_path[400] = "file:";
    memset(long_path + 5, 'x', sizeof long_path - 6);
    CHECK(suite_set(&s, "inputs", long_path, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "is too long");
}

/* verify: off by default and left out of the written suite (so that a suite's hash stays
 * what it was); `verify yes` written back and read back. */
static void test_verify_key(void)
{
    struct suite s, back;
    char err[256] = "";
    CHECK(suite_parse_text("methods full\n", "x.suite", &s, err, sizeof err) == 0);
    CHECK(s.verify == 0);
    char *text = written(&s);
    CHECK(text && !strstr(text, "verify"));
    free(text);
    CHECK(suite_set(&s, "verify", "yes", err, sizeof err) == 0 && s.verify == 1);
    text = written(&s);
    CHECK(text && strstr(text, "verify       yes\n"));
    CHECK(text && suite_parse_text(text, "back.suite", &back, err, sizeof err) == 0 && back.verify == 1);
    free(text);
}

static void test_find(const char *dir)
{
    char want[1024], found[1024];
    scratch_write(scratch_path(want, sizeof want, dir, "mine.suite"), "B 1\n");
    setenv("ATTNBENCH_SUITES", dir, 1);
    CHECK(suite_find("mine", found, sizeof found) == 0);
    CHECK_STR(found, want);
    CHECK(suite_find("mine.suite", found, sizeof found) == 0);
    CHECK_STR(found, want);
    CHECK(suite_find(want, found, sizeof found) == 0); /* an existing path, as is */
    CHECK_STR(found, want);
    CHECK(suite_find("no-such-suite-here", found, sizeof found) != 0);
    CHECK(suite_find(dir, found, sizeof found) != 0); /* a folder is not a suite */
    CHECK(suite_find("mine", found, 8) != 0);          /* the path does not fit */
    unsetenv("ATTNBENCH_SUITES");
    CHECK(suite_find("mine", found, sizeof found) != 0);
}

int main(void)
{
    char dir[512];
    scratch_make(dir, sizeof dir);
    test_defaults();
    test_every_key();
    test_int_lists();
    test_errors();
    test_parse_file(dir);
    test_set();
    test_expand();
    test_text_axes();
    test_zip();
    test_only();
    test_verify_key();
    test_find(dir);
    scratch_remove(dir);
    return check_exit("test_suite");
}
