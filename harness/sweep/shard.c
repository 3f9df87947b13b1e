/* shard.c — sweep plans and their shards (see shard.h). */
#include "sweep/shard.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/csv.h"
#include "attn/method_call.h"
#include "attn/registry.h"

int shard_parse(const char *text, struct shard_spec *out, char *err, size_t err_len)
{
    /* Digits, one slash, digits: nothing else (no signs, no blanks). */
    size_t first = strspn(text, "0123456789");
    size_t second = text[first] == '/' ? strspn(text + first + 1, "0123456789") : 0;
    if (first == 0 || second == 0 || text[first + 1 + second] != '\0') {
        snprintf(err, err_len, "shard '%s' is not I/N (e.g. 2/4: the second of four shards)",
                 text);
        return -1;
    }
    long index = first > 5 ? SHARD_MAX + 1 : strtol(text, NULL, 10);
    long count = second > 5 ? SHARD_MAX + 1 : strtol(text + first + 1, NULL, 10);
    if (count < 1 || count > SHARD_MAX || index < 1 || index > count) {
        snprintf(err, err_len, "shard '%s' is out of range (need 1 <= I <= N <= %d)", text,
                 SHARD_MAX);
        return -1;
    }
    *out = (struct shard_spec){(int)index, (int)count};
    return 0;
}

void shard_format(struct shard_spec spec, char *out, size_t len)
{
    if (spec.count <= 1) snprintf(out, len, "1/1");
    else snprintf(out, len, "%d/%d", spec.index, spec.count);
}

/* ---- the plan ------------------------------------------------------------ */

/* Resolves a point against the registry: backend, default variant, and
 * unused parameters zeroed (so that, say, `full` is not run once per m). */
static void normalize_point(struct sweep_point *pt, enum attn_backend backend)
{
    pt->problem.backend = backend;
    const struct attn_method *m = attn_method_find(pt->method, backend);
    if (!m) return;
    pt->uses = m->uses;
    if (!pt->variant[0] && m->variants && m->variants[0])
        snprintf(pt->variant, sizeof pt->variant, "%s", m->variants[0]);
    axis_normalize(pt);
}

/* Nominal rates: an H100-class GPU and a few-core CPU. Only the ratios
 * between points of one sweep matter, not the absolute seconds. */
static void nominal_rates(enum attn_backend backend, enum attn_dtype dtype, double *flops_per_s,
                          double *bytes_per_s, double *per_point_s)
{
    if (backend == ATTN_CUDA) {
        *flops_per_s = dtype == ATTN_FP32 ? 50e12 : 500e12; /* CUDA cores vs tensor cores */
        *bytes_per_s = 3e12;
        *per_point_s = 1.0; /* a CUDA context in a fresh child process */
    } else {
        *flops_per_s = 50e9;
        *bytes_per_s = 20e9;
        *per_point_s = 0.02;
    }
}

double sweep_point_cost(const struct sweep_point *pt, int reps, int warmup)
{
    double flops_per_s, bytes_per_s, per_point_s;
    nominal_rates(pt->problem.backend, pt->problem.dtype, &flops_per_s, &bytes_per_s,
                  &per_point_s);
    const struct attn_method *m = attn_method_find(pt->method, pt->problem.backend);
    struct attn_params params = point_params(pt);
    char why[200];
    /* A point that will not run (a row saying invalid:...) costs the fixed part only. */
    if (!m || attn_method_validate(m, &pt->problem, &params, why, sizeof why)) return per_point_s;
    double compute = attn_method_flops(m, &pt->problem, &params) / flops_per_s;
    double memory = attn_method_bytes(m, &pt->problem, &params) / bytes_per_s;
    return per_point_s + (reps + warmup) * (compute > memory ? compute : memory);
}

/* FNV-1a, 64 bits: a fingerprint, not a defence against forgery. */
static uint64_t fnv1a(uint64_t h, const char *text)
{
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        h ^= *c;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* Point keys, sorted with their indices, to find duplicates in n log n. */
struct keyed_index {
    char key[CSV_KEY_LEN];
    long index;
};

static int by_key_then_index(const void *a, const void *b)
{
    const struct keyed_index *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

int sweep_plan_build(const struct suite *s, enum attn_backend backend, struct sweep_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    struct sweep_point *points = NULL;
    long n = suite_expand(s, &points);
    if (n < 0) return -1;
    struct keyed_index *keys = calloc(n ? (size_t)n : 1, sizeof *keys);
    char *duplicate = calloc(n ? (size_t)n : 1, 1);
    double *cost = calloc(n ? (size_t)n : 1, sizeof *cost);
    if (!keys || !duplicate || !cost) {
        free(points);
        free(keys);
        free(duplicate);
        free(cost);
        return -1;
    }
    for (long i = 0; i < n; i++) {
        normalize_point(&points[i], backend);
        csv_point_key(&points[i], keys[i].key, sizeof keys[i].key);
        keys[i].index = i;
    }
    /* The first of equal points stays: expansion order decides. */
    qsort(keys, (size_t)n, sizeof *keys, by_key_then_index);
    for (long i = 1; i < n; i++)
        if (strcmp(keys[i].key, keys[i - 1].key) == 0) duplicate[keys[i].index] = 1;

    /* The fingerprint covers what decides the rows: the settings, and the
     * resolved points in order (two suites that expand to the same points
     * are the same definition; a description is not part of it). */
    char settings[512];
    snprintf(settings, sizeof settings, "name=%s\nbackend=%s\nreps=%d\nwarmup=%d\nbudget=%.17g\n"
             "seed=%" PRIu64 "\n", s->name, attn_backend_name(backend), s->reps, s->warmup,
             s->budget_s, s->seed);
    uint64_t hash = fnv1a(UINT64_C(0xcbf29ce484222325), settings);
    long kept = 0;
    for (long i = 0; i < n; i++) {
        if (duplicate[i]) continue;
        char key[CSV_KEY_LEN];
        csv_point_key(&points[i], key, sizeof key);
        hash = fnv1a(fnv1a(hash, key), "\n");
        points[kept] = points[i];
        cost[kept] = sweep_point_cost(&points[i], s->reps, s->warmup);
        kept++;
    }
    free(keys);
    free(duplicate);
    plan->points = points;
    plan->cost_s = cost;
    plan->count = kept;
    snprintf(plan->suite_hash, sizeof plan->suite_hash, "%016" PRIx64, hash);
    return 0;
}

void sweep_plan_free(struct sweep_plan *plan)
{
    free(plan->points);
    free(plan->cost_s);
    memset(plan, 0, sizeof *plan);
}

/* ---- shards ---------------------------------------------------------------- */

static const double *sort_costs; /* qsort has no context argument */

static int by_cost_descending(const void *a, const void *b)
{
    long i = *(const long *)a, j = *(const long *)b;
    if (sort_costs[i] != sort_costs[j]) return sort_costs[i] < sort_costs[j] ? 1 : -1;
    return (i > j) - (i < j);
}

int sweep_plan_assign(const struct sweep_plan *plan, int count, int *shard_of)
{
    long *order = malloc((plan->count ? (size_t)plan->count : 1) * sizeof *order);
    double *load = calloc(count > 0 ? (size_t)count : 1, sizeof *load);
    if (!order || !load) {
        free(order);
        free(load);
        return -1;
    }
    for (long i = 0; i < plan->count; i++) order[i] = i;
    sort_costs = plan->cost_s;
    qsort(order, (size_t)plan->count, sizeof *order, by_cost_descending);
    for (long o = 0; o < plan->count; o++) {
        int least = 0;
        for (int s = 1; s < count; s++)
            if (load[s] < load[least]) least = s;
        shard_of[order[o]] = least;
        load[least] += plan->cost_s[order[o]];
    }
    free(order);
    free(load);
    return 0;
}

int sweep_plan_keep_shard(struct sweep_plan *plan, struct shard_spec spec)
{
    if (spec.count <= 1) return 0;
    int *shard_of = malloc((plan->count ? (size_t)plan->count : 1) * sizeof *shard_of);
    if (!shard_of || sweep_plan_assign(plan, spec.count, shard_of) != 0) {
        free(shard_of);
        return -1;
    }
    long kept = 0;
    for (long i = 0; i < plan->count; i++) {
        if (shard_of[i] != spec.index - 1) continue;
        plan->points[kept] = plan->points[i];
        plan->cost_s[kept] = plan->cost_s[i];
        kept++;
    }
    plan->count = kept;
    free(shard_of);
    return 0;
}
