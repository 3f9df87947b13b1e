/* stats.h — the summary statistics of a point's samples, as the results
 * file reports them and `compare` recomputes them. */
#ifndef HARNESS_CORE_STATS_H
#define HARNESS_CORE_STATS_H

/* The most samples a point takes (and a results row keeps). */
#define STATS_MAX_SAMPLES 200

/* Median, min, max, sample standard deviation, 10th and 90th percentiles
 * (linear interpolation between order statistics). */
struct sample_stats {
    double median, min, max, stddev, p10, p90;
};

/* The statistics of samples[0..n), 1 <= n <= STATS_MAX_SAMPLES. */
void sample_stats_compute(const double *samples, int n, struct sample_stats *out);

/* The median of samples[0..n), 1 <= n <= STATS_MAX_SAMPLES: what
 * sample_stats_compute gives as `median`, without the rest. */
double sample_median(const double *samples, int n);

/* How precisely samples[0..n) give their median, as a percentage of it:
 * the half-width of the median's 95% confidence interval, distribution-free
 * (two order statistics around n/2, ~1.96·√n ranks apart, so that it
 * shrinks as samples are added, whatever their distribution), over the
 * median (ranks n/2 - 0.98·√n and 1 + n/2 + 0.98·√n, rounded). INFINITY
 * below 6 samples, where no such interval exists. */
double sample_noise_pct(const double *samples, int n);

#endif
