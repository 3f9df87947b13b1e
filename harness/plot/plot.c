/* plot.c — `attnbench plot` (see plot.h): the driver. It reads the command
 * line, has series.c read and check the inputs, makes sure that every
 * figure's script and gnuplot are there before anything is drawn, then
 * takes each figure of figures.c in turn: its settings written in a
 * temporary folder, drawn by gnuplot (gnuplot.c) or skipped with a note. */
#include "plot/plot.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "plot/figure.h"
#include "plot/gnuplot.h"
#include "plot/peer_table.h"
#include "plot/series.h"
#include "sweep/suite.h"

#define USAGE                                                                            \
    "usage: attnbench plot RESULTS.csv [MORE.csv ...] [--out DIR] [--ceilings FILE] "      \
    "[--baseline fastest|flash] [--peers-at N,N...]"

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
    for (const struct figure *f = figures; f->name; f++) {
        const char *name = f->name;
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
        int rc = f->prepare(p, settings, why, sizeof why);
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
    char table[1100];
    snprintf(table, sizeof table, "%s/peers.md", out_dir);
    const int lines = peer_table_write(p, table);
    if (lines < 0) {
        fprintf(stderr, "attnbench plot: cannot write %s: %s\n", table, strerror(errno));
        failed++;
    } else if (lines > 0) {
        fprintf(stderr, "attnbench plot: %s: attnbench against its fastest peer at %d point%s\n",
                table, lines, lines == 1 ? "" : "s");
    }
    return failed ? 1 : 0;
}

/* --peers-at's list: N in the suites' syntax (suite_parse_int_list: "2^14,2^20",
 * "1024..8192"), at most PLOT_MAX_PEERS_AT. */
static int parse_peers_at(const char *text, struct plot *p)
{
    struct suite_values list;
    char why[256];
    if (suite_parse_int_list(text, &list, why, sizeof why) != 0)
        return plot_error("--peers-at '%s': need a list of N such as 2^14,2^20 (%s)", text, why);
    if (list.count > PLOT_MAX_PEERS_AT)
        return plot_error("--peers-at '%s': at most %d values", text, PLOT_MAX_PEERS_AT);
    for (int i = 0; i < list.count; i++) p->peers_at[i] = (double)list.values[i];
    p->npeers_at = list.count; /* at least one: the parser refuses an empty list */
    return 0;
}

int plot_command(int argc, char **argv)
{
    struct plot p = {0};
    const char *out_dir = "figures";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--out") || !strcmp(a, "--ceilings") || !strcmp(a, "--baseline") ||
            !strcmp(a, "--peers-at")) {
            if (i + 1 >= argc) return plot_error("%s needs a value (%s)", a, USAGE);
            const char *value = argv[++i];
            if (!strcmp(a, "--out")) {
                out_dir = value;
            } else if (!strcmp(a, "--peers-at")) {
                if (parse_peers_at(value, &p) != 0) return 2;
            } else if (!strcmp(a, "--ceilings")) {
                p.ceilings_path = value;
            } else if (!strcmp(value, "fastest")) {
                p.baseline = BASELINE_FASTEST;
            } else if (!strcmp(value, "flash")) {
                p.baseline = BASELINE_OWN_FLASH;
            } else {
                return plot_error("--baseline '%s': need fastest or flash", value);
            }
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
    for (const struct figure *f = figures; f->name; f++) {
        char script[1100];
        if (access(gnuplot_script(script, sizeof script, scripts, f->name), R_OK) != 0) {
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
