/* gather_bandwidth.c — the gather figure (plots/gather_bandwidth.gp): the
 * gather suite's variants' GB/s against N under the copy ceiling, so that
 * each way of gathering the selected keys is seen against a plain copy of
 * the same bytes; and beside them MiTA's own gather, where MiTA ran it as a
 * step of its own (params.gather a gather version): the same bytes over
 * that step's kernel time under the profiler, in the same GB/s.
 *
 * One line per variant, one panel per shape (d, m, k). A line is the
 * gather series that agree on all of their key but d, m and k, so that
 * each variant has one legend entry however many shapes were run. The
 * panels: a column per d (ascending), and in it a row for the smallest and
 * one for the largest m·k (a tie goes to the larger k), so that small and
 * large experts sit apart and no panel has more lines than there are
 * variants. Every panel shares the N and GB/s ranges. MiTA's gathers are
 * lines of their own (dotted), in the panel of their (d, m, k), and
 * their shapes are candidates for the panels as the gather rows' are. */
#include "plot/figure.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn.h"
#include "attn/work_models.h"
#include "plot/gnuplot.h"

/* The key fields this figure reads, and those of a shape as a mask of
 * 1 << key_field (series.h). */
enum {
    KEY_DTYPE = KEY_AXIS(AXIS_DTYPE), KEY_D = KEY_AXIS(AXIS_D), KEY_M = KEY_AXIS(AXIS_M),
    KEY_K = KEY_AXIS(AXIS_K)
};
#define GATHER_SHAPE (1u << KEY_D | 1u << KEY_M | 1u << KEY_K)
#define GATHER_MAX_COLUMNS 3 /* the smallest d's; the figure counts the rest as left out */
#define GATHER_MAX_PANELS (2 * GATHER_MAX_COLUMNS)
/* The variant that copies the same bytes contiguously: not a gather but
 * the shape's own ceiling, drawn as a reference (grey) after the others. */
#define GATHER_REFERENCE "copy"
/* MiTA, and the name of its step that a gather version runs in. */
#define MITA_METHOD "mita"
#define GATHER_STEP "gather"

/* The effective GB/s of MiTA's own gather in row w: the gather's floor
 * (attn_bytes_gather, the bytes a `gather` row's gbps counts) over the
 * summed kernel time of the point's step "gather" in the steps file. 0 for
 * a row without one: another method, the fused gather (no such step), a
 * row not profiled (no gather_dram_bytes). */
static double in_mita_gbps(const struct plot *p, const struct row *w)
{
    enum attn_dtype dtype;
    if (strcmp(w->key[KEY_METHOD], MITA_METHOD) != 0 || !(w->gather_dram_bytes > 0) ||
        attn_dtype_parse(w->key[KEY_DTYPE], &dtype) != 0)
        return 0;
    double ms = 0;
    for (int r = 0; r < p->nsteps; r++) {
        const struct step_row *st = &p->steps[r];
        if (st->N == w->N && !strcmp(st->step, GATHER_STEP) &&
            key_equal(st->key, w->key, 1u << KEY_DEVICE))
            ms += st->kernel_ms;
    }
    const struct attn_problem problem = {(int)key_number(w, KEY_AXIS(AXIS_B)),
                                         (int)key_number(w, KEY_AXIS(AXIS_H)), (int64_t)w->N,
                                         (int)key_number(w, KEY_D), dtype, ATTN_CUDA, 0};
    const struct attn_params params = {.m = (int64_t)key_number(w, KEY_M),
                                       .k = (int64_t)key_number(w, KEY_K)};
    return ms > 0 ? attn_bytes_gather(&problem, &params) / (ms * 1e-3) / 1e9 : 0;
}

static int has_in_mita_gbps(const struct plot *p, const struct row *w)
{
    return in_mita_gbps(p, w) > 0;
}

/* The gather version of row w where the results file says (a column
 * `gather`), else NULL. */
static const char *gather_version_of(const struct row *w)
{
    for (int a = 0; a < AXIS_COUNT; a++)
        if (!strcmp(AXES[a].column, "gather") && w->key[KEY_AXIS(a)][0])
            return w->key[KEY_AXIS(a)];
    return NULL;
}

/* in_mita[s]: 1 for a MiTA series with a point of its own gather. */
static void find_in_mita(const struct plot *p, int *in_mita)
{
    for (int s = 0; s < p->nseries; s++) in_mita[s] = 0;
    for (int r = 0; r < p->nrows; r++)
        if (has_in_mita_gbps(p, &p->rows[r])) in_mita[p->rows[r].series] = 1;
}

/* A series that draws in this figure: the gather rows', MiTA's own gathers. */
static int drawn_here(const struct plot *p, const int *in_mita, int s)
{
    return p->series[s].kind == ROW_GATHER || in_mita[s];
}

/* Is the shape of row a a better pick than b's for the row of the smallest
 * (want_large 0) or the largest m·k? Ties go to the larger k. */
static int better_shape(const struct row *a, const struct row *b, int want_large)
{
    const double mk_a = key_number(a, KEY_M) * key_number(a, KEY_K),
                 mk_b = key_number(b, KEY_M) * key_number(b, KEY_K);
    if (mk_a != mk_b) return want_large ? mk_a > mk_b : mk_a < mk_b;
    return key_number(a, KEY_K) > key_number(b, KEY_K);
}

/* "d=128, m=1024, k=1024 (256 KB per expert)": the bytes of one expert's
 * k rows of d elements, where the gather rows share one dtype. */
static void gather_panel_title(const struct plot *p, const struct row *w, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "d=%s, m=%s, k=%s", w->key[KEY_D], w->key[KEY_M],
                                w->key[KEY_K]);
    enum attn_dtype dtype;
    if (n >= len || field_varies(p, ROW_GATHER, KEY_DTYPE) ||
        attn_dtype_parse(w->key[KEY_DTYPE], &dtype) != 0)
        return;
    const double bytes = key_number(w, KEY_K) * key_number(w, KEY_D) * attn_dtype_size(dtype);
    if (bytes >= 1 << 20) snprintf(out + n, len - n, " (%g MB per expert)", bytes / (1 << 20));
    else if (bytes >= 1 << 10) snprintf(out + n, len - n, " (%g KB per expert)", bytes / (1 << 10));
    else if (bytes > 0) snprintf(out + n, len - n, " (%g bytes per expert)", bytes);
}

/* Series s's points: a gather row's gbps, or MiTA's own gather's. */
static int write_gather(const struct plot *p, int s, const int *in_mita, FILE *dat, int *idx)
{
    int n = series_rows(p, s, idx), written = 0;
    fprintf(dat, "# N gbps\n");
    for (int i = 0; i < n; i++) {
        const struct row *w = &p->rows[idx[i]];
        const double gbps = in_mita[s] ? in_mita_gbps(p, w) : w->gbps;
        if (gbps > 0) written += fprintf(dat, "%.17g %.17g\n", w->N, gbps) > 0;
    }
    return written;
}

/* The lines (line_first: a series of each, MiTA's after the gathers,
 * references last; line_of: each drawn series' line, -1 for the rest) and
 * their settings: line_label, line_colour (1-based among the gathers and
 * MiTA's; 0 for references), line_dash (MiTA's: 3), line_reference.
 * Returns how many. */
static int gather_lines(const struct plot *p, const int *in_mita, FILE *settings,
                        int *line_first, int *line_of)
{
    int nlines = 0;
    for (int pass = 0; pass < 3; pass++) /* the gathers, MiTA's, then the references */
        for (int s = 0; s < p->nseries; s++) {
            const struct row *w = &p->rows[p->series[s].first];
            if (pass == 0) line_of[s] = -1;
            const int reference = !strcmp(w->key[KEY_VARIANT], GATHER_REFERENCE);
            if (pass == 1 ? !in_mita[s]
                          : p->series[s].kind != ROW_GATHER || reference != (pass == 2))
                continue;
            int l = 0;
            while (l < nlines &&
                   !key_equal(p->series[line_first[l]].key, p->series[s].key, GATHER_SHAPE))
                l++;
            if (l == nlines) line_first[nlines++] = s;
            line_of[s] = l;
        }
    fprintf(settings, "array line_label[%d]\narray line_colour[%d]\narray line_dash[%d]\n"
                      "array line_reference[%d]\n", nlines, nlines, nlines, nlines);
    for (int l = 0, colour = 0; l < nlines; l++) {
        const struct series *se = &p->series[line_first[l]];
        const struct row *w = &p->rows[se->first];
        const char *const *key = se->key;
        const int mita = in_mita[line_first[l]];
        const int reference = !mita && !strcmp(key[KEY_VARIANT], GATHER_REFERENCE);
        const char *version = gather_version_of(w);
        char label[256];
        size_t n = mita ? (size_t)snprintf(label, sizeof label, "%s in %s/%s",
                                           version ? version : "its gather", key[KEY_METHOD],
                                           key[KEY_VARIANT])
                        : (size_t)snprintf(label, sizeof label, "%s%s", key[KEY_VARIANT],
                                           reference ? " (reference)" : "");
        append_varying(p, mita ? ROW_ATTENTION : ROW_GATHER, key, GATHER_SHAPE, NULL, label, n,
                       sizeof label);
        cut_label(label);
        fprintf(settings, "line_label[%d] = ", l + 1);
        gp_quoted(settings, label);
        fprintf(settings, "\nline_colour[%d] = %d\nline_dash[%d] = %d\nline_reference[%d] = %d\n",
                l + 1, reference ? 0 : ++colour, l + 1, mita ? 3 : se->dash, l + 1,
                reference);
    }
    return nlines;
}

/* The panels' shapes, as a series of each (panel_series), with their grid
 * cells; the number of panels, of grid rows and columns, and of shapes
 * left out. */
struct gather_grid {
    int panel_series[GATHER_MAX_PANELS], panel_column[GATHER_MAX_PANELS],
        panel_row[GATHER_MAX_PANELS];
    int npanels, rows, columns, shapes, left_out;
};

static void gather_panels(const struct plot *p, const int *in_mita, struct gather_grid *g)
{
    double ds[GATHER_MAX_COLUMNS];
    memset(g, 0, sizeof *g);
    for (int s = 0; s < p->nseries; s++) { /* the columns: the smallest d's */
        const struct row *w = &p->rows[p->series[s].first];
        if (!drawn_here(p, in_mita, s)) continue;
        int seen = 0;
        for (int q = 0; q < s && !seen; q++)
            seen = drawn_here(p, in_mita, q) &&
                   key_equal(p->rows[p->series[q].first].key, w->key, ~GATHER_SHAPE);
        g->shapes += !seen;
        const double d = key_number(w, KEY_D);
        int c = 0;
        while (c < g->columns && ds[c] < d) c++;
        if ((c < g->columns && ds[c] == d) || c == GATHER_MAX_COLUMNS) continue;
        if (g->columns == GATHER_MAX_COLUMNS) g->columns--; /* the largest makes room */
        memmove(ds + c + 1, ds + c, (size_t)(g->columns - c) * sizeof *ds);
        ds[c] = d;
        g->columns++;
    }
    for (int c = 0; c < g->columns; c++) {
        int pick[2] = {-1, -1}; /* the smallest and the largest m·k of this d */
        for (int s = 0; s < p->nseries; s++) {
            const struct row *w = &p->rows[p->series[s].first];
            if (!drawn_here(p, in_mita, s) || key_number(w, KEY_D) != ds[c]) continue;
            for (int large = 0; large < 2; large++)
                if (pick[large] < 0 ||
                    better_shape(w, &p->rows[p->series[pick[large]].first], large))
                    pick[large] = s;
        }
        const int rows = key_equal(p->rows[p->series[pick[0]].first].key,
                                   p->rows[p->series[pick[1]].first].key, ~GATHER_SHAPE)
                             ? 1 : 2;
        for (int r = 0; r < rows; r++) {
            g->panel_series[g->npanels] = pick[r];
            g->panel_column[g->npanels] = c + 1;
            g->panel_row[g->npanels++] = r + 1;
        }
        if (rows > g->rows) g->rows = rows;
    }
    g->left_out = g->shapes - g->npanels;
}

figure_prepare prepare_gather_bandwidth; /* the type figures.c expects */

int prepare_gather_bandwidth(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    double lo, hi, mita_lo, mita_hi, gbps_hi = 0;
    int has_rows = 0, has_mita = 0;
    for (int r = 0; r < p->nrows; r++) {
        const double mita_gbps = in_mita_gbps(p, &p->rows[r]);
        if (p->rows[r].kind == ROW_GATHER) gbps_hi = fmax(gbps_hi, p->rows[r].gbps);
        gbps_hi = fmax(gbps_hi, mita_gbps);
        has_rows |= p->rows[r].kind == ROW_GATHER || mita_gbps > 0;
        has_mita |= mita_gbps > 0;
    }
    if (!has_rows)
        return no_series(0, "no ok rows with method '" GATHER_METHOD "' (the gather suite "
                         "writes them; README.md, \"Figures\"), nor profiled MiTA rows with "
                         "a step '" GATHER_STEP "'", why, why_len);
    int *line_first = malloc((size_t)p->nseries * sizeof *line_first);
    int *line_of = malloc((size_t)p->nseries * sizeof *line_of);
    int *in_mita = malloc((size_t)p->nseries * sizeof *in_mita);
    int *idx = malloc((size_t)p->nrows * sizeof *idx);
    int rc = line_first && line_of && in_mita && idx ? 0 : -1;
    if (rc != 0) snprintf(why, why_len, "out of memory");
    struct gather_grid g;
    if (rc == 0) {
        find_in_mita(p, in_mita);
        gather_panels(p, in_mita, &g);
    }
    const int nlines = rc ? 0 : gather_lines(p, in_mita, settings, line_first, line_of);
    if (rc == 0) {
        gp_number(settings, "grid_columns", g.columns);
        gp_number(settings, "grid_rows", g.rows);
        gp_number(settings, "line_count", nlines);
        fprintf(settings, "array panel_title[%d]\narray panel_column[%d]\narray panel_row[%d]\n"
                          "array panel_line_count[%d]\narray panel_line[%d]\n"
                          "array panel_file[%d]\n", g.npanels, g.npanels, g.npanels, g.npanels,
                g.npanels * nlines, g.npanels * nlines);
    }
    /* Panel i's j-th line: line panel_line[(i-1)*line_count + j], its points in
     * panel_file[(i-1)*line_count + j], for j up to panel_line_count[i]. */
    for (int i = 0; rc == 0 && i < g.npanels; i++) {
        const struct row *shape = &p->rows[p->series[g.panel_series[i]].first];
        char title[160], path[1100];
        gather_panel_title(p, shape, title, sizeof title);
        fprintf(settings, "panel_title[%d] = ", i + 1);
        gp_quoted(settings, title);
        fprintf(settings, "\npanel_column[%d] = %d\npanel_row[%d] = %d\n", i + 1,
                g.panel_column[i], i + 1, g.panel_row[i]);
        int drawn = 0;
        for (int l = 0; l < nlines && rc == 0; l++)
            for (int s = 0; s < p->nseries; s++) {
                if (line_of[s] != l ||
                    !key_equal(p->rows[p->series[s].first].key, shape->key, ~GATHER_SHAPE))
                    continue;
                FILE *dat = fopen(work_path(p, path, sizeof path, "gather%d_%d.dat", i, l), "w");
                if (!dat) {
                    snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno));
                    rc = -1;
                    break;
                }
                write_gather(p, s, in_mita, dat, idx);
                fclose(dat);
                drawn++;
                fprintf(settings, "panel_line[%d] = %d\npanel_file[%d] = ",
                        i * nlines + drawn, l + 1, i * nlines + drawn);
                gp_quoted(settings, path);
                fputc('\n', settings);
            }
        fprintf(settings, "panel_line_count[%d] = %d\n", i + 1, drawn);
    }
    free(line_first);
    free(line_of);
    free(in_mita);
    free(idx);
    if (rc != 0) return rc;

    n_range(p, ROW_GATHER, NULL, &lo, &hi);
    n_range(p, ROW_ATTENTION, has_in_mita_gbps, &mita_lo, &mita_hi);
    gp_n_axis(settings, fmin(lo, mita_lo), fmax(hi, mita_hi));
    gp_number(settings, "copy_gbps", p->ceiling[CEIL_DRAM]);
    gp_number(settings, "gbps_hi", fmax(gbps_hi, p->ceiling[CEIL_DRAM]) * 1.15);
    char source[200], label[512];
    if (p->ceiling_from_file[CEIL_DRAM])
        snprintf(source, sizeof source,
                 "a device-to-device copy measured by attnbench ceilings%s%s",
                 p->ceilings_device[0] ? " on " : "", p->ceilings_device);
    else
        snprintf(source, sizeof source, "the nominal H100 SXM5 DRAM bandwidth (datasheet), not "
                                        "measured on this device");
    snprintf(label, sizeof label, "Copy ceiling %.4g GB/s (read + written): %s.",
             p->ceiling[CEIL_DRAM], source);
    gp_string(settings, "note", label);
    size_t n = (size_t)snprintf(label, sizeof label, "copy (reference): the same bytes copied "
                                "contiguously, this shape's ceiling in the same run.%s",
                                has_mita ? " In mita (dotted): its gather step, the same "
                                           "bytes over the step's kernel time (--profile)."
                                         : "");
    if (g.left_out > 0)
        snprintf(label + n, sizeof label - n, " Panels: the smallest and the largest m\u00b7k "
                 "of each d; %d other (d, m, k) shape%s not shown.", g.left_out,
                 g.left_out == 1 ? "" : "s");
    gp_string(settings, "shapes_note", label);
    return 0;
}
