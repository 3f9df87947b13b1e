/* peer_table.c — `attnbench plot`'s table of attnbench against its peers
 * (OUT_DIR/peers.md): for each series of attnbench's that has peers in the
 * files (series.h: the same method, dtype, shape and parameters; a peer is a
 * row of backend torch-...), at each N where a peer was measured on the same
 * device, its median time, the fastest peer's and the speedup (the peer's
 * time over attnbench's: above 1, attnbench is faster). Markdown, for a
 * README or a paper's notes. */
#include "plot/peer_table.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* N as 2^e where it is a power of two, else its digits. */
static void format_n(double N, char *out, size_t len)
{
    const int e = (int)lround(log2(N));
    if (ldexp(1.0, e) == N) snprintf(out, len, "2^%d", e);
    else snprintf(out, len, "%.0f", N);
}

/* The fastest row of a peer of attnbench's row w: the same N and device. */
static const struct row *fastest_peer(const struct plot *p, const struct row *w)
{
    const struct row *best = NULL;
    for (int r = 0; r < p->nrows; r++) {
        const struct row *b = &p->rows[r];
        if (b->N != w->N || strcmp(b->key[KEY_DEVICE], w->key[KEY_DEVICE]) != 0 ||
            !series_peer_of(p, &p->series[b->series], &p->series[w->series]))
            continue;
        if (!best || b->ms < best->ms) best = b;
    }
    return best;
}

int peer_table_write(const struct plot *p, const char *path)
{
    int lines = 0;
    FILE *f = NULL;
    int *idx = malloc((size_t)p->nrows * sizeof *idx);
    if (!idx) return -1;
    for (int s = 0; s < p->nseries; s++) {
        if (p->series[s].peer || p->series[s].kind != ROW_ATTENTION) continue;
        const int n = series_rows(p, s, idx);
        for (int i = 0; i < n; i++) {
            const struct row *w = &p->rows[idx[i]], *b = fastest_peer(p, w);
            if (!b) continue;
            if (!f) {
                if (!(f = fopen(path, "w"))) {
                    free(idx);
                    return -1;
                }
                fprintf(f, "attnbench against its fastest peer: %s, %s (attnbench plot)\n\n"
                           "| attnbench | N | ms | fastest peer | ms | speedup |\n"
                           "| --- | --- | --- | --- | --- | --- |\n",
                        p->device, p->date);
            }
            char N[32];
            format_n(w->N, N, sizeof N);
            fprintf(f, "| %s | %s | %.4g | %s | %.4g | %.2f× |\n", p->series[s].label, N, w->ms,
                    p->series[b->series].label, b->ms, b->ms / w->ms);
            lines++;
        }
    }
    free(idx);
    if (f && fclose(f) != 0) return -1;
    if (!f) remove(path); /* an earlier run's table is not this one's */
    return lines;
}
