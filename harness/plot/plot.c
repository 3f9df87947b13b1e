/* plot.c — `attnbench plot` (see plot.h): checks the results CSVs (and
 * the steps files beside them), writes each figure's series as .dat files
 * and a gnuplot settings file in a temporary folder, and runs the figure's
 * script from plots/ on them.
 *
 * The division of work: C decides what is plotted (which rows form a
 * series, its label and colour, the speedup's baseline, the ceilings) and
 * writes plain numbers; the .gp scripts decide how it looks. A settings
 * file sets gnuplot variables (strings, numbers, arrays with one entry per
 * series) that the scripts read; plots/common.gp lists them. */
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
#include "results/csv.h"

#define USAGE "usage: attnbench plot RESULTS.csv [MORE.csv ...] [--out DIR] [--ceilings FILE]"
#define MAX_INPUTS 16

/* Rows of this method are not attention but the gather suite's kernels:
 * they have a figure of their own and stay out of the attention figures. */
#define GATHER_METHOD "gather"
/* The method whose steps the steps figure breaks down. */
#define MITA_METHOD "mita"

/* The columns the figures read. */
static const char *const required_columns[] = {
    "method", "variant", "backend", "device", "dtype", "B", "H", "N", "d", "m", "k", "s_r",
    "shared_scale", "ms_median", "ms_p10", "ms_p90", "flops_model", "bytes_model", "tflops",
    "gbps", "status", "timestamp",
};
#define REQUIRED_COUNT ((int)(sizeof required_columns / sizeof required_columns[0]))

/* The profiling pass's roofline columns (harness/measure/profile.h), in files and
 * rows that have them: the roofline then places those points by measured
 * DRAM bytes rather than by the byte model. */
static const char *const profiled_columns[] = {"intensity", "achieved_tflops"};

/* The steps file beside a results file (`attnbench run --profile` writes
 * RESULTS.steps.csv): a row per (point, step, kernel) with its kernel time. */
static const char *const step_columns[] = {
    "method", "variant", "backend", "dtype", "B", "H", "N", "d", "m", "k", "s_r",
    "shared_scale", "step", "kernel_ms",
};
#define STEP_COLUMN_COUNT ((int)(sizeof step_columns / sizeof step_columns[0]))

/* The cells that tell series apart: a series is the rows that agree on all
 * of them, i.e. on a point's key but N, and on the device. */
enum key_field {
    KEY_METHOD, KEY_VARIANT, KEY_BACKEND, KEY_DEVICE, KEY_DTYPE, KEY_B, KEY_H, KEY_D, KEY_M, KEY_K,
    KEY_S_R, KEY_SHARED_SCALE, KEY_COUNT
};
static const char *const key_columns[KEY_COUNT] = {
    "method", "variant", "backend", "device", "dtype", "B", "H", "d", "m", "k", "s_r",
    "shared_scale",
};

enum row_kind { ROW_ATTENTION, ROW_GATHER, ROW_KINDS };

/* An `ok` row with its numbers parsed; the cells point into the table. */
struct row {
    const char *key[KEY_COUNT];
    const char *timestamp;
    enum row_kind kind;
    double N, ms, p10, p90, flops, bytes, tflops, gbps;
    int profiled;              /* intensity, achieved_tflops from the profiling pass */
    double intensity, achieved_tflops;
    int series;
};

/* One kernel of one step of a point, from a steps file. key[KEY_DEVICE] is
 * "" (steps files do not name the device). */
struct step_row {
    const char *key[KEY_COUNT];
    const char *step;
    double N, kernel_ms;
};

struct series {
    int first;                 /* its first row, for its key cells */
    enum row_kind kind;
    char label[256];
    int colour;                /* 1-based within its kind, in file order */
    int peer;                  /* timed outside attnbench (torch-sdpa-*): drawn dashed */
};

/* The roofline's and the gather figure's ceilings, by the names of the file
 * `attnbench ceilings` writes (harness/measure/ceilings.h). Without --ceilings they
 * are nominal H100 SXM5 figures (NVIDIA's datasheet: HBM3 bandwidth, dense
 * tensor-core and FP32 rates), and the figures say so. l2_read_gbps is
 * read and checked but not drawn: the roofline's intensity is per DRAM byte. */
enum ceiling_id { CEIL_DRAM, CEIL_BF16, CEIL_FP16, CEIL_FP32, CEIL_L2, CEIL_COUNT };
static const struct {
    const char *name, *unit;
    double nominal;
} ceiling_info[CEIL_COUNT] = {
    [CEIL_DRAM] = {"dram_copy_gbps", "GB/s", 3350.0},
    [CEIL_BF16] = {"bf16_tensor_tflops", "TFLOP/s", 989.4},
    [CEIL_FP16] = {"fp16_tensor_tflops", "TFLOP/s", 989.4},
    [CEIL_FP32] = {"fp32_tflops", "TFLOP/s", 66.9},
    [CEIL_L2] = {"l2_read_gbps", "GB/s", 0},
};

struct plot {
    const char *csv_paths[MAX_INPUTS], *out_dir, *ceilings_path;
    int ninputs;
    struct csv_table tables[MAX_INPUTS], step_tables[MAX_INPUTS];
    char scripts[1024];        /* the plots/ folder */
    char work[1024];           /* the temporary folder */
    struct row *rows;          /* the ok rows of every input */
    int nrows;
    struct series *series;
    int nseries;
    struct step_row *steps;    /* the rows of every steps file */
    int nsteps;
    double ceiling[CEIL_COUNT];
    int ceiling_from_file[CEIL_COUNT];
    char ceilings_device[128]; /* where the file says they were measured, or "" */
    char device[256], date[64];
};

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

/* A whole cell as a finite number. */
static int parse_number(const char *cell, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(cell, &end);
    if (end == cell || *end || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int is_power_of_two(double n) { return n >= 1 && n == ldexp(1.0, ilogb(n)); }

/* A device's name without its details: up to the first " (" or ",", so
 * "cpu: Intel(R) Xeon(R) Gold (2 threads)" is "cpu: Intel(R) Xeon(R) Gold". */
static void short_device(const char *device, char *out, size_t len)
{
    const char *paren = strstr(device, " ("), *comma = strchr(device, ',');
    size_t n = strlen(device);
    if (paren && (size_t)(paren - device) < n) n = (size_t)(paren - device);
    if (comma && (size_t)(comma - device) < n) n = (size_t)(comma - device);
    snprintf(out, len, "%.*s", (int)n, device);
}

/* ---- reading the CSV --------------------------------------------------------- */

/* Every column of `names` in t, or a message naming all that are missing;
 * `whose` says what kind of file has them. */
static int check_columns(const struct csv_table *t, const char *path, const char *const *names,
                         int count, const char *whose)
{
    char missing[1024] = "";
    size_t used = 0;
    int nmissing = 0;
    for (int i = 0; i < count; i++)
        if (csv_column(t, names[i]) < 0 && used < sizeof missing)
            used += (size_t)snprintf(missing + used, sizeof missing - used, "%s'%s'",
                                     nmissing++ ? ", " : "", names[i]);
    if (!nmissing) return 0;
    fprintf(stderr, "attnbench plot: %s: missing column%s %s (the figures read:", path,
            nmissing > 1 ? "s" : "", missing);
    for (int i = 0; i < count; i++) fprintf(stderr, " %s", names[i]);
    fprintf(stderr, "; %s has them all)\n", whose);
    return -1;
}

/* "oom 3, skipped 9": the statuses of the inputs' rows, by the word before
 * their first ':'. */
static void describe_statuses(const struct plot *p, char *out, size_t len)
{
    char seen[8][32];
    long count[8];
    int kinds = 0;
    for (int f = 0; f < p->ninputs; f++) {
        const struct csv_table *t = &p->tables[f];
        const int status = csv_column(t, "status");
        for (long r = 0; r < t->nrows; r++) {
            const char *s = t->rows[r][status];
            char word[32];
            snprintf(word, sizeof word, "%.*s", (int)strcspn(s, ":"), s);
            int k = 0;
            while (k < kinds && strcmp(seen[k], word) != 0) k++;
            if (k == kinds && kinds < 8) {
                snprintf(seen[kinds], sizeof seen[kinds], "%s", word);
                count[kinds++] = 0;
            }
            if (k < kinds) count[k]++;
        }
    }
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < kinds && used < len; k++)
        used += (size_t)snprintf(out + used, len - used, "%s%s %ld", k ? ", " : "",
                                 seen[k][0] ? seen[k] : "(empty)", count[k]);
}

/* One number of row r of t (read from `path`); a message naming the row and
 * the cell otherwise. */
static int row_number(const struct csv_table *t, const char *path, long r, const char *column,
                      double *out)
{
    const char *cell = t->rows[r][csv_column(t, column)];
    if (parse_number(cell, out) == 0) return 0;
    fprintf(stderr, "attnbench plot: %s: data row %ld (%s): %s '%s' is not a number\n", path,
            r + 1, t->rows[r][csv_column(t, "method")], column, cell);
    return -1;
}

/* Reads and checks input f; appends its ok rows. 0, or -1 with a message. */
static int load_input(struct plot *p, int f)
{
    char err[1024];
    struct csv_table *t = &p->tables[f];
    const char *path = p->csv_paths[f];
    if (csv_read(path, t, err, sizeof err) != 0) {
        fprintf(stderr, "attnbench plot: %s\n", err);
        return -1;
    }
    if (check_columns(t, path, required_columns, REQUIRED_COUNT,
                      "a results CSV of `attnbench run`") != 0)
        return -1;
    if (t->nrows == 0) {
        fprintf(stderr, "attnbench plot: %s: no rows, only a header (run a sweep into it first)\n",
                path);
        return -1;
    }
    struct row *grown = realloc(p->rows, (size_t)(p->nrows + t->nrows) * sizeof *grown);
    if (!grown) {
        fprintf(stderr, "attnbench plot: out of memory\n");
        return -1;
    }
    p->rows = grown;
    const int status = csv_column(t, "status");
    const int intensity = csv_column(t, profiled_columns[0]);
    const int achieved = csv_column(t, profiled_columns[1]);
    for (long r = 0; r < t->nrows; r++) {
        if (strcmp(t->rows[r][status], "ok") != 0) continue;
        struct row *w = &p->rows[p->nrows];
        memset(w, 0, sizeof *w);
        for (int k = 0; k < KEY_COUNT; k++) w->key[k] = t->rows[r][csv_column(t, key_columns[k])];
        w->timestamp = t->rows[r][csv_column(t, "timestamp")];
        w->kind = !strcmp(w->key[KEY_METHOD], GATHER_METHOD) ? ROW_GATHER : ROW_ATTENTION;
        if (row_number(t, path, r, "N", &w->N) || row_number(t, path, r, "ms_median", &w->ms) ||
            row_number(t, path, r, "ms_p10", &w->p10) ||
            row_number(t, path, r, "ms_p90", &w->p90) ||
            row_number(t, path, r, "flops_model", &w->flops) ||
            row_number(t, path, r, "bytes_model", &w->bytes) ||
            row_number(t, path, r, "tflops", &w->tflops) ||
            row_number(t, path, r, "gbps", &w->gbps))
            return -1;
        if (w->N < 1 || w->ms <= 0) {
            fprintf(stderr, "attnbench plot: %s: data row %ld (%s, status ok): need N >= 1 and "
                            "ms_median > 0, got N=%g ms_median=%g\n",
                    path, r + 1, w->key[KEY_METHOD], w->N, w->ms);
            return -1;
        }
        if (intensity >= 0 && achieved >= 0 && t->rows[r][intensity][0] &&
            t->rows[r][achieved][0]) {
            if (row_number(t, path, r, profiled_columns[0], &w->intensity) ||
                row_number(t, path, r, profiled_columns[1], &w->achieved_tflops))
                return -1;
            w->profiled = w->intensity > 0 && w->achieved_tflops > 0;
        }
        p->nrows++;
    }
    return 0;
}

/* Reads the steps file beside input f (RESULTS.steps.csv for RESULTS.csv),
 * when there is one. 0, or -1 with a message. */
static int load_steps(struct plot *p, int f)
{
    char path[1100], err[1024];
    const char *results = p->csv_paths[f];
    size_t stem = strlen(results);
    if (stem > 4 && !strcmp(results + stem - 4, ".csv")) stem -= 4;
    snprintf(path, sizeof path, "%.*s.steps.csv", (int)stem, results);
    if (access(path, F_OK) != 0) return 0;
    struct csv_table *t = &p->step_tables[f];
    if (csv_read(path, t, err, sizeof err) != 0) {
        fprintf(stderr, "attnbench plot: %s\n", err);
        return -1;
    }
    if (check_columns(t, path, step_columns, STEP_COLUMN_COUNT,
                      "a steps file of `attnbench run --profile`") != 0)
        return -1;
    struct step_row *grown = realloc(p->steps, (size_t)(p->nsteps + t->nrows) * sizeof *grown);
    if (!grown && t->nrows) {
        fprintf(stderr, "attnbench plot: out of memory\n");
        return -1;
    }
    p->steps = grown;
    for (long r = 0; r < t->nrows; r++) {
        struct step_row *w = &p->steps[p->nsteps];
        for (int k = 0; k < KEY_COUNT; k++)
            w->key[k] = k == KEY_DEVICE ? "" : t->rows[r][csv_column(t, key_columns[k])];
        w->step = t->rows[r][csv_column(t, "step")];
        if (row_number(t, path, r, "N", &w->N) ||
            row_number(t, path, r, "kernel_ms", &w->kernel_ms))
            return -1;
        p->nsteps++;
    }
    return 0;
}

/* Whether two rows are of one point: the same series key and N. */
static int same_point(const struct row *a, const struct row *b)
{
    if (a->N != b->N) return 0;
    for (int k = 0; k < KEY_COUNT; k++)
        if (strcmp(a->key[k], b->key[k]) != 0) return 0;
    return 1;
}

/* Rows of one point from several files (a sweep and a later rerun of some of
 * its points, a profiled run beside the timed one) would draw a series that
 * zigzags between them: the newest row of each point is kept (timestamps are
 * ISO 8601, so they order as strings; of equal ones, the later file's), and
 * stderr says how many were set aside. 0, or -1 with a message. */
static int keep_newest_rows(struct plot *p)
{
    char *superseded = calloc((size_t)p->nrows + 1, 1);
    if (!superseded) {
        fprintf(stderr, "attnbench plot: out of memory\n");
        return -1;
    }
    int dropped = 0;
    for (int r = 0; r < p->nrows; r++)
        for (int q = 0; q < p->nrows && !superseded[r]; q++) {
            if (q == r || !same_point(&p->rows[q], &p->rows[r])) continue;
            const int order = strcmp(p->rows[q].timestamp, p->rows[r].timestamp);
            superseded[r] = order > 0 || (order == 0 && q > r);
            dropped += superseded[r];
        }
    int kept = 0;
    for (int r = 0; r < p->nrows; r++)
        if (!superseded[r]) p->rows[kept++] = p->rows[r];
    p->nrows = kept;
    free(superseded);
    if (dropped)
        fprintf(stderr, "attnbench plot: %d row%s set aside: a newer row of the same point (method, "
                        "shape, parameters, device, N) is drawn instead\n",
                dropped, dropped == 1 ? "" : "s");
    return 0;
}

static int load_rows(struct plot *p)
{
    for (int f = 0; f < p->ninputs; f++)
        if (load_input(p, f) != 0 || load_steps(p, f) != 0) return -1;
    if (keep_newest_rows(p) != 0) return -1;
    if (p->nrows > 0) return 0;
    char statuses[256];
    long total = 0;
    describe_statuses(p, statuses, sizeof statuses);
    for (int f = 0; f < p->ninputs; f++) total += p->tables[f].nrows;
    fprintf(stderr, "attnbench plot: %s%s: none of the %ld rows has status ok (%s); nothing to "
                    "plot\n", p->csv_paths[0], p->ninputs > 1 ? " and the rest" : "", total,
            statuses);
    return -1;
}

/* ---- the ceilings file ------------------------------------------------------- */

/* name,value,unit — one row per ceiling, each known name at most once; a
 * `device` column (as `attnbench ceilings` writes) names where they were
 * measured, and a `status` column, where the file has one, which were: a
 * row whose status is not `ok` leaves its ceiling nominal. Any subset of the
 * names: the rest stay nominal. */
static int load_ceilings(struct plot *p)
{
    for (int c = 0; c < CEIL_COUNT; c++) p->ceiling[c] = ceiling_info[c].nominal;
    if (!p->ceilings_path) return 0;
    struct csv_table t;
    char err[1024];
    const char *path = p->ceilings_path;
    if (csv_read(path, &t, err, sizeof err) != 0) {
        fprintf(stderr, "attnbench plot: --ceilings %s\n", err);
        return -1;
    }
    int rc = 0;
    const int name = csv_column(&t, "name"), value = csv_column(&t, "value"),
              unit = csv_column(&t, "unit"), device = csv_column(&t, "device"),
              status = csv_column(&t, "status");
    if (name < 0 || value < 0 || unit < 0) {
        fprintf(stderr, "attnbench plot: --ceilings %s: need the columns name,value,unit\n", path);
        rc = -1;
    } else if (device >= 0 && t.nrows > 0) {
        short_device(t.rows[0][device], p->ceilings_device, sizeof p->ceilings_device);
    }
    for (long r = 0; r < t.nrows && rc == 0; r++) {
        const char *n = t.rows[r][name], *u = t.rows[r][unit], *v = t.rows[r][value];
        if (status >= 0 && t.rows[r][status][0] && strcmp(t.rows[r][status], "ok") != 0) {
            fprintf(stderr, "attnbench plot: --ceilings %s: %s was not measured (%s); it stays "
                            "nominal\n", path, n, t.rows[r][status]);
            continue;
        }
        int c = 0;
        while (c < CEIL_COUNT && strcmp(ceiling_info[c].name, n) != 0) c++;
        double x;
        if (c == CEIL_COUNT) {
            fprintf(stderr, "attnbench plot: --ceilings %s: unknown ceiling '%s' (known:", path,
                    n);
            for (int k = 0; k < CEIL_COUNT; k++) fprintf(stderr, " %s", ceiling_info[k].name);
            fprintf(stderr, ")\n");
            rc = -1;
        } else if (p->ceiling_from_file[c]) {
            fprintf(stderr, "attnbench plot: --ceilings %s: '%s' is given twice\n", path, n);
            rc = -1;
        } else if (strcmp(u, ceiling_info[c].unit) != 0) {
            fprintf(stderr, "attnbench plot: --ceilings %s: %s is in '%s', need '%s'\n", path, n,
                    u, ceiling_info[c].unit);
            rc = -1;
        } else if (parse_number(v, &x) != 0 || x <= 0) {
            fprintf(stderr, "attnbench plot: --ceilings %s: %s = '%s' (need a number > 0)\n",
                    path, n, v);
            rc = -1;
        } else {
            p->ceiling[c] = x;
            p->ceiling_from_file[c] = 1;
        }
    }
    csv_table_free(&t);
    return rc;
}

/* ---- series ------------------------------------------------------------------ */

static int same_series(const struct row *a, const struct row *b)
{
    for (int k = 0; k < KEY_COUNT; k++)
        if (strcmp(a->key[k], b->key[k]) != 0) return 0;
    return 1;
}

/* Does key field k take more than one non-empty value among the series of
 * `kind`? Only such fields go into labels. Peers name their backend in
 * their variant, so theirs does not make attnbench's backend vary. */
static int field_varies(const struct plot *p, enum row_kind kind, int k)
{
    const char *first = NULL;
    for (int s = 0; s < p->nseries; s++) {
        const char *v = p->rows[p->series[s].first].key[k];
        if (p->series[s].kind != kind || !v[0] || (k == KEY_BACKEND && p->series[s].peer)) continue;
        if (!first) first = v;
        else if (strcmp(first, v) != 0) return 1;
    }
    return 0;
}

/* Legends sit in a fixed strip right of the plot (plots/common.gp): a label
 * longer than this is cut, with an ellipsis, rather than overflow it. */
#define LABEL_MAX 36

static void cut_label(char *label)
{
    if (strlen(label) <= LABEL_MAX) return;
    size_t n = LABEL_MAX - 1;
    while (n > 0 && ((unsigned char)label[n] & 0xC0) == 0x80) n--; /* not mid-character (UTF-8) */
    snprintf(label + n, 4, "\u2026");
}

/* Appends " (bf16, d=64)" to label (n of len used): the key cells of
 * fields from KEY_BACKEND on that vary among the series of `kind`, but for
 * those in `skip` (a mask of 1 << key_field). Returns the new length. */
static size_t append_varying(const struct plot *p, enum row_kind kind, const char *const *key,
                             unsigned skip, char *label, size_t n, size_t len)
{
    int extra = 0;
    for (int k = KEY_BACKEND; k < KEY_COUNT && n < len; k++) {
        if (skip & 1u << k || !key[k][0] || !field_varies(p, kind, k)) continue;
        if (k == KEY_BACKEND && strstr(label, key[k])) continue;
        char value[128];
        if (k == KEY_DEVICE) short_device(key[k], value, sizeof value);
        else snprintf(value, sizeof value, "%s", key[k]);
        const int named = k == KEY_B || k == KEY_H || k == KEY_D || k == KEY_M || k == KEY_K ||
                          k == KEY_S_R;
        n += (size_t)snprintf(label + n, len - n, "%s%s%s%s", extra++ ? ", " : " (",
                              named ? key_columns[k] : "", named ? "=" : "", value);
    }
    if (extra && n < len) n += (size_t)snprintf(label + n, len - n, ")");
    return n;
}

/* "mita/shared", then what else tells it apart: "full/flash (bf16, d=64)".
 * A backend already named by the variant (torch-sdpa-flash) is not repeated. */
static void label_series(struct plot *p, enum row_kind kind)
{
    for (int s = 0; s < p->nseries; s++) {
        struct series *se = &p->series[s];
        if (se->kind != kind) continue;
        const char *const *key = p->rows[se->first].key;
        size_t n = (size_t)snprintf(se->label, sizeof se->label, "%s%s%s", key[KEY_METHOD],
                                    key[KEY_VARIANT][0] ? "/" : "", key[KEY_VARIANT]);
        append_varying(p, kind, key, 0, se->label, n, sizeof se->label);
        cut_label(se->label);
    }
}

static int build_series(struct plot *p)
{
    p->series = calloc((size_t)p->nrows, sizeof *p->series);
    if (!p->series) {
        fprintf(stderr, "attnbench plot: out of memory\n");
        return -1;
    }
    int colours[ROW_KINDS] = {0};
    for (int r = 0; r < p->nrows; r++) {
        struct row *w = &p->rows[r];
        int s = 0;
        while (s < p->nseries && !same_series(&p->rows[p->series[s].first], w)) s++;
        if (s == p->nseries) {
            enum attn_backend b;
            p->series[s] = (struct series){
                .first = r, .kind = w->kind, .colour = ++colours[w->kind],
                .peer = attn_backend_parse(w->key[KEY_BACKEND], &b) != 0,
            };
            p->nseries++;
        }
        w->series = s;
    }
    label_series(p, ROW_ATTENTION);
    label_series(p, ROW_GATHER);
    return 0;
}

/* The rows of series s, by ascending N, in idx (room for every row). */
static int series_rows(const struct plot *p, int s, int *idx)
{
    int n = 0;
    for (int r = 0; r < p->nrows; r++) {
        if (p->rows[r].series != s) continue;
        int at = n++;
        while (at > 0 && p->rows[idx[at - 1]].N > p->rows[r].N) { /* insertion sort */
            idx[at] = idx[at - 1];
            at--;
        }
        idx[at] = r;
    }
    return n;
}

/* ---- what the scripts read ---------------------------------------------------- */

/* `work`/name, the path of a file in the temporary folder. */
static const char *work_path(const struct plot *p, char *path, size_t len, const char *fmt, ...)
{
    int n = snprintf(path, len, "%s/", p->work);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path + n, len - (size_t)n, fmt, ap);
    va_end(ap);
    return path;
}

/* Writes a series' .dat file (its rows by ascending N, idx: room for every
 * row) and returns how many points it holds. */
typedef int (*series_writer)(const struct plot *p, int s, FILE *dat, int *idx);

/* The series of `kind` that get at least one point from `write`, as arrays
 * indexed 1..n: series_file (STEMs.dat), series_label, series_colour,
 * series_dash (1 solid, 2 dashed for peers). Returns n, or -1 with a
 * message when a file cannot be written. */
static int gp_series(const struct plot *p, FILE *settings, enum row_kind kind, const char *stem,
                     series_writer write)
{
    int *idx = malloc((size_t)p->nrows * sizeof *idx);
    int *chosen = malloc((size_t)p->nseries * sizeof *chosen);
    int n = idx && chosen ? 0 : -1;
    char path[1100];
    for (int s = 0; n >= 0 && s < p->nseries; s++) {
        if (p->series[s].kind != kind) continue;
        FILE *dat = fopen(work_path(p, path, sizeof path, "%s%d.dat", stem, s), "w");
        if (!dat) {
            fprintf(stderr, "attnbench plot: cannot write %s: %s\n", path, strerror(errno));
            n = -1;
            break;
        }
        int points = write(p, s, dat, idx);
        fclose(dat);
        if (points > 0) chosen[n++] = s;
    }
    if (n > 0) {
        fprintf(settings, "array series_file[%d]\narray series_label[%d]\n"
                          "array series_colour[%d]\narray series_dash[%d]\n", n, n, n, n);
        for (int i = 0; i < n; i++) {
            const struct series *se = &p->series[chosen[i]];
            fprintf(settings, "series_file[%d] = ", i + 1);
            gp_quoted(settings, work_path(p, path, sizeof path, "%s%d.dat", stem, chosen[i]));
            fprintf(settings, "\nseries_label[%d] = ", i + 1);
            gp_quoted(settings, se->label);
            fprintf(settings, "\nseries_colour[%d] = %d\nseries_dash[%d] = %d\n", i + 1,
                    se->colour, i + 1, se->peer ? 2 : 1);
        }
    }
    free(idx);
    free(chosen);
    return n;
}

/* A prepare function's answer when gp_series() gave n <= 0 series: skipped
 * for `reason` (1), or failed (-1). */
static int no_series(int n, const char *reason, char *why, size_t why_len)
{
    snprintf(why, why_len, "%s", n < 0 ? "cannot write its data" : reason);
    return n < 0 ? -1 : 1;
}

/* The N axis: ticks at powers of two from n_lo to n_hi, every n_step-th
 * (a multiplier), so that at most about a dozen labels share the axis. */
static void gp_n_axis(FILE *settings, double n_min, double n_max)
{
    double lo = ldexp(1.0, (int)floor(log2(n_min))), hi = ldexp(1.0, (int)ceil(log2(n_max)));
    int octaves = (int)lround(log2(hi / lo));
    gp_number(settings, "n_lo", lo);
    gp_number(settings, "n_hi", hi);
    gp_number(settings, "n_step", ldexp(1.0, octaves > 12 ? (octaves + 11) / 12 : 1));
}

/* The N range of the rows of `kind`. */
static void n_range(const struct plot *p, enum row_kind kind, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = 0;
    for (int r = 0; r < p->nrows; r++)
        if (p->rows[r].kind == kind) {
            *lo = fmin(*lo, p->rows[r].N);
            *hi = fmax(*hi, p->rows[r].N);
        }
}

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

static int prepare_time(struct plot *p, FILE *settings, char *why, size_t why_len)
{
    double lo, hi;
    n_range(p, ROW_ATTENTION, &lo, &hi);
    const int n_series = gp_series(p, settings, ROW_ATTENTION, "times", write_times);
    if (n_series <= 0)
        return no_series(n_series, "no ok rows of attention methods", why, why_len);
    gp_n_axis(settings, lo, hi);
    return 0;
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

static int prepare_throughput(struct plot *p, FILE *settings, char *why, size_t why_len)
{
    double lo, hi;
    n_range(p, ROW_ATTENTION, &lo, &hi);
    const int n_series = gp_series(p, settings, ROW_ATTENTION, "tflops", write_throughput);
    if (n_series <= 0)
        return no_series(n_series, "no ok attention rows with a FLOP model", why, why_len);
    gp_n_axis(settings, lo, hi);
    return 0;
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

static int prepare_speedup(struct plot *p, FILE *settings, char *why, size_t why_len)
{
    double lo = INFINITY, hi = 0;
    for (int r = 0; r < p->nrows; r++)
        if (p->rows[r].kind == ROW_ATTENTION && !is_baseline(p, &p->rows[r]) &&
            baseline_for(p, &p->rows[r])) {
            lo = fmin(lo, p->rows[r].N);
            hi = fmax(hi, p->rows[r].N);
        }
    const int n_series = gp_series(p, settings, ROW_ATTENTION, "speedup", write_speedup);
    if (n_series <= 0)
        return no_series(n_series, "no ok full/flash row of attnbench with another method at "
                         "the same device, dtype, shape and N to compare with", why, why_len);
    gp_n_axis(settings, lo, hi);
    return 0;
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

static int prepare_roofline(struct plot *p, FILE *settings, char *why, size_t why_len)
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

/* Do rows a and b agree on all key fields but those in `skip`? */
static int same_key_but(const struct row *a, const struct row *b, unsigned skip)
{
    for (int k = 0; k < KEY_COUNT; k++)
        if (!(skip & 1u << k) && strcmp(a->key[k], b->key[k]) != 0) return 0;
    return 1;
}

/* A key cell as a number, 0 where it is not one. */
static double key_number(const struct row *w, enum key_field k)
{
    double v;
    return parse_number(w->key[k], &v) == 0 ? v : 0;
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
                   !same_key_but(&p->rows[p->series[line_first[l]].first], w, GATHER_SHAPE))
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
                   same_key_but(&p->rows[p->series[q].first], w, ~GATHER_SHAPE);
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
        const int rows = same_key_but(&p->rows[p->series[pick[0]].first],
                                      &p->rows[p->series[pick[1]].first], ~GATHER_SHAPE)
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

static int prepare_gather(struct plot *p, FILE *settings, char *why, size_t why_len)
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
                if (line_of[s] != l || !same_key_but(&p->rows[p->series[s].first], shape,
                                                     ~GATHER_SHAPE))
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

/* Steps of the same point's configuration: all of its key but N (the
 * device is not in steps files). */
static int same_config(const struct step_row *a, const struct step_row *b)
{
    for (int k = 0; k < KEY_COUNT; k++)
        if (strcmp(a->key[k], b->key[k]) != 0) return 0;
    return 1;
}

/* The kernel time of `step` at N in the configuration of `config` (its
 * kernels summed), or -1 when the steps file has none. */
static double step_ms(const struct plot *p, const struct step_row *config, const char *step,
                      double N)
{
    double ms = -1;
    for (int r = 0; r < p->nsteps; r++) {
        const struct step_row *w = &p->steps[r];
        if (w->N == N && same_config(w, config) && !strcmp(w->step, step))
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
static int prepare_steps(struct plot *p, FILE *settings, char *why, size_t why_len)
{
    const struct step_row *config = NULL;
    const char *steps[MAX_STEPS];
    double ns[MAX_BARS];
    int nsteps = 0, nn = 0, other_configs = 0;
    for (int r = 0; r < p->nsteps; r++) {
        const struct step_row *w = &p->steps[r];
        if (strcmp(w->key[KEY_METHOD], MITA_METHOD) != 0) continue;
        if (!config) config = w;
        if (!same_config(w, config)) {
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
    int (*prepare)(struct plot *p, FILE *settings, char *why, size_t why_len);
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

/* The title's device ("A", "A and B" in short, "3 devices") and dates (the
 * first, or "first to last"), from the ok rows. */
static void describe_run(struct plot *p)
{
    const char *devices[2] = {NULL, NULL}, *first = NULL, *last = NULL;
    int ndevices = 0;
    for (int r = 0; r < p->nrows; r++) {
        const struct row *w = &p->rows[r];
        int seen = 0;
        for (int q = 0; q < r && !seen; q++)
            seen = !strcmp(p->rows[q].key[KEY_DEVICE], w->key[KEY_DEVICE]);
        if (!seen && ndevices < 2) devices[ndevices] = w->key[KEY_DEVICE];
        ndevices += !seen;
        if (!first || strncmp(w->timestamp, first, 10) < 0) first = w->timestamp;
        if (!last || strncmp(w->timestamp, last, 10) > 0) last = w->timestamp;
    }
    char a[120], b[120]; /* both fit p->device */
    if (ndevices == 1) {
        snprintf(p->device, sizeof p->device, "%s", devices[0]);
    } else if (ndevices == 2) {
        short_device(devices[0], a, sizeof a);
        short_device(devices[1], b, sizeof b);
        snprintf(p->device, sizeof p->device, "%s and %s", a, b);
    } else {
        snprintf(p->device, sizeof p->device, "%d devices", ndevices);
    }
    if (strncmp(first, last, 10) == 0) snprintf(p->date, sizeof p->date, "%.10s", first);
    else snprintf(p->date, sizeof p->date, "%.10s to %.10s", first, last);
}

/* Draws every figure; returns the exit status. */
static int draw(struct plot *p)
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
            gnuplot_remove_drawn(p->out_dir, name);
            continue;
        }
        gnuplot_draw(settings_path, p->scripts, p->out_dir, name) == 0 ? drawn++ : failed++;
    }
    fprintf(stderr, "attnbench plot: %d figure%s in %s (PNG and SVG)%s\n", drawn,
            drawn == 1 ? "" : "s", p->out_dir, failed ? ", some failed" : "");
    return failed ? 1 : 0;
}

int plot_command(int argc, char **argv)
{
    struct plot p = {.out_dir = "figures"};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--out") || !strcmp(a, "--ceilings")) {
            if (i + 1 >= argc) return plot_error("%s needs a value (%s)", a, USAGE);
            if (!strcmp(a, "--out")) p.out_dir = argv[++i];
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
    snprintf(p.scripts, sizeof p.scripts, "%s",
             scripts && *scripts ? scripts : ATTN_SOURCE_DIR "/plots");
    int status = 2;
    if (load_rows(&p) != 0 || load_ceilings(&p) != 0 || build_series(&p) != 0) goto done;
    for (int i = 0; i < FIGURE_COUNT; i++) {
        char script[1100];
        if (access(gnuplot_script(script, sizeof script, p.scripts, figures[i].name), R_OK) != 0) {
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
    if (make_dirs(p.out_dir) != 0) {
        plot_error("cannot create %s: %s", p.out_dir, strerror(errno));
        goto done;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(p.work, sizeof p.work, "%s/attnbench-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(p.work)) {
        plot_error("cannot make a temporary folder %s: %s", p.work, strerror(errno));
        goto done;
    }
    describe_run(&p);
    status = draw(&p);
    remove_work(&p);
done:
    free(p.rows);
    free(p.series);
    free(p.steps);
    for (int f = 0; f < p.ninputs; f++) {
        csv_table_free(&p.tables[f]);
        csv_table_free(&p.step_tables[f]);
    }
    return status;
}
