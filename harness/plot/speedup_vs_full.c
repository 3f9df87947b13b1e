/* speedup_vs_full.c — the speedup figure (plots/speedup_vs_full.gp): what
 * each attention method buys over exact attention, its speedup over
 * attnbench's full/flash measured on the same device, dtype, shape, inputs
 * and N. */
#include "plot/figure.h"

#include <string.h>

/* attnbench's own full/flash (not a peer's): the speedup's baseline. */
static int is_baseline(const struct plot *p, const struct row *w)
{
    return !strcmp(w->key[KEY_METHOD], "full") && !strcmp(w->key[KEY_VARIANT], "flash") &&
           !p->series[w->series].peer;
}

/* The key fields a row shares with its baseline (and N): the inputs too, so
 * that a method on clustered inputs is held to full/flash on the same. */
#define SAME_SETUP                                                                       \
    (1u << KEY_DEVICE | 1u << KEY_AXIS(AXIS_DTYPE) | 1u << KEY_AXIS(AXIS_B) |              \
     1u << KEY_AXIS(AXIS_H) | 1u << KEY_AXIS(AXIS_D) | 1u << KEY_AXIS(AXIS_INPUTS))

/* The baseline row measured on the same device, dtype, shape, inputs and N,
 * or NULL. */
static const struct row *baseline_for(const struct plot *p, const struct row *w)
{
    for (int r = 0; r < p->nrows; r++) {
        const struct row *b = &p->rows[r];
        if (b->kind == ROW_ATTENTION && is_baseline(p, b) && b->N == w->N &&
            key_equal(b->key, w->key, ~SAME_SETUP))
            return b;
    }
    return NULL;
}

/* The rows with a speedup to draw: the N axis spans theirs. */
static int has_speedup(const struct plot *p, const struct row *w)
{
    return !is_baseline(p, w) && baseline_for(p, w);
}

static int write_speedup(const struct plot *p, int s, FILE *dat, int *idx)
{
    if (is_baseline(p, &p->rows[p->series[s].first])) return 0; /* 1 throughout: drawn apart */
    int n = series_rows(p, s, idx), written = 0;
    fprintf(dat, "# N speedup_over_full_flash\n");
    for (int i = 0; i < n; i++) {
        const struct row *w = &p->rows[idx[i]], *b = baseline_for(p, w);
        if (!b) continue;
        fprintf(dat, "%.17g %.17g\n", w->N, b->ms / w->ms);
        written++;
    }
    return written;
}

figure_prepare prepare_speedup_vs_full; /* the type figures.c expects */

int prepare_speedup_vs_full(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    return gp_series_against_n(p, settings, "speedup", write_speedup, has_speedup,
                               "no ok full/flash row of attnbench with another method at the "
                               "same device, dtype, shape, inputs and N to compare with", why,
                               why_len);
}
