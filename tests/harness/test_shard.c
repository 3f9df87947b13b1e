/* test_shard.c — sweep plans and their shards (harness/sweep/shard.c): shard
 * labels parsed strictly; plans resolved and deduplicated in expansion
 * order; shards that are deterministic, cover the suite exactly once, keep
 * the sweep's order and are balanced by cost rather than by count; a suite
 * fingerprint that changes with what decides the rows and with nothing
 * else; costs that follow the work models. */
#include "sweep/shard.h"

#include "results/csv.h"
#include "test_util.h"

static void parse_suite(const char *text, struct suite *s)
{
    char err[1024];
    if (suite_parse_text(text, "test", s, err, sizeof err) != 0) {
        fprintf(stderr, "suite: %s\n", err);
        exit(1);
    }
}

static void build(const char *text, enum attn_backend backend, struct sweep_plan *plan)
{
    struct suite s;
    parse_suite(text, &s);
    if (sweep_plan_build(&s, backend, plan) != 0) {
        fprintf(stderr, "sweep_plan_build: out of memory\n");
        exit(1);
    }
}

static void test_parse(void)
{
    char err[256], text[32];
    struct shard_spec spec = {0, 0};
    CHECK(shard_parse("2/4", &spec, err, sizeof err) == 0);
    CHECK(spec.index == 2 && spec.count == 4);
    CHECK(shard_parse("1/1", &spec, err, sizeof err) == 0);
    CHECK(shard_parse("4096/4096", &spec, err, sizeof err) == 0);
    shard_format((struct shard_spec){3, 8}, text, sizeof text);
    CHECK_STR(text, "3/8");
    shard_format((struct shard_spec){0, 0}, text, sizeof text);
    CHECK_STR(text, "1/1");

    const char *malformed[] = {"", "2", "2/", "/4", "a/b", " 2/4", "2/4 ", "+2/4", "-1/4",
                               "2/4/8", "2.0/4"};
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
        CHECK(shard_parse(malformed[i], &spec, err, sizeof err) != 0);
        CHECK_CONTAINS(err, "is not I/N");
    }
    const char *out_of_range[] = {"0/4", "5/4", "1/0", "1/4097", "99999999999/1"};
    for (size_t i = 0; i < sizeof out_of_range / sizeof *out_of_range; i++) {
        CHECK(shard_parse(out_of_range[i], &spec, err, sizeof err) != 0);
        CHECK_CONTAINS(err, "out of range (need 1 <= I <= N <= 4096)");
    }
}

/* Parameters a method does not read do not multiply its points; the first
 * of equal points stays, so the order is the expansion's. */
static void test_plan(void)
{
    struct sweep_plan plan;
    build("methods full linear agent\nseqlen 2^8..2^11\nm 16,32\nH 1\n", ATTN_CPU, &plan);
    CHECK(plan.count == 4 + 4 + 8);
    if (plan.count == 16) {
        CHECK_STR(plan.points[0].method, "full");
        CHECK_STR(plan.points[0].variant, "flash"); /* the default variant, resolved */
        CHECK(plan.points[0].problem.N == 256 && plan.points[3].problem.N == 2048);
        CHECK(plan.points[0].params.m == 0);        /* unused: cleared */
        CHECK_STR(plan.points[8].method, "agent");
        CHECK(plan.points[8].params.m == 16 && plan.points[12].params.m == 32);
        for (long i = 0; i < plan.count; i++) CHECK(plan.cost_s[i] > 0);
    }
    CHECK(strlen(plan.suite_hash) == 16);
    sweep_plan_free(&plan);
}

/* The point's key, for comparing sets of points. */
static void key_of(const struct sweep_point *p, char *key)
{
    csv_point_key(p, key, 256);
}

/* Every shard count: two assignments agree; the shards' union is the suite,
 * each point once; each shard keeps the sweep's order. */
static void test_coverage(void)
{
    static const char *const text =
        "methods full:flash full:naive linear agent nystrom topk mita mita:route_only\n"
        "seqlen 2^8..2^12\nm 16,32\nk 16\nH 2\n";
    struct sweep_plan plan;
    build(text, ATTN_CPU, &plan);
    char (*keys)[256] = calloc((size_t)plan.count, sizeof *keys);
    int *first = calloc((size_t)plan.count, sizeof *first), *again = calloc((size_t)plan.count,
                                                                           sizeof *again);
    for (long i = 0; i < plan.count; i++) key_of(&plan.points[i], keys[i]);
    const int counts[] = {1, 2, 3, 4, 7, 16, (int)plan.count, (int)plan.count + 5};
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        const int n = counts[c];
        CHECK(sweep_plan_assign(&plan, n, first) == 0);
        CHECK(sweep_plan_assign(&plan, n, again) == 0);
        CHECK(memcmp(first, again, (size_t)plan.count * sizeof *first) == 0);
        long *seen = calloc((size_t)plan.count, sizeof *seen);
        long total = 0;
        for (int s = 1; s <= n; s++) {
            struct sweep_plan shard;
            build(text, ATTN_CPU, &shard);
            CHECK(sweep_plan_keep_shard(&shard, (struct shard_spec){s, n}) == 0);
            long last = -1;
            for (long i = 0; i < shard.count; i++) {
                char key[256];
                key_of(&shard.points[i], key);
                long at = -1;
                for (long j = 0; j < plan.count && at < 0; j++)
                    if (strcmp(keys[j], key) == 0) at = j;
                CHECK(at >= 0);
                if (at < 0) continue;
                CHECK(first[at] == s - 1); /* the shard assign() said */
                CHECK(at > last);          /* in the sweep's order */
                last = at;
                seen[at]++;
            }
            total += shard.count;
            sweep_plan_free(&shard);
        }
        CHECK(total == plan.count);
        for (long i = 0; i < plan.count; i++) CHECK(seen[i] == 1);
        free(seen);
    }
    free(keys);
    free(first);
    free(again);
    sweep_plan_free(&plan);
}

/* A few costly points and many cheap ones: the shard with the costliest
 * point gets fewer points, and no shard exceeds another by more than the
 * largest single cost (the greedy rule's bound). */
static void test_balance(void)
{
    struct sweep_plan plan;
    build("methods full linear agent nystrom\nseqlen 2^8..2^13\nH 2\n", ATTN_CPU, &plan);
    for (int n = 2; n <= 5; n++) {
        int *shard_of = calloc((size_t)plan.count, sizeof *shard_of);
        double load[5] = {0}, largest = 0;
        long points[5] = {0}, costliest = 0;
        CHECK(sweep_plan_assign(&plan, n, shard_of) == 0);
        for (long i = 0; i < plan.count; i++) {
            load[shard_of[i]] += plan.cost_s[i];
            points[shard_of[i]]++;
            if (plan.cost_s[i] > largest) {
                largest = plan.cost_s[i];
                costliest = i;
            }
        }
        double lo = load[0], hi = load[0];
        for (int s = 1; s < n; s++) {
            lo = load[s] < lo ? load[s] : lo;
            hi = load[s] > hi ? load[s] : hi;
        }
        CHECK(hi - lo <= largest);
        long heavy = points[shard_of[costliest]], most = 0;
        for (int s = 0; s < n; s++) most = points[s] > most ? points[s] : most;
        CHECK(heavy < most);
        free(shard_of);
    }
    sweep_plan_free(&plan);
}

static void hash_of(const char *text, enum attn_backend backend, char *hash)
{
    struct sweep_plan plan;
    build(text, backend, &plan);
    memcpy(hash, plan.suite_hash, 17);
    sweep_plan_free(&plan);
}

static void test_fingerprint(void)
{
    char base[17], other[17];
    hash_of("methods full agent\nseqlen 2^8..2^10\n", ATTN_CPU, base);
    hash_of("methods full agent\nseqlen 2^8..2^10\n", ATTN_CPU, other);
    CHECK_STR(other, base);
    /* Not part of the definition: the description, and spellings of the
     * same points (a list for a range, an m that only `full` would ignore). */
    hash_of("describe x\nmethods full agent\nseqlen 256,512,1024\n", ATTN_CPU, other);
    CHECK_STR(other, base);
    char full_only[17];
    hash_of("methods full\nm 16\n", ATTN_CPU, full_only);
    hash_of("methods full\nm 32\n", ATTN_CPU, other);
    CHECK_STR(other, full_only);
    /* Part of it: the points, their order, the settings, the backend. */
    const char *const different[] = {
        "methods full agent\nseqlen 2^8..2^11\n", "methods agent full\nseqlen 2^8..2^10\n",
        "methods full agent\nseqlen 2^8..2^10\nm 32\n",
        "methods full agent\nseqlen 2^8..2^10\nreps 3\n",
        "methods full agent\nseqlen 2^8..2^10\nwarmup 0\n",
        "methods full agent\nseqlen 2^8..2^10\nbudget 60\n",
        "methods full agent\nseqlen 2^8..2^10\nseed 2\n",
        "name other\nmethods full agent\nseqlen 2^8..2^10\n",
    };
    for (size_t i = 0; i < sizeof different / sizeof *different; i++) {
        hash_of(different[i], ATTN_CPU, other);
        if (!strcmp(other, base)) fprintf(stderr, "same fingerprint: %s", different[i]);
        CHECK(strcmp(other, base) != 0);
    }
    hash_of("methods full agent\nseqlen 2^8..2^10\n", ATTN_CUDA, other);
    CHECK(strcmp(other, base) != 0);
}

static void test_cost(void)
{
    struct sweep_point p = {.method = "topk",
                            .problem = {.B = 1, .H = 2, .N = 1024, .d = 64,
                                        .dtype = ATTN_FP32, .backend = ATTN_CPU},
                            .params = {.k = 64}};
    double small = sweep_point_cost(&p, 5, 1);
    p.problem.N = 4096;
    double large = sweep_point_cost(&p, 5, 1);
    CHECK(large > 4 * small - 1e-9); /* topk is quadratic in N */
    CHECK(sweep_point_cost(&p, 10, 1) > large);
    p.params.k = 8192; /* k > N: a row that says invalid, nothing timed */
    double invalid = sweep_point_cost(&p, 5, 1);
    CHECK(invalid > 0 && invalid < small);
    snprintf(p.method, sizeof p.method, "no_such_method");
    CHECK(sweep_point_cost(&p, 5, 1) == invalid);
}

int main(void)
{
    test_parse();
    test_plan();
    test_coverage();
    test_balance();
    test_fingerprint();
    test_cost();
    return check_exit("test_shard");
}
