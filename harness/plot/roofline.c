/* roofline.c — the roofline (plots/roofline.gp): whether each attention
 * method is bound by memory or by compute, and how far below its roof it
 * runs: a point per method and N at its intensity (FLOPs per DRAM byte) and
 * rate, under the compute roof of each dtype present and the DRAM slope.
 *
 * Points go under the roofs of their own kind of device, never a CPU's
 * under a GPU's: the figure draws the GPU rows when there are any, under
 * the GPU ceilings (the --ceilings file's, else nominal H100 figures); else
 * the CPU rows of the CPU whose ceilings --ceilings gives (`attnbench
 * ceilings --backend cpu`), and without them it is skipped. The rows it
 * leaves out are counted on stderr; the other figures draw them all. */
#include "plot/figure.h"

#include <math.h>
#include <stdio.h>
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

/* Rows that can be placed on a roofline. */
static int placeable(const struct row *w)
{
    return w->kind == ROW_ATTENTION &&
           (w->profiled || (w->flops > 0 && w->bytes > 0 && w->tflops > 0));
}

static int cpu_row(const struct row *w) { return !strcmp(w->key[KEY_BACKEND], "cpu"); }

/* Does the figure draw CPU rows: are the placeable rows all a CPU's? */
static int draws_cpu(const struct plot *p)
{
    int cpu = 0;
    for (int r = 0; r < p->nrows; r++) {
        if (!placeable(&p->rows[r])) continue;
        if (!cpu_row(&p->rows[r])) return 0;
        cpu = 1;
    }
    return cpu;
}

/* Rows the figure draws: placeable, of the kind it draws, and, CPU rows,
 * of the CPU whose roofs the ceilings file holds. */
static int on_roofline(const struct plot *p, int cpu, const struct row *w)
{
    if (!placeable(w) || cpu_row(w) != cpu) return 0;
    return !cpu || (p->cpu_ceiling[CEIL_DRAM] > 0 &&
                    !strcmp(w->key[KEY_DEVICE], p->cpu_ceilings_device));
}

static int write_roofline(const struct plot *p, int s, FILE *dat, int *idx)
{
    const int cpu = draws_cpu(p);
    int n = series_rows(p, s, idx), written = 0;
    fprintf(dat, "# N flop_per_byte tflops\n");
    for (int i = 0; i < n; i++) {
        const struct row *w = &p->rows[idx[i]];
        if (!on_roofline(p, cpu, w)) continue;
        fprintf(dat, "%.17g %.17g %.17g\n", w->N, intensity(w), roofline_tflops(w));
        written++;
    }
    return written;
}

/* Where the intensity of the points drawn came from. */
static void write_bytes_note(FILE *settings, int measured, int modelled)
{
    char note[200];
    snprintf(note, sizeof note, "Intensity: %s. One point per N; larger markers, larger N.",
             measured && modelled
                 ? "measured DRAM bytes where profiled (attnbench run --profile), else the models"
             : measured ? "FLOPs over measured DRAM bytes read + written (attnbench run --profile)"
                        : "FLOP model over byte model (inputs read once, output written once)");
    gp_string(settings, "bytes_note", note);
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
    const int cpu = draws_cpu(p);
    const double *ceiling = cpu ? p->cpu_ceiling : p->ceiling;
    if (cpu && !(p->cpu_ceiling[CEIL_DRAM] > 0)) {
        snprintf(why, why_len, "CPU rows need a CPU's roofs: give --ceilings FILE of `attnbench "
                               "ceilings --backend cpu` on that CPU (GPU roofs are never drawn "
                               "over CPU points)");
        return 1;
    }
    int present[NROOFS] = {0}, nroofs = 0, measured = 0, modelled = 0, left_out = 0;
    double ai_lo = INFINITY, ai_hi = 0, tf_lo = INFINITY, tf_hi = 0, n_lo = INFINITY;
    for (int r = 0; r < p->nrows; r++) {
        const struct row *w = &p->rows[r];
        if (!placeable(w)) continue;
        if (!on_roofline(p, cpu, w)) {
            left_out++;
            continue;
        }
        for (int i = 0; i < NROOFS; i++)
            if (!strcmp(w->key[KEY_AXIS(AXIS_DTYPE)], roofs[i].dtype)) present[i] = 1;
        ai_lo = fmin(ai_lo, intensity(w));
        ai_hi = fmax(ai_hi, intensity(w));
        tf_lo = fmin(tf_lo, roofline_tflops(w));
        tf_hi = fmax(tf_hi, roofline_tflops(w));
        n_lo = fmin(n_lo, w->N);
        w->profiled ? measured++ : modelled++;
    }
    if (cpu && !(measured + modelled)) {
        snprintf(why, why_len, "the CPU ceilings are of '%s', not of the CPU rows' device (measure "
                               "them there with `attnbench ceilings --backend cpu`)",
                 p->cpu_ceilings_device);
        return 1;
    }
    const int n_series = gp_series(p, settings, ROW_ATTENTION, "roofline", write_roofline);
    if (n_series <= 0)
        return no_series(n_series, "no ok attention rows with FLOP and byte models", why,
                         why_len);
    if (left_out && cpu)
        fprintf(stderr, "attnbench plot: roofline: %d CPU row%s of another device than the CPU "
                        "ceilings' ('%s') left out\n", left_out, left_out > 1 ? "s" : "",
                p->cpu_ceilings_device);
    else if (left_out)
        fprintf(stderr, "attnbench plot: roofline: %d CPU row%s left out: CPU points go under a "
                        "CPU's roofs only (plot the CPU results alone, with --ceilings from "
                        "`attnbench ceilings --backend cpu`)\n", left_out,
                left_out > 1 ? "s" : "");
    gp_number(settings, "n_lo", n_lo);
    for (int i = 0; i < NROOFS; i++) {
        present[i] &= ceiling[roofs[i].ceiling] > 0; /* a CPU has no tensor-core roof */
        nroofs += present[i];
    }
    fprintf(settings, "array roof_tflops[%d]\narray roof_label[%d]\n", nroofs ? nroofs : 1,
            nroofs ? nroofs : 1);
    double peak_hi = 0;
    for (int i = 0, j = 0; i < NROOFS; i++) {
        if (!present[i]) continue;
        char label[128];
        const double peak = ceiling[roofs[i].ceiling];
        snprintf(label, sizeof label, "%s roof (%.4g TFLOP/s)", roofs[i].dtype, peak);
        j++;
        fprintf(settings, "roof_tflops[%d] = %.17g\nroof_label[%d] = ", j, peak, j);
        gp_quoted(settings, label);
        fputc('\n', settings);
        peak_hi = fmax(peak_hi, peak);
    }
    gp_number(settings, "roof_count", nroofs);
    gp_number(settings, "dram_gbps", ceiling[CEIL_DRAM]);
    /* Show the ridge of the highest roof and a margin around the points. */
    const double ridge = nroofs ? peak_hi * 1e3 / ceiling[CEIL_DRAM] : ai_lo;
    gp_number(settings, "ai_lo", fmin(ai_lo, ridge) / 2);
    gp_number(settings, "ai_hi", fmax(ai_hi, ridge) * 2);
    gp_number(settings, "tf_lo", tf_lo / 3);
    gp_number(settings, "tf_hi", fmax(tf_hi, peak_hi) * 3);

    char note[320];
    if (cpu) {
        snprintf(note, sizeof note, "Ceilings (DRAM copy %.4g GB/s): measured, from the ceilings "
                                    "file, on %s.", ceiling[CEIL_DRAM], p->cpu_ceilings_device);
        gp_string(settings, "ceiling_note", note);
        write_bytes_note(settings, measured, modelled);
        return 0;
    }
    /* Where the ceilings drawn came from: the file, nominal figures, or both. */
    int from_file = p->ceiling_from_file[CEIL_DRAM], nominal = !from_file;
    for (int i = 0; i < NROOFS; i++)
        if (present[i]) {
            from_file += p->ceiling_from_file[roofs[i].ceiling];
            nominal += !p->ceiling_from_file[roofs[i].ceiling];
        }
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
    write_bytes_note(settings, measured, modelled);
    return 0;
}
