/* mita_steps.c — the steps figure (plots/mita_steps.gp): where MiTA's time
 * goes, step by step (landmarks, probe, route, attend; and gather, where a
 * gather version ran as a step of its own), as its steps' shares of their
 * summed kernel time in one stacked bar per N, from the steps file that
 * `attnbench run --profile` writes. */
#include "plot/figure.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "plot/gnuplot.h"

/* The method whose steps the figure breaks down, and the step a gather
 * version runs in (attn/cuda/mita.c). */
#define MITA_METHOD "mita"
#define GATHER_STEP "gather"
/* The most steps, and bars (N), it draws. */
#define MAX_STEPS 32
#define MAX_BARS 64

static int is_power_of_two(double n) { return n >= 1 && n == ldexp(1.0, ilogb(n)); }

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

figure_prepare prepare_mita_steps; /* the type figures.c expects */

/* MiTA's steps, from the steps files: one stacked bar per N of the first
 * MiTA configuration (variant, dtype, shape, parameters) there that has a
 * step "gather" of its own, else of the first configuration; the steps
 * in the order the file first lists them (the order they ran); each bar the
 * steps' shares of their summed kernel time, the sum written above it. An
 * N that lacks a step is left out, so that every bar adds up the same
 * steps. */
int prepare_mita_steps(const struct plot *p, FILE *settings, char *why, size_t why_len)
{
    const struct step_row *config = NULL;
    const char *steps[MAX_STEPS];
    double ns[MAX_BARS];
    int nsteps = 0, nn = 0, other_configs = 0;
    for (int r = 0; r < p->nsteps && !config; r++)
        if (!strcmp(p->steps[r].key[KEY_METHOD], MITA_METHOD) &&
            !strcmp(p->steps[r].step, GATHER_STEP))
            config = &p->steps[r];
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
                                key[KEY_VARIANT], key[KEY_AXIS(AXIS_DTYPE)],
                                key[KEY_AXIS(AXIS_B)], key[KEY_AXIS(AXIS_H)],
                                key[KEY_AXIS(AXIS_D)]);
    /* The method's own parameters, those of the axes only some methods use. */
    for (int a = 0; a < AXIS_COUNT && n < sizeof note; a++)
        if (AXES[a].uses && key[KEY_AXIS(a)][0])
            n += (size_t)snprintf(note + n, sizeof note - n, " %s=%s", AXES[a].column,
                                  key[KEY_AXIS(a)]);
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
