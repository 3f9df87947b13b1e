/* budget.h — how many samples a point may take within the suite's time
 * budget (docs/measurement.md, "Budget").
 *
 * A point's run time is predicted from the last measured point of its
 * series (the same method, variant and axes but N), scaled by the ratio of
 * their FLOP models. Under a budget a point takes as many samples as fit in
 * it, warm-up included: the rules' cap at most (the suite's `reps`, or its
 * max_samples under a stopping rule: timing.h) and BUDGET_MIN_REPS at
 * least, since a long point with 3 samples is worth more than no point; a
 * point where even those do not fit is not run (`skipped:budget`).
 * Without a budget, or without a measured point of the series yet, the
 * cap stays.
 */
#ifndef HARNESS_MEASURE_BUDGET_H
#define HARNESS_MEASURE_BUDGET_H

#include "core/point.h"

enum { BUDGET_MIN_REPS = 3 };

struct budget {
    double seconds;            /* per point; <= 0: no budget */
    int reps, warmup;          /* the cap without a budget, the suite's warm-up */
    struct budget_series *series; /* the last measured point of each series */
    long count, capacity;
};

/* 0, or -1 when out of memory; `points` bounds the series remembered. */
int budget_init(struct budget *b, double seconds, int reps, int warmup, long points);

/* The samples the point may take; 0: skip it. */
int budget_samples(const struct budget *b, const struct sweep_point *pt);

/* Remembers a measured point (an `ok` row) for its series' later points. */
void budget_record(struct budget *b, const struct result_row *row);

void budget_free(struct budget *b);

#endif
