/* throughput_vs_n.c — the throughput figure (plots/throughput_vs_n.gp,
 * log-log): how much compute each attention method gets out of the device
 * as N grows, its FLOP model over its median time in TFLOP/s. */
#include "plot/figure.h"

static double tflops(const struct row *w) { return w->tflops; }

/* Attention rows with a positive FLOP model (TFLOP/s on a log axis). */
static int write_throughput(const struct plot *p, int s, FILE *dat, int *idx)
{
    return series_write_positive(p, s, dat, idx, "tflops", tflops);
}

figure_prepare prepare_throughput_vs_n; /* the type figures.c expects */

int prepare_throughput_vs_n(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    return gp_series_against_n(p, settings, "tflops", write_throughput, NULL,
                               "no ok attention rows with a FLOP model", why, why_len);
}
