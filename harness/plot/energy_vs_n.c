/* energy_vs_n.c — the energy figure (plots/energy_vs_n.gp, log-log): what
 * a forward of each attention method costs in joules as N grows, from the
 * GPU's energy counter (docs/measurement.md, "GPU readings and energy").
 * Rows without an energy figure (CPU runs, older files, no NVML) are left
 * out. */

#include "plot/figure.h"

static double energy(const struct row *w) { return w->energy_j; }

static int write_energy(const struct plot *p, int s, FILE *dat, int *idx)
{
    return series_write_positive(p, s, dat, idx, "energy_j", energy);
}

figure_prepare prepare_energy_vs_n; /* the type figures.c expects */

int prepare_energy_vs_n(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    return gp_series_against_n(p, settings, "energy", write_energy, NULL,
                               "no ok attention rows with an energy figure (energy_j)", why,
                               why_len);
}
