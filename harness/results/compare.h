/* compare.h — two runs, point by point: faster, slower, the same within
 * noise, or unjudged.
 *
 * Points are matched by their key (csv_point_key). For each point measured
 * `ok` in both runs, the samples of the two (the samples_ms column) are
 * compared with a two-sided Mann–Whitney U test, which assumes nothing of
 * their distribution (timings are skewed, with outliers), and the change is
 * the ratio of the medians. A point is slower or faster only when the test
 * rejects "same distribution" at level `alpha` and the medians differ by at
 * least `min_effect`: a real but tiny change is not worth a verdict.
 *
 * The test can only reject when the sample counts allow a p below alpha at
 * all (3 against 3 never go below 0.1). Below those counts a point is never
 * "same": it is judged by the samples' ranges — slower when new's fastest
 * sample is slower than base's slowest by more than min_effect, faster the
 * other way round, as nvbench's robust compare calls a clear gap — and
 * otherwise unjudged. So is a point with no samples, or samples that do not
 * read as times. Every verdict carries its reason.
 *
 * Where both rows of a point name the kernels they ran (the `kernels`
 * column, measure/kernel_list.h) and the lists differ — another version
 * picked, another build or GPU — both lists follow the point's line, and the
 * summary counts such points: a change in time may be a change in what ran.
 *
 * Where the rows' `device` differs (its " [gpu N]" of a multi-GPU run aside),
 * the summary counts the points, the error stream names both devices, and a
 * gate fails: the change would be the devices' as much as the builds'.
 */
#ifndef HARNESS_COMPARE_H
#define HARNESS_COMPARE_H

#include <stdio.h>

struct compare_options {
    const char *base_path, *new_path;
    double alpha;        /* the test's level (0.05) */
    double min_effect;   /* smallest change of the median that counts (0.02: 2%) */
    double threshold;    /* gate: fail when a point is slower by more than this; < 0: no gate */
    int allow_unjudged;  /* gate: pass unjudged points (else each fails it) */
};

enum compare_verdict {
    COMPARE_SAME,        /* no significant change, or one below min_effect */
    COMPARE_FASTER,
    COMPARE_SLOWER,
    COMPARE_UNJUDGED,    /* too few samples to tell, and ranges that do not tell either */
};

struct compare_result {
    double base_median, new_median;
    double ratio;        /* new_median / base_median */
    double p;            /* the test's two-sided p-value */
    double p_min;        /* the smallest p these sample counts allow (mann_whitney_min_p) */
    int by_ranges;       /* p_min >= alpha: judged by the ranges, not the test */
    enum compare_verdict verdict;
    char reason[192];    /* "3 vs 3 samples: p >= 0.1 > alpha, judged by ranges: they overlap" */
};

/* The two-sided p-value of the Mann–Whitney U test of a[0..na) against
 * b[0..nb): exact when there are no ties and na*nb <= 2500, else the normal
 * approximation with tie and continuity corrections. 1 when na or nb is 0. */
double mann_whitney_p(const double *a, int na, const double *b, int nb);

/* The smallest two-sided p-value the test can give na against nb samples
 * (no ties): every sample of one side below every sample of the other,
 * 2 / C(na + nb, na), at most 1. 1 when na or nb is 0. */
double mann_whitney_min_p(int na, int nb);

/* The verdict on one point from its samples in each run, with its reason.
 * nbase or nfresh may be 0 (unjudged: no samples). */
void compare_samples(const double *base, int nbase, const double *fresh, int nfresh,
                     const struct compare_options *opt, struct compare_result *out);

/* Compares two results files: a line per point in both to `out` (its
 * verdict and reason), then a summary line ("compare: ..."). Returns 0; 1
 * when a gate is set and a point got slower by more than the threshold, was
 * ok in the base run and is not in the new one, or is unjudged (unless
 * allow_unjudged); 2 when a file cannot be read or lacks a column (the
 * message, to `err`, names it) or when the runs share no point. */
int compare_files(const struct compare_options *opt, FILE *out, FILE *err);

#endif
