/* stats.c — see stats.h. */
#include "core/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* samples[0..n) in ascending order, into sorted. */
static void sort_copy(const double *samples, int n, double *sorted)
{
    memcpy(sorted, samples, n * sizeof *samples);
    qsort(sorted, n, sizeof *sorted, compare_doubles);
}

/* The q-quantile of sorted[0..n) with linear interpolation. */
static double quantile(const double *sorted, int n, double q)
{
    double pos = q * (n - 1);
    int lo = (int)floor(pos);
    int hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

void sample_stats_compute(const double *samples, int n, struct sample_stats *out)
{
    double sorted[STATS_MAX_SAMPLES];
    sort_copy(samples, n, sorted);
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++) mean += sorted[i] / n;
    for (int i = 0; i < n; i++) var += (sorted[i] - mean) * (sorted[i] - mean);
    out->median = quantile(sorted, n, 0.5);
    out->min = sorted[0];
    out->max = sorted[n - 1];
    out->stddev = n > 1 ? sqrt(var / (n - 1)) : 0.0;
    out->p10 = quantile(sorted, n, 0.1);
    out->p90 = quantile(sorted, n, 0.9);
}

double sample_median(const double *samples, int n)
{
    double sorted[STATS_MAX_SAMPLES];
    sort_copy(samples, n, sorted);
    return quantile(sorted, n, 0.5);
}

double sample_noise_pct(const double *samples, int n)
{
    if (n < 6) return INFINITY;
    double sorted[STATS_MAX_SAMPLES];
    sort_copy(samples, n, sorted);
    /* The 1-based ranks n/2 - 0.98·√n and 1 + n/2 + 0.98·√n, rounded:
     * the binomial order-statistic interval of the median at 95% (ranks 2
     * and 9 of 10). */
    const double half = 0.98 * sqrt((double)n);
    int lo = (int)lround(n / 2.0 - half), hi = (int)lround(1 + n / 2.0 + half);
    if (lo < 1) lo = 1;
    if (hi > n) hi = n;
    const double median = quantile(sorted, n, 0.5);
    if (!(median > 0)) return INFINITY;
    return 100.0 * (sorted[hi - 1] - sorted[lo - 1]) / 2.0 / median;
}
