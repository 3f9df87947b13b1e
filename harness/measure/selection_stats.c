/* selection_stats.c — see selection_stats.h. */
#include "measure/selection_stats.h"

#include <stdlib.h>
#include <string.h>

static int compare_int32(const void *x, const void *y)
{
    const int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

/* The largest count of one expert among a head's N·s_r routes, over the
 * mean; -1 for a route outside [0, m). `counts`: m zeroed slots. */
static double head_imbalance(const int32_t *routes, int64_t entries, int64_t m, int64_t *counts)
{
    int64_t most = 0;
    for (int64_t i = 0; i < entries; i++) {
        if (routes[i] < 0 || routes[i] >= m) return -1;
        if (++counts[routes[i]] > most) most = counts[routes[i]];
    }
    return (double)most / ((double)entries / (double)m);
}

/* Distinct keys among a head's m·k over m·k; -1 for a key outside [0, N).
 * `sorted`: room for m·k keys. */
static double head_overlap(const int32_t *keys, int64_t mk, int64_t N, int32_t *sorted)
{
    memcpy(sorted, keys, (size_t)mk * sizeof *sorted);
    qsort(sorted, (size_t)mk, sizeof *sorted, compare_int32);
    if (sorted[0] < 0 || sorted[mk - 1] >= N) return -1;
    int64_t distinct = 1;
    for (int64_t i = 1; i < mk; i++) distinct += sorted[i] != sorted[i - 1];
    return (double)distinct / (double)mk;
}

int selection_stats_compute(const struct attn_selection *sel, int64_t heads, int64_t N,
                            int64_t m, int64_t k, int s_r, struct selection_stats *out)
{
    const int64_t mk = m * k, entries = N * s_r;
    int64_t *counts = malloc((size_t)m * sizeof *counts);
    int32_t *sorted = malloc((size_t)mk * sizeof *sorted);
    double imbalance = 0, overlap = 0;
    int rc = counts && sorted ? 0 : -1;
    for (int64_t h = 0; h < heads && rc == 0; h++) {
        memset(counts, 0, (size_t)m * sizeof *counts);
        const double i = head_imbalance(sel->routes + h * entries, entries, m, counts);
        const double o = head_overlap(sel->keys + h * mk, mk, N, sorted);
        if (i < 0 || o < 0) rc = -1;
        imbalance += i;
        overlap += o;
    }
    free(counts);
    free(sorted);
    if (rc == 0)
        *out = (struct selection_stats){imbalance / (double)heads, overlap / (double)heads};
    return rc;
}
