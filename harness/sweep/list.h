/* list.h — `attnbench list`: what can run (methods, suites, devices) and
 * what a suite runs (its points, expanded or as the plan with its cost). */
#ifndef HARNESS_SWEEP_LIST_H
#define HARNESS_SWEEP_LIST_H

#include <stdio.h>

#include "sweep/shard.h"
#include "sweep/suite.h"

/* Every registered method: backend, variants (the first is the default),
 * the parameters it reads, its description. */
void list_methods(FILE *f);
/* One method's line of list_methods(), its variants in a column `width` wide. */
void list_method(FILE *f, const struct attn_method *m, int width);
/* The gather versions (attn/gathers.h: built-in, then plugins'), after
 * MiTA's default `fused`, with their descriptions. */
void list_gathers(FILE *f);
/* The suites found where suite_find() looks, with their descriptions. */
void list_suites(FILE *f);
/* The backends and whether each can run here. */
void list_devices(FILE *f);
/* The suite's points before deduplication. 0, or 2 when out of memory. */
int list_expansion(FILE *f, const struct suite *s);
/* The points as `run` runs them on `backend` (resolved, deduplicated, only
 * `shard`'s), with their estimated cost. 0, or 2 (reported). */
int list_plan(FILE *f, const struct suite *s, enum attn_backend backend, struct shard_spec shard);

#endif
