/* budget.c — samples within the time budget (see budget.h). */
#include "measure/budget.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/method_call.h"
#include "attn/registry.h"
#include "results/csv.h"

struct budget_series {
    char key[CSV_KEY_LEN];             /* the point's key without N */
    double flops, ms_median;
};

int budget_init(struct budget *b, double seconds, int reps, int warmup, long points)
{
    *b = (struct budget){.seconds = seconds, .reps = reps, .warmup = warmup};
    b->capacity = points > 0 ? points : 1;
    b->series = calloc((size_t)b->capacity, sizeof *b->series);
    return b->series ? 0 : -1;
}

/* Seconds for one run of the point; 0 when its series has no measured point. */
static double predict_run_seconds(const struct budget *b, const struct sweep_point *pt)
{
    char key[CSV_KEY_LEN];
    csv_series_key(pt, key, sizeof key);
    for (long i = b->count - 1; i >= 0; i--) {
        if (strcmp(b->series[i].key, key) != 0) continue;
        const struct attn_method *m = attn_method_find(pt->method, pt->problem.backend);
        if (!m || b->series[i].flops <= 0) return 0;
        struct attn_params params = point_params(pt);
        double ratio = attn_method_flops(m, &pt->problem, &params) / b->series[i].flops;
        return ratio * b->series[i].ms_median * 1e-3;
    }
    return 0;
}

int budget_samples(const struct budget *b, const struct sweep_point *pt)
{
    double run_seconds = b->seconds > 0 ? predict_run_seconds(b, pt) : 0;
    if (run_seconds <= 0) return b->reps;
    double fit = floor(b->seconds / run_seconds) - b->warmup;
    int fewest = b->reps < BUDGET_MIN_REPS ? b->reps : BUDGET_MIN_REPS;
    if (fit < fewest) return 0;
    return fit < b->reps ? (int)fit : b->reps;
}

void budget_record(struct budget *b, const struct result_row *row)
{
    if (strcmp(row->status, "ok") != 0 || b->count == b->capacity) return;
    struct budget_series *s = &b->series[b->count++];
    csv_series_key(&row->point, s->key, sizeof s->key);
    s->flops = row->flops_model;
    s->ms_median = row->ms_median;
}

void budget_free(struct budget *b)
{
    free(b->series);
    b->series = NULL;
}
