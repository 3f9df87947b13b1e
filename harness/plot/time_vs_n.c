/* time_vs_n.c — the time figure (plots/time_vs_n.gp, log-log): how each
 * attention method's time scales with N, its median time per forward with
 * bars from the 10th to the 90th percentile. */
#include "plot/figure.h"

static int write_times(const struct plot *p, int s, FILE *dat, int *idx)
{
    int n = series_rows(p, s, idx);
    fprintf(dat, "# N ms_median ms_p10 ms_p90\n");
    for (int i = 0; i < n; i++) {
        const struct row *w = &p->rows[idx[i]];
        fprintf(dat, "%.17g %.17g %.17g %.17g\n", w->N, w->ms, w->p10, w->p90);
    }
    return n;
}

figure_prepare prepare_time_vs_n; /* the type figures.c expects */

int prepare_time_vs_n(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    return gp_series_against_n(p, settings, "times", write_times, NULL,
                               "no ok rows of attention methods", why, why_len);
}
