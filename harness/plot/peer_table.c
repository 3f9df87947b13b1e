/* peer_table.c — `attnbench plot`'s table of attnbench against its peers
 * (OUT_DIR/peers.md): for each series of attnbench's that has peers in the
 * files (series.h: the same method, dtype, shape and parameters; a peer is a
 * row of backend torch-...), at each N where a peer was measured on the same
 * device, its median time, the fastest peer's and the speedup (the peer's
 * time over attnbench's: above 1, attnbench is faster); first, with
 * `plot --peers-at`, the same for every series at those N side by side, the
 * table a README or a paper shows. Markdown. */
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

/* attnbench's series s's row at N, or NULL; idx: room for its rows. */
static const struct row *row_at(const struct plot *p, int s, double N, int *idx)
{
    const int n = series_rows(p, s, idx);
    for (int i = 0; i < n; i++)
        if (p->rows[idx[i]].N == N) return &p->rows[idx[i]];
    return NULL;
}

/* Whether s is a series of attnbench's (not a peer's) with a peer at some N. */
static int has_peers(const struct plot *p, int s, int *idx)
{
    if (p->series[s].peer || p->series[s].kind != ROW_ATTENTION) return 0;
    const int n = series_rows(p, s, idx);
    for (int i = 0; i < n; i++)
        if (fastest_peer(p, &p->rows[idx[i]])) return 1;
    return 0;
}

/* The summary at --peers-at's N: a line a series, each N's attnbench time, fastest peer,
 * its time and the speedup side by side ("—" where attnbench has no row at that N, "none"
 * where no peer was measured there). */
static void write_summary(const struct plot *p, FILE *f, int *idx)
{
    char N[32];
    fprintf(f, "attnbench against its fastest peer at N =");
    for (int j = 0; j < p->npeers_at; j++) {
        format_n(p->peers_at[j], N, sizeof N);
        fprintf(f, "%s %s", j == 0 ? "" : j + 1 == p->npeers_at ? " and" : ",", N);
    }
    fprintf(f, ": %s, %s (attnbench plot --peers-at)\n\n| attnbench |", p->device, p->date);
    for (int j = 0; j < p->npeers_at; j++) {
        format_n(p->peers_at[j], N, sizeof N);
        fprintf(f, " %s: ms | fastest peer | ms | speedup |", N);
    }
    fprintf(f, "\n| --- |");
    for (int j = 0; j < p->npeers_at; j++) fprintf(f, " --- | --- | --- | --- |");
    fprintf(f, "\n");
    for (int s = 0; s < p->nseries; s++) {
        if (!has_peers(p, s, idx)) continue;
        fprintf(f, "| %s |", p->series[s].name);
        for (int j = 0; j < p->npeers_at; j++) {
            const struct row *w = row_at(p, s, p->peers_at[j], idx);
            const struct row *b = w ? fastest_peer(p, w) : NULL;
            if (!w) fprintf(f, " — | | | |");
            else if (!b) fprintf(f, " %.4g | none | | |", w->ms);
            else
                fprintf(f, " %.4g | %s | %.4g | %.2f× |", w->ms, p->series[b->series].name,
                        b->ms, b->ms / w->ms);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

int peer_table_write(const struct plot *p, const char *path)
{
    int lines = 0, any = 0;
    int *idx = malloc((size_t)p->nrows * sizeof *idx);
    if (!idx) return -1;
    for (int s = 0; s < p->nseries && !any; s++) any = has_peers(p, s, idx);
    if (!any) {
        free(idx);
        remove(path); /* an earlier run's table is not this one's */
        return 0;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        free(idx);
        return -1;
    }
    if (p->npeers_at) write_summary(p, f, idx);
    fprintf(f, "attnbench against its fastest peer: %s, %s (attnbench plot)\n\n"
               "| attnbench | N | ms | fastest peer | ms | speedup |\n"
               "| --- | --- | --- | --- | --- | --- |\n",
            p->device, p->date);
    for (int s = 0; s < p->nseries; s++) {
        if (p->series[s].peer || p->series[s].kind != ROW_ATTENTION) continue;
        const int n = series_rows(p, s, idx);
        for (int i = 0; i < n; i++) {
            const struct row *w = &p->rows[idx[i]], *b = fastest_peer(p, w);
            if (!b) continue;
            char N[32];
            format_n(w->N, N, sizeof N);
            fprintf(f, "| %s | %s | %.4g | %s | %.4g | %.2f× |\n", p->series[s].name, N, w->ms,
                    p->series[b->series].name, b->ms, b->ms / w->ms);
            lines++;
        }
    }
    free(idx);
    return fclose(f) != 0 ? -1 : lines;
}
