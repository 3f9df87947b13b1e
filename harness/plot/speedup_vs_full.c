/* speedup_vs_full.c — the speedup figure (plots/speedup_vs_full.gp): what
 * each attention method buys over exact attention, its speedup over a
 * baseline measured on the same device, dtype, shape, inputs and N. The
 * baseline (`attnbench plot --baseline`, struct plot's `baseline`):
 *   fastest  the fastest full attention of that point in the files given,
 *            attnbench's own (any variant) or a peer's (SDPA cuDNN, say):
 *            the speedup a user gets over what they would run instead;
 *   flash    attnbench's own full/flash, whatever else was measured.
 * The figure names the baselines it used. */
#include "plot/figure.h"

#include <stdlib.h>
#include <string.h>

#include "plot/gnuplot.h"

/* Full attention, attnbench's or a peer's. */
static int is_full(const struct row *w) { return !strcmp(w->key[KEY_METHOD], "full"); }

/* attnbench's own full/flash (not a peer's). */
static int is_own_flash(const struct plot *p, const struct row *w)
{
    return is_full(w) && !strcmp(w->key[KEY_VARIANT], "flash") && !p->series[w->series].peer;
}

/* The key fields a row shares with its baseline (and N): the inputs too, so
 * that a method on clustered inputs is held to full attention on the same. */
#define SAME_SETUP                                                                       \
    (1u << KEY_DEVICE | 1u << KEY_AXIS(AXIS_DTYPE) | 1u << KEY_AXIS(AXIS_B) |              \
     1u << KEY_AXIS(AXIS_H) | 1u << KEY_AXIS(AXIS_D) | 1u << KEY_AXIS(AXIS_INPUTS))

/* The baseline of row w's point (the same device, dtype, shape, inputs and
 * N), or NULL. */
static const struct row *baseline_for(const struct plot *p, const struct row *w)
{
    const struct row *best = NULL;
    for (int r = 0; r < p->nrows; r++) {
        const struct row *b = &p->rows[r];
        if (b->kind != ROW_ATTENTION || b->N != w->N || !key_equal(b->key, w->key, ~SAME_SETUP))
            continue;
        if (p->baseline == BASELINE_OWN_FLASH ? is_own_flash(p, b) : is_full(b))
            if (!best || b->ms < best->ms) best = b;
    }
    return best;
}

/* A series drawn apart as the 1x line, not as a curve: attnbench's
 * full/flash when it is the baseline everywhere. */
static int drawn_as_one(const struct plot *p, const struct row *w)
{
    return p->baseline == BASELINE_OWN_FLASH && is_own_flash(p, w);
}

/* The rows with a speedup to draw: the N axis spans theirs. */
static int has_speedup(const struct plot *p, const struct row *w)
{
    return !drawn_as_one(p, w) && baseline_for(p, w);
}

static int write_speedup(const struct plot *p, int s, FILE *dat, int *idx)
{
    if (drawn_as_one(p, &p->rows[p->series[s].first])) return 0;
    int n = series_rows(p, s, idx), written = 0;
    fprintf(dat, "# N speedup_over_the_baseline\n");
    for (int i = 0; i < n; i++) {
        const struct row *w = &p->rows[idx[i]], *b = baseline_for(p, w);
        if (!b) continue;
        fprintf(dat, "%.17g %.17g\n", w->N, b->ms / w->ms);
        written++;
    }
    return written;
}

/* "the fastest full attention of each point: torch-sdpa-cudnn, full/flash":
 * the labels of the series that were a row's baseline, in the order of the
 * series. 0, or -1 when out of memory. */
static int write_baseline_label(const struct plot *p, FILE *settings)
{
    char label[1024];
    size_t n = (size_t)snprintf(label, sizeof label, "%s",
                                p->baseline == BASELINE_OWN_FLASH
                                    ? "attnbench's full/flash"
                                    : "the fastest full attention of each point: ");
    if (p->baseline == BASELINE_FASTEST) {
        char *used = calloc((size_t)p->nseries + 1, 1); /* one pass over the rows */
        if (!used) return -1;
        for (int r = 0; r < p->nrows; r++) {
            const struct row *b = baseline_for(p, &p->rows[r]);
            if (p->rows[r].kind == ROW_ATTENTION && b) used[b->series] = 1;
        }
        int listed = 0;
        for (int s = 0; s < p->nseries; s++)
            if (used[s] && n < sizeof label)
                n += (size_t)snprintf(label + n, sizeof label - n, "%s%s",
                                      listed++ ? ", " : "", p->series[s].label);
        free(used);
    }
    cut_text(label, 160);
    gp_string(settings, "baseline_label", label);
    gp_string(settings, "baseline_axis", p->baseline == BASELINE_OWN_FLASH
                                             ? "full/flash"
                                             : "the fastest full attention");
    return 0;
}

figure_prepare prepare_speedup_vs_full; /* the type figures.c expects */

int prepare_speedup_vs_full(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    const int rc = gp_series_against_n(
        p, settings, "speedup", write_speedup, has_speedup,
        p->baseline == BASELINE_OWN_FLASH
            ? "no ok full/flash row of attnbench with another method at the same device, "
              "dtype, shape, inputs and N to compare with"
            : "no ok full attention row at the same device, dtype, shape, inputs and N as "
              "another row to compare with",
        why, why_len);
    if (rc == 0 && write_baseline_label(p, settings) != 0) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    return rc;
}
