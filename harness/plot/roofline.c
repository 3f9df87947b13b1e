/* roofline.c — the roofline (plots/roofline.gp): whether each attention
 * method is bound by memory or by compute, and how far below its roof it
 * runs: a point per method and N at its intensity (FLOPs per DRAM byte) and
 * rate, under the compute roof of each dtype present and the DRAM slope. */
#include "plot/figure.h"

#include <math.h>
#include <string.h>

#include "plot/gnuplot.h"

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

figure_prepare prepare_roofline; /* the type figures.c expects */

int prepare_roofline(const struct plot *p, FILE *settings, char *why, size_t why_len)
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
            if (!strcmp(w->key[KEY_AXIS(AXIS_DTYPE)], roofs[i].dtype)) present[i] = 1;
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
    n_range(p, ROW_ATTENTION, NULL, &n_lo, &n_hi);
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
