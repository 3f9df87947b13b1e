/* plot.c — `attnbench plot` (see plot.h): the figures, each writing its
 * settings and .dat files from the series (series.h), and the driver that
 * checks the inputs and runs the figures' scripts (gnuplot.h) on them. */
#include "plot/plot.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attn.h"
#include "config.h"
#include "plot/gnuplot.h"
#include "plot/series.h"
#include "results/csv.h"

#define USAGE "usage: attnbench plot RESULTS.csv [MORE.csv ...] [--out DIR] [--ceilings FILE]"
/* The method whose steps the steps figure breaks down. */
#define MITA_METHOD "mita"

/* A message on stderr; returns 2, the exit status of unusable input. */
static int plot_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "attnbench plot: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 2;
}

static int is_power_of_two(double n) { return n >= 1 && n == ldexp(1.0, ilogb(n)); }

/* ---- the figures ---------------------------------------------------------------- */

/* Each prepare function writes its figure's settings (and any .dat files
 * beyond the series') and returns 0; or 1 with the reason it is skipped,
 * or -1 with the reason it failed, in `why`. */

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

static int prepare_time(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    double lo, hi;
    n_range(p, ROW_ATTENTION, &lo, &hi);
    return gp_series_against_n(p, settings, "times", write_times, lo, hi,
                               "no ok rows of attention methods", why, why_len);
}

/* Attention rows with a positive FLOP model (TFLOP/s on a log axis). */
static int write_throughput(const struct plot *p, int s, FILE *dat, int *idx)
{
    int n = series_rows(p, s, idx), written = 0;
    fprintf(dat, "# N tflops\n");
    for (int i = 0; i < n; i++) {
        const struct row *w = &p->rows[idx[i]];
        if (w->tflops <= 0) continue;
        fprintf(dat, "%.17g %.17g\n", w->N, w->tflops);
        written++;
    }
    return written;
}

static int prepare_throughput(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    double lo, hi;
    n_range(p, ROW_ATTENTION, &lo, &hi);
    return gp_series_against_n(p, settings, "tflops", write_throughput, lo, hi,
                               "no ok attention rows with a FLOP model", why, why_len);
}

/* attnbench's own full/flash (not a peer's): the speedup's baseline. */
static int is_baseline(const struct plot *p, const struct row *w)
{
    return !strcmp(w->key[KEY_METHOD], "full") && !strcmp(w->key[KEY_VARIANT], "flash") &&
           !p->series[w->series].peer;
}

/* The baseline row measured on the same device, dtype, shape and N, or NULL. */
static const struct row *baseline_for(const struct plot *p, const struct row *w)
{
    static const int same[] = {KEY_DEVICE, KEY_DTYPE, KEY_B, KEY_H, KEY_D};
    for (int r = 0; r < p->nrows; r++) {
        const struct row *b = &p->rows[r];
        if (b->kind != ROW_ATTENTION || !is_baseline(p, b) || b->N != w->N) continue;
        size_t k = 0;
        while (k < sizeof same / sizeof same[0] && !strcmp(b->key[same[k]], w->key[same[k]])) k++;
        if (k == sizeof same / sizeof same[0]) return b;
    }
    return NULL;
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

static int prepare_speedup(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    double lo = INFINITY, hi = 0;
    for (int r = 0; r < p->nrows; r++)
        if (p->rows[r].kind == ROW_ATTENTION && !is_baseline(p, &p->rows[r]) &&
            baseline_for(p, &p->rows[r])) {
            lo = fmin(lo, p->rows[r].N);
            hi = fmax(hi, p->rows[r].N);
        }
    return gp_series_against_n(p, settings, "speedup", write_speedup, lo, hi,
                               "no ok full/flash row of attnbench with another method at the "
                               "same device, dtype, shape and N to compare with", why, why_len);
}

/* A point of the roofline: the profiling pass's intensity (FLOPs over
 * measured DRAM bytes) and rate where the row has them, else the models'. */
static double intensity(const struct row *w)
{
    return w->profiled ? w->intensity : w->flops / w->bytes;
}

static double roofline_tflops(const struct row *w)
{
    return w->profiled ? w->achieved_tflops : w->tflops;
}

/* Rows that can be placed on the roofline. */
static int on_roofline(const struct row *w)
{
    return w->kind == ROW_ATTENTION &&
           (w->profiled || (w->flops > 0 && w->bytes > 0 && w->tflops > 0));
}

static int write_roofline(const struct plot *p, int s, FILE *dat, int *idx)
{
    int n = series_rows(p, s, idx), written = 0;
    fprintf(dat, "# N flop_per_byte tflops\n");
    for (int i = 0; i < n; i++) {
        const struct row *w = &p->rows[idx[i]];
        if (!on_roofline(w)) continue;
        fprintf(dat, "%.17g %.17g %.17g\n", w->N, intensity(w), roofline_tflops(w));
        written++;
    }
    return written;
}

static int prepare_roofline(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    /* One compute roof per dtype present; a dtype without one gets none. */
    static const struct {
        const char *dtype;
        enum ceiling_id ceiling;
    } roofs[] = {{"bf16", CEIL_BF16}, {"fp16", CEIL_FP16}, {"fp32", CEIL_FP32}};
    enum { NROOFS = sizeof roofs / sizeof roofs[0] };
    int present[NROOFS] = {0}, nroofs = 0, measured = 0, modelled = 0;
    double ai_lo = INFINITY, ai_hi = 0, tf_lo = INFINITY, tf_hi = 0, n_lo, n_hi;
    for (int r = 0; r < p->nrows; r++) {
        const struct row *w = &p->rows[r];
        if (!on_roofline(w)) continue;
        for (int i = 0; i < NROOFS; i++)
            if (!strcmp(w->key[KEY_DTYPE], roofs[i].dtype)) present[i] = 1;
        ai_lo = fmin(ai_lo, intensity(w));
        ai_hi = fmax(ai_hi, intensity(w));
        tf_lo = fmin(tf_lo, roofline_tflops(w));
        tf_hi = fmax(tf_hi, roofline_tflops(w));
        w->profiled ? measured++ : modelled++;
    }
    const int n_series = gp_series(p, settings, ROW_ATTENTION, "roofline", write_roofline);
    if (n_series <= 0)
        return no_series(n_series, "no ok attention rows with FLOP and byte models", why,
                         why_len);
    n_range(p, ROW_ATTENTION, &n_lo, &n_hi);
    gp_number(settings, "n_lo", n_lo);
    for (int i = 0; i < NROOFS; i++) nroofs += present[i];
    fprintf(settings, "array roof_tflops[%d]\narray roof_label[%d]\n", nroofs ? nroofs : 1,
            nroofs ? nroofs : 1);
    double peak_hi = 0;
    for (int i = 0, j = 0; i < NROOFS; i++) {
        if (!present[i]) continue;
        char label[128];
        const double peak = p->ceiling[roofs[i].ceiling];
        snprintf(label, sizeof label, "%s roof (%.4g TFLOP/s)", roofs[i].dtype, peak);
        j++;
        fprintf(settings, "roof_tflops[%d] = %.17g\nroof_label[%d] = ", j, peak, j);
        gp_quoted(settings, label);
        fputc('\n', settings);
        peak_hi = fmax(peak_hi, peak);
    }
    gp_number(settings, "roof_count", nroofs);
    gp_number(settings, "dram_gbps", p->ceiling[CEIL_DRAM]);
    /* Show the ridge of the highest roof and a margin around the points. */
    const double ridge = nroofs ? peak_hi * 1e3 / p->ceiling[CEIL_DRAM] : ai_lo;
    gp_number(settings, "ai_lo", fmin(ai_lo, ridge) / 2);
    gp_number(settings, "ai_hi", fmax(ai_hi, ridge) * 2);
    gp_number(settings, "tf_lo", tf_lo / 3);
    gp_number(settings, "tf_hi", fmax(tf_hi, peak_hi) * 3);

    /* Where the ceilings drawn came from: the file, nominal figures, or both. */
    int from_file = p->ceiling_from_file[CEIL_DRAM], nominal = !from_file;
    for (int i = 0; i < NROOFS; i++)
        if (present[i]) {
            from_file += p->ceiling_from_file[roofs[i].ceiling];
            nominal += !p->ceiling_from_file[roofs[i].ceiling];
        }
    char note[320];
    snprintf(note, sizeof note, "Ceilings (DRAM copy %.4g GB/s): %s%s%s.",
             p->ceiling[CEIL_DRAM],
             !nominal    ? "measured, from the ceilings file"
             : from_file ? "from the ceilings file where given, else nominal H100 SXM5 "
                           "datasheet figures"
                         : "nominal H100 SXM5 datasheet figures (dense), not measured on this "
                           "device",
             from_file && p->ceilings_device[0] ? ", on " : "",
             from_file ? p->ceilings_device : "");
    gp_string(settings, "ceiling_note", note);
    snprintf(note, sizeof note, "Intensity: %s. One point per N; larger markers, larger N.",
             measured && modelled
                 ? "measured DRAM bytes where profiled (attnbench run --profile), else the models"
             : measured ? "FLOPs over measured DRAM bytes read + written (attnbench run --profile)"
                        : "FLOP model over byte model (inputs read once, output written once)");
    gp_string(settings, "bytes_note", note);
    return 0;
}

/* The gather figure: one line per variant, one panel per shape (d, m, k).
 * A line is the gather series that agree on all of their key but d, m and
 * k, so that each variant has one legend entry however many shapes were
 * run. The panels: a column per d (ascending), and in it a row for the
 * smallest and one for the largest m·k (a tie goes to the larger k), so
 * that small and large experts sit apart and no panel has more lines than
 * there are variants. Every panel shares the N and GB/s ranges. */
#define GATHER_SHAPE (1u << KEY_D | 1u << KEY_M | 1u << KEY_K)
#define GATHER_MAX_COLUMNS 3 /* the smallest d's; the figure counts the rest as left out */
#define GATHER_MAX_PANELS (2 * GATHER_MAX_COLUMNS)
/* The variant that copies the same bytes contiguously: not a gather but
 * the shape's own ceiling, drawn as a reference (grey) after the others. */
#define GATHER_REFERENCE "copy"

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

static int write_gather(const struct plot *p, int s, FILE *dat, int *idx)
{
    int n = series_rows(p, s, idx);
    fprintf(dat, "# N gbps\n");
    for (int i = 0; i < n; i++)
        fprintf(dat, "%.17g %.17g\n", p->rows[idx[i]].N, p->rows[idx[i]].gbps);
    return n;
}

/* The lines (line_first: a series of each, references last; line_of: each
 * gather series' line, -1 for the rest) and their settings: line_label,
 * line_colour (1-based among the gathers; 0 for references), line_dash,
 * line_reference. Returns how many. */
static int gather_lines(const struct plot *p, FILE *settings, int *line_first, int *line_of)
{
    int nlines = 0;
    for (int pass = 0; pass < 2; pass++) /* the gathers, then the references */
        for (int s = 0; s < p->nseries; s++) {
            const struct row *w = &p->rows[p->series[s].first];
            if (pass == 0) line_of[s] = -1;
            if (p->series[s].kind != ROW_GATHER ||
                !strcmp(w->key[KEY_VARIANT], GATHER_REFERENCE) != (pass == 1))
                continue;
            int l = 0;
            while (l < nlines &&
                   !key_equal(p->rows[p->series[line_first[l]].first].key, w->key, GATHER_SHAPE))
                l++;
            if (l == nlines) line_first[nlines++] = s;
            line_of[s] = l;
        }
    fprintf(settings, "array line_label[%d]\narray line_colour[%d]\narray line_dash[%d]\n"
                      "array line_reference[%d]\n", nlines, nlines, nlines, nlines);
    for (int l = 0, colour = 0; l < nlines; l++) {
        const struct series *se = &p->series[line_first[l]];
        const char *const *key = p->rows[se->first].key;
        const int reference = !strcmp(key[KEY_VARIANT], GATHER_REFERENCE);
        char label[256];
        size_t n = (size_t)snprintf(label, sizeof label, "%s%s", key[KEY_VARIANT],
                                    reference ? " (reference)" : "");
        append_varying(p, ROW_GATHER, key, GATHER_SHAPE, label, n, sizeof label);
        cut_label(label);
        fprintf(settings, "line_label[%d] = ", l + 1);
        gp_quoted(settings, label);
        fprintf(settings, "\nline_colour[%d] = %d\nline_dash[%d] = %d\nline_reference[%d] = %d\n",
                l + 1, reference ? 0 : ++colour, l + 1, se->peer ? 2 : 1, l + 1, reference);
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

static void gather_panels(const struct plot *p, struct gather_grid *g)
{
    double ds[GATHER_MAX_COLUMNS];
    memset(g, 0, sizeof *g);
    for (int s = 0; s < p->nseries; s++) { /* the columns: the smallest d's */
        const struct row *w = &p->rows[p->series[s].first];
        if (p->series[s].kind != ROW_GATHER) continue;
        int seen = 0;
        for (int q = 0; q < s && !seen; q++)
            seen = p->series[q].kind == ROW_GATHER &&
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
            if (p->series[s].kind != ROW_GATHER || key_number(w, KEY_D) != ds[c]) continue;
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

static int prepare_gather(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    double lo, hi, gbps_hi = 0;
    int has_rows = 0;
    for (int r = 0; r < p->nrows; r++)
        if (p->rows[r].kind == ROW_GATHER) {
            gbps_hi = fmax(gbps_hi, p->rows[r].gbps);
            has_rows = 1;
        }
    if (!has_rows)
        return no_series(0, "no ok rows with method '" GATHER_METHOD "' (the gather suite "
                         "writes them; README.md, \"Figures\")", why, why_len);
    int *line_first = malloc((size_t)p->nseries * sizeof *line_first);
    int *line_of = malloc((size_t)p->nseries * sizeof *line_of);
    int *idx = malloc((size_t)p->nrows * sizeof *idx);
    int rc = line_first && line_of && idx ? 0 : -1;
    if (rc != 0) snprintf(why, why_len, "out of memory");
    struct gather_grid g;
    gather_panels(p, &g);
    const int nlines = rc ? 0 : gather_lines(p, settings, line_first, line_of);
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
                write_gather(p, s, dat, idx);
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
    free(idx);
    if (rc != 0) return rc;

    n_range(p, ROW_GATHER, &lo, &hi);
    gp_n_axis(settings, lo, hi);
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
                                "contiguously, this shape's ceiling in the same run.");
    if (g.left_out > 0)
        snprintf(label + n, sizeof label - n, " Panels: the smallest and the largest m\u00b7k "
                 "of each d; %d other (d, m, k) shape%s not shown.", g.left_out,
                 g.left_out == 1 ? "" : "s");
    gp_string(settings, "shapes_note", label);
    return 0;
}

/* The kernel time of `step` at N in the configuration of `config` (its
 * kernels summed), or -1 when the steps file has none. */
static double step_ms(const struct plot *p, const struct step_row *config, const char *step,
                      double N)
{
    double ms = -1;
    for (int r = 0; r < p->nsteps; r++) {
        const struct step_row *w = &p->steps[r];
        if (w->N == N && key_equal(w->key, config->key, 0) && !strcmp(w->step, step))
            ms = (ms < 0 ? 0 : ms) + w->kernel_ms;
    }
    return ms;
}

#define MAX_STEPS 32
#define MAX_BARS 64

/* MiTA's steps, from the steps files: one stacked bar per N of the first
 * MiTA configuration (variant, dtype, shape, parameters) there; the steps
 * in the order the file first lists them (the order they ran); each bar the
 * steps' shares of their summed kernel time, the sum written above it. An
 * N that lacks a step is left out, so that every bar adds up the same
 * steps. */
static int prepare_steps(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    const struct step_row *config = NULL;
    const char *steps[MAX_STEPS];
    double ns[MAX_BARS];
    int nsteps = 0, nn = 0, other_configs = 0;
    for (int r = 0; r < p->nsteps; r++) {
        const struct step_row *w = &p->steps[r];
        if (strcmp(w->key[KEY_METHOD], MITA_METHOD) != 0) continue;
        if (!config) config = w;
        if (!key_equal(w->key, config->key, 0)) {
            other_configs = 1;
            continue;
        }
        int i = 0;
        while (i < nsteps && strcmp(steps[i], w->step) != 0) i++;
        if (i == nsteps && nsteps < MAX_STEPS) steps[nsteps++] = w->step;
        i = 0;
        while (i < nn && ns[i] != w->N) i++;
        if (i < nn || nn == MAX_BARS) continue;
        for (i = nn++; i > 0 && ns[i - 1] > w->N; i--) ns[i] = ns[i - 1]; /* keep ascending */
        ns[i] = w->N;
    }
    if (!config) {
        snprintf(why, why_len, "no rows of method '" MITA_METHOD "' in a steps file beside the "
                               "results (RESULTS.steps.csv, from attnbench run --profile)");
        return 1;
    }
    char path[1100];
    FILE *dat = fopen(work_path(p, path, sizeof path, "steps.dat"), "w");
    if (!dat) {
        snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(dat, "# N_label total_ms, then each step's ms in order\n");
    int bars = 0, incomplete = 0;
    for (int i = 0; i < nn; i++) {
        double ms[MAX_STEPS], total = 0;
        int s = 0;
        for (; s < nsteps && (ms[s] = step_ms(p, config, steps[s], ns[i])) >= 0; s++)
            total += ms[s];
        if (s < nsteps || !(total > 0)) {
            incomplete++;
            continue;
        }
        if (is_power_of_two(ns[i])) fprintf(dat, "2^{%d} %.17g", ilogb(ns[i]), total);
        else fprintf(dat, "%.0f %.17g", ns[i], total);
        for (s = 0; s < nsteps; s++) fprintf(dat, " %.17g", ms[s]);
        fputc('\n', dat);
        bars++;
    }
    fclose(dat);
    if (bars == 0) {
        snprintf(why, why_len, "no N of %s has a kernel time for every step", MITA_METHOD);
        return 1;
    }
    gp_string(settings, "steps_file", path);
    fprintf(settings, "array step_name[%d]\n", nsteps);
    for (int s = 0; s < nsteps; s++) {
        fprintf(settings, "step_name[%d] = ", s + 1);
        gp_quoted(settings, steps[s]);
        fputc('\n', settings);
    }
    const char *const *key = config->key;
    char note[512];
    size_t n = (size_t)snprintf(note, sizeof note, "%s/%s, %s, B=%s H=%s d=%s", key[KEY_METHOD],
                                key[KEY_VARIANT], key[KEY_DTYPE], key[KEY_B], key[KEY_H],
                                key[KEY_D]);
    static const int params[] = {KEY_M, KEY_K, KEY_S_R, KEY_SHARED_SCALE};
    for (size_t i = 0; i < sizeof params / sizeof params[0] && n < sizeof note; i++)
        if (key[params[i]][0])
            n += (size_t)snprintf(note + n, sizeof note - n, " %s=%s", key_columns[params[i]],
                                  key[params[i]]);
    if (n < sizeof note)
        n += (size_t)snprintf(note + n, sizeof note - n, "; kernel times under the profiler");
    if (n < sizeof note && incomplete)
        n += (size_t)snprintf(note + n, sizeof note - n, "; %d N left out (a step missing)",
                              incomplete);
    if (n < sizeof note && other_configs)
        snprintf(note + n, sizeof note - n, "; other configurations not shown");
    gp_string(settings, "note", note);
    return 0;
}

static const struct figure {
    const char *name;          /* plots/NAME.gp draws DIR/NAME.{png,svg} */
    int (*prepare)(const struct plot *p, FILE *settings, char *why, size_t why_len);
} figures[] = {
    {"time_vs_n", prepare_time},
    {"throughput_vs_n", prepare_throughput},
    {"speedup_vs_full", prepare_speedup},
    {"roofline", prepare_roofline},
    {"gather_bandwidth", prepare_gather},
    {"mita_steps", prepare_steps},
};
#define FIGURE_COUNT ((int)(sizeof figures / sizeof figures[0]))

/* mkdir -p */
static int make_dirs(const char *dir)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return -1;
    for (char *c = path + 1;; c++) {
        if (*c != '/' && *c) continue;
        const char saved = *c;
        *c = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) return -1;
        if (!saved) return 0;
        *c = saved;
    }
}

/* Removes the temporary folder and the files in it (it has no subfolders). */
static void remove_work(const struct plot *p)
{
    DIR *d = opendir(p->work);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        char path[1100];
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlink(work_path(p, path, sizeof path, "%s", e->d_name));
    }
    closedir(d);
    rmdir(p->work);
}

/* Draws every figure with the scripts of the folder `scripts` into
 * `out_dir`; returns the exit status. */
static int draw(const struct plot *p, const char *scripts, const char *out_dir)
{
    int failed = 0, drawn = 0;
    for (int i = 0; i < FIGURE_COUNT; i++) {
        const char *name = figures[i].name;
        char settings_path[1100], why[512] = "";
        work_path(p, settings_path, sizeof settings_path, "%s.gp", name);
        FILE *settings = fopen(settings_path, "w");
        if (!settings) {
            fprintf(stderr, "attnbench plot: cannot write %s: %s\n", settings_path,
                    strerror(errno));
            return 2;
        }
        fprintf(settings, "# %s: written by attnbench plot for %s\n", name, p->csv_paths[0]);
        gp_string(settings, "device", p->device);
        gp_string(settings, "date", p->date);
        int rc = figures[i].prepare(p, settings, why, sizeof why);
        fclose(settings);
        if (rc < 0) {
            fprintf(stderr, "attnbench plot: %s: %s\n", name, why);
            failed++;
            continue;
        }
        if (rc > 0) {
            fprintf(stderr, "attnbench plot: %s skipped: %s\n", name, why);
            gnuplot_remove_drawn(out_dir, name);
            continue;
        }
        gnuplot_draw(settings_path, scripts, out_dir, name) == 0 ? drawn++ : failed++;
    }
    fprintf(stderr, "attnbench plot: %d figure%s in %s (PNG and SVG)%s\n", drawn,
            drawn == 1 ? "" : "s", out_dir, failed ? ", some failed" : "");
    return failed ? 1 : 0;
}

int plot_command(int argc, char **argv)
{
    struct plot p = {0};
    const char *out_dir = "figures";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--out") || !strcmp(a, "--ceilings")) {
            if (i + 1 >= argc) return plot_error("%s needs a value (%s)", a, USAGE);
            if (!strcmp(a, "--out")) out_dir = argv[++i];
            else p.ceilings_path = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return plot_error("unknown flag '%s' (%s)", a, USAGE);
        } else if (p.ninputs == MAX_INPUTS) {
            return plot_error("more than %d results files", MAX_INPUTS);
        } else {
            p.csv_paths[p.ninputs++] = a;
        }
    }
    if (!p.ninputs) return plot_error("no results file (%s)", USAGE);

    const char *scripts = getenv("ATTNBENCH_PLOTS");
    if (!scripts || !*scripts) scripts = ATTN_SOURCE_DIR "/plots";
    int status = 2;
    if (series_load(&p) != 0) goto done;
    for (int i = 0; i < FIGURE_COUNT; i++) {
        char script[1100];
        if (access(gnuplot_script(script, sizeof script, scripts, figures[i].name), R_OK) != 0) {
            plot_error("no figure script %s (set ATTNBENCH_PLOTS to the plots/ folder of "
                       "attnbench's source)", script);
            goto done;
        }
    }
    if (!gnuplot_installed()) {
        plot_error("gnuplot is not installed (not on PATH); Debian/Ubuntu: apt-get install "
                   "gnuplot-nox");
        goto done;
    }
    if (make_dirs(out_dir) != 0) {
        plot_error("cannot create %s: %s", out_dir, strerror(errno));
        goto done;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(p.work, sizeof p.work, "%s/attnbench-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(p.work)) {
        plot_error("cannot make a temporary folder %s: %s", p.work, strerror(errno));
        goto done;
    }
    status = draw(&p, scripts, out_dir);
    remove_work(&p);
done:
    series_free(&p);
    return status;
}
