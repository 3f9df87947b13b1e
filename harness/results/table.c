/* table.c — the table and progress of a running sweep (see table.h). The
 * columns are the method, its variant, and the axes (core/axes.h) a sweep
 * most often varies; unused ones print '-'; a cell is cut at 31
 * characters (a long file:PATH). */
#include "results/table.h"

#include <string.h>

#include "core/axes.h"
#include "results/csv.h"

/* The axes the table shows, and their widths. */
static const struct {
    enum axis_id axis;
    int width;
} shown[] = {
    {AXIS_DTYPE, -5}, {AXIS_N, 8}, {AXIS_M, 5}, {AXIS_K, 5}, {AXIS_S_R, 4}, {AXIS_INPUTS, -9},
};
#define N_SHOWN ((int)(sizeof shown / sizeof shown[0]))

void table_print_header(FILE *f)
{
    fprintf(f, "%-14s %-16s", "method", "variant");
    for (int i = 0; i < N_SHOWN; i++) fprintf(f, " %*s", shown[i].width, AXES[shown[i].axis].column);
    fprintf(f, " %12s %10s %9s %9s  %s\n", "ms_median", "ms_stddev", "TFLOP/s", "GB/s", "status");
}

void table_print_row(FILE *f, const struct result_row *r)
{
    const struct sweep_point *p = &r->point;
    fprintf(f, "%-14s %-16s", p->method, p->variant);
    for (int i = 0; i < N_SHOWN; i++) {
        char cell[32];
        axis_format(&AXES[shown[i].axis], p, cell, sizeof cell);
        fprintf(f, " %*s", shown[i].width, cell[0] ? cell : "-");
    }
    if (csv_row_timed(r))
        fprintf(f, " %12.4f %10.4f %9.3f %9.1f  %s", r->ms_median, r->ms_stddev, r->tflops,
                r->gbps, r->status);
    else
        fprintf(f, " %12s %10s %9s %9s  %s", "-", "-", "-", "-", r->status);
    /* --verify, briefly: its outcome without the reason (the CSV has it),
     * and the error of an ok output (a wrong one's is in the status). */
    if (r->verify[0] && strncmp(r->status, "wrong:", 6) != 0 && strcmp(r->verify, "error") != 0) {
        fprintf(f, "  verify %.*s", (int)strcspn(r->verify, ":"), r->verify);
        if (!strcmp(r->verify, "ok")) fprintf(f, " %.1e", r->verify_error);
    }
    fputc('\n', f);
    fflush(f);
}

static void format_duration(double s, char *out, size_t len)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(out, len, "%ld:%02ld", t / 60, t % 60);
}

void table_print_progress(FILE *f, long i, long n, const struct result_row *r, double elapsed,
                          long measured, long remaining)
{
    char el[32], eta[32];
    format_duration(elapsed, el, sizeof el);
    if (measured > 0) format_duration(elapsed / measured * remaining, eta, sizeof eta);
    else snprintf(eta, sizeof eta, "?");
    fprintf(f, "[%ld/%ld] %s/%s N=%lld: %s  (elapsed %s, ~%s left)\n", i, n, r->point.method,
            r->point.variant, (long long)r->point.problem.N, r->status, el, eta);
}
