/* shard.h — the points a sweep runs, and how they are split over shards.
 *
 * A plan is a suite expanded into points, each resolved against the
 * registry (backend, default variant, unused parameters cleared) and
 * deduplicated, in expansion order; with each point's estimated cost and a
 * fingerprint of the whole (suite_hash, recorded in every CSV row so that
 * `merge` can tell shards of different suite definitions apart).
 *
 * Shard I of N is a deterministic subset of the plan: the points are dealt
 * out by estimated cost, largest first, each to the shard with the least
 * cost so far (longest processing time first), ties broken by expansion
 * order and shard number. Every host that builds the same plan deals the
 * same shards, and the shards together hold each point exactly once.
 */
#ifndef HARNESS_SHARD_H
#define HARNESS_SHARD_H

#include <stddef.h>

#include "sweep/suite.h"

/* Shard `index` (1-based) of `count`. {1, 1} and {0, 0} both mean the whole
 * plan. */
struct shard_spec {
    int index, count;
};

#define SHARD_MAX 4096

/* Parses "I/N" with 1 <= I <= N <= SHARD_MAX. Non-zero with a message. */
int shard_parse(const char *text, struct shard_spec *out, char *err, size_t err_len);
/* "I/N"; "1/1" for the whole plan. */
void shard_format(struct shard_spec spec, char *out, size_t len);

struct sweep_plan {
    struct sweep_point *points;  /* resolved, deduplicated, in expansion order */
    double *cost_s;              /* estimated seconds to measure each point */
    long count;
    char suite_hash[17];         /* 16 hex digits */
};

/* Builds the plan of suite `s` on `backend`. Returns 0, or -1 when out of
 * memory. Free with sweep_plan_free(). */
int sweep_plan_build(const struct suite *s, enum attn_backend backend, struct sweep_plan *plan);
void sweep_plan_free(struct sweep_plan *plan);

/* Which shard (0-based) of `count` each point of the plan belongs to:
 * shard_of[i] for point i. -1 when out of memory. */
int sweep_plan_assign(const struct sweep_plan *plan, int count, int *shard_of);

/* Keeps only the points of shard `spec`, in their order. Applied twice, it
 * splits a shard again (the workers of `run --gpus`). 0, or -1 when out of
 * memory. */
int sweep_plan_keep_shard(struct sweep_plan *plan, struct shard_spec spec);

/* The estimated seconds to measure one resolved point: a fixed cost per
 * point (a child process, allocation, setup) plus warm-up and samples, each
 * max(FLOPs / peak, bytes / bandwidth) at nominal rates of the backend and
 * dtype. Only the ratios matter, for balancing shards. */
double sweep_point_cost(const struct sweep_point *pt, int reps, int warmup);

#endif
