/* series.c — the rows and series every figure draws from (see series.h):
 * the inputs read through the harness's CSV reader and refused with a
 * message that names the fault, the newest row of each point kept, series
 * grouped by their key and labelled by what tells them apart, the ceilings
 * file, the titles' device and dates, and the series' settings for the
 * scripts. */
#include "plot/series.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn.h"
#include "measure/ceilings.h"
#include "plot/gnuplot.h"
#include "results/json.h"

/* The columns the figures read: the key fields' (N among the axes), then these. */
static const char *const measured_columns[] = {
    "ms_median", "ms_p10", "ms_p90", "flops_model", "bytes_model", "tflops", "gbps", "status",
    "timestamp",
};
#define MEASURED_COUNT ((int)(sizeof measured_columns / sizeof measured_columns[0]))

/* The profiling pass's roofline columns (harness/measure/profile.h), in files and
 * rows that have them: the roofline then places those points by measured
 * DRAM bytes rather than by the byte model. */
static const char *const profiled_columns[] = {"intensity", "achieved_tflops"};

/* The steps file beside a results file (`attnbench run --profile` writes
 * RESULTS.steps.csv): a row per (point, step, kernel) with its kernel time;
 * the key fields' columns but the device, then these. */
static const char *const step_value_columns[] = {"step", "kernel_ms"};

const char *key_column(int field)
{
    static const char *const fixed[] = {"method", "variant", "backend", "device"};
    return field < KEY_AXIS0 ? fixed[field] : AXES[field - KEY_AXIS0].column;
}

/* The key fields' columns but those in `omit`, then `rest`, into names[];
 * returns how many. */
static int key_and(unsigned omit, const char *const *rest, int nrest, const char **names)
{
    int n = 0;
    for (int k = 0; k < KEY_COUNT; k++)
        if (!(omit & 1u << k)) names[n++] = key_column(k);
    for (int i = 0; i < nrest; i++) names[n++] = rest[i];
    return n;
}

/* The ceilings, by the names of the file `attnbench ceilings` writes
 * (harness/measure/ceilings.h). Without --ceilings they are nominal H100
 * SXM5 figures (NVIDIA's datasheet: HBM3 bandwidth, dense tensor-core and
 * FP32 rates), and the figures say so. l2_read_gbps is read and checked but
 * not drawn: the roofline's intensity is per DRAM byte. */
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

/* ---- the key of a series ----------------------------------------------------- */

/* The key of row r of t (series.h: the cells that tell series apart), but
 * for the fields in `omit`, which are "". The one place that says which
 * cells make a series (but for an axis that moves with N: new_series). */
static void series_key(const struct csv_table *t, long r, unsigned omit, const char **key)
{
    for (int k = 0; k < KEY_COUNT; k++) {
        const int x = k >= KEY_AXIS0 && AXES[k - KEY_AXIS0].is_x;
        key[k] = omit & 1u << k || x ? "" : t->rows[r][csv_column(t, key_column(k))];
    }
}

int key_equal(const char *const *a, const char *const *b, unsigned skip)
{
    for (int k = 0; k < KEY_COUNT; k++)
        if (!(skip & 1u << k) && strcmp(a[k], b[k]) != 0) return 0;
    return 1;
}

double key_number(const struct row *w, int field)
{
    double v;
    return parse_number(w->key[field], &v) == 0 ? v : 0;
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

/* Reads `path` into t and checks its columns (check_columns). 0, or -1
 * with a message. */
static int read_table(const char *path, struct csv_table *t, const char *const *names, int count,
                      const char *whose)
{
    char err[1024];
    if (results_table_read(path, t, err, sizeof err) != 0) {
        fprintf(stderr, "attnbench plot: %s\n", err);
        return -1;
    }
    return check_columns(t, path, names, count, whose);
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
    struct csv_table *t = &p->tables[f];
    const char *path = p->csv_paths[f];
    const char *required[KEY_COUNT + MEASURED_COUNT];
    const int nrequired = key_and(0, measured_columns, MEASURED_COUNT, required);
    if (read_table(path, t, required, nrequired,
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
    const int energy = csv_column(t, "energy_j"); /* files before it have none */
    const int gather = csv_column(t, "gather_dram_bytes");
    for (long r = 0; r < t->nrows; r++) {
        if (strcmp(t->rows[r][status], "ok") != 0) continue;
        struct row *w = &p->rows[p->nrows];
        memset(w, 0, sizeof *w);
        series_key(t, r, 0, w->key);
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
        w->energy_j = w->gather_dram_bytes = NAN;
        if ((energy >= 0 && t->rows[r][energy][0] &&
             row_number(t, path, r, "energy_j", &w->energy_j)) ||
            (gather >= 0 && t->rows[r][gather][0] &&
             row_number(t, path, r, "gather_dram_bytes", &w->gather_dram_bytes)))
            return -1;
        p->nrows++;
    }
    return 0;
}

/* Reads the steps file beside input f (RESULTS.steps.csv for RESULTS.csv),
 * when there is one. 0, or -1 with a message. */
static int load_steps(struct plot *p, int f)
{
    char path[1100];
    const char *results = p->csv_paths[f];
    size_t stem = strlen(results);
    if (stem > 4 && !strcmp(results + stem - 4, ".csv")) stem -= 4;
    snprintf(path, sizeof path, "%.*s.steps.csv", (int)stem, results);
    if (access(path, F_OK) != 0) return 0;
    struct csv_table *t = &p->step_tables[f];
    const char *required[KEY_COUNT + 2];
    const int nrequired = key_and(1u << KEY_DEVICE, step_value_columns, 2, required);
    if (read_table(path, t, required, nrequired,
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
        series_key(t, r, 1u << KEY_DEVICE, w->key);
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
    return a->N == b->N && key_equal(a->key, b->key, 0);
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
        fprintf(stderr, "attnbench plot: %d row%s set aside: a newer row of the same point "
                        "(method, shape, parameters, device, N) is drawn instead\n",
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
 * names: the rest stay nominal. A CPU's file (its device "cpu: ...") sets
 * the CPU roofs instead, and the GPU's stay nominal. */
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
    int rc = 0, cpu = 0;
    const int name = csv_column(&t, "name"), value = csv_column(&t, "value"),
              unit = csv_column(&t, "unit"), device = csv_column(&t, "device"),
              status = csv_column(&t, "status");
    if (name < 0 || value < 0 || unit < 0) {
        fprintf(stderr, "attnbench plot: --ceilings %s: need the columns name,value,unit\n", path);
        rc = -1;
    } else if (device >= 0 && t.nrows > 0) {
        cpu = ceilings_device_is_cpu(t.rows[0][device]);
        if (cpu)
            snprintf(p->cpu_ceilings_device, sizeof p->cpu_ceilings_device, "%s",
                     t.rows[0][device]);
        else
            short_device(t.rows[0][device], p->ceilings_device, sizeof p->ceilings_device);
    }
    double *roof = cpu ? p->cpu_ceiling : p->ceiling;
    int cpu_given[CEIL_COUNT] = {0}, *given = cpu ? cpu_given : p->ceiling_from_file;
    for (long r = 0; r < t.nrows && rc == 0; r++) {
        const char *n = t.rows[r][name], *u = t.rows[r][unit], *v = t.rows[r][value];
        if (status >= 0 && t.rows[r][status][0] && strcmp(t.rows[r][status], "ok") != 0) {
            fprintf(stderr, "attnbench plot: --ceilings %s: %s was not measured (%s); %s\n", path,
                    n, t.rows[r][status], cpu ? "no roof for it" : "it stays nominal");
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
        } else if (given[c]) {
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
            roof[c] = x;
            given[c] = 1;
        }
    }
    csv_table_free(&t);
    return rc;
}

/* ---- series ------------------------------------------------------------------ */

/* Peers name their backend in their variant, so theirs does not make
 * attnbench's backend vary. */
int field_varies(const struct plot *p, enum row_kind kind, int k)
{
    const char *first = NULL;
    for (int s = 0; s < p->nseries; s++) {
        const char *v = p->series[s].key[k];
        if (p->series[s].kind != kind || !v[0] || (k == KEY_BACKEND && p->series[s].peer))
            continue;
        if (!first) first = v;
        else if (strcmp(first, v) != 0) return 1;
    }
    return 0;
}

/* Legends sit in a fixed strip right of the plot (plots/common.gp): a label
 * longer than this is cut, with an ellipsis, rather than overflow it. */
#define LABEL_MAX 36

void cut_label(char *label) { cut_text(label, LABEL_MAX); }

void cut_text(char *label, size_t max)
{
    if (strlen(label) <= max) return;
    size_t n = max - 1;
    while (n > 0 && ((unsigned char)label[n] & 0xC0) == 0x80) n--; /* not mid-character (UTF-8) */
    snprintf(label + n, 4, "\u2026");
}

/* The numbers of a shape are named ("d=64"); the rest speak for themselves
 * ("bf16"). */
size_t append_varying(const struct plot *p, enum row_kind kind, const char *const *key,
                      unsigned skip, const char *also, char *label, size_t n, size_t len)
{
    int extra = 0;
    for (int k = KEY_BACKEND; k < KEY_COUNT && n < len; k++) {
        if (skip & 1u << k || !key[k][0] || !field_varies(p, kind, k)) continue;
        if (k == KEY_BACKEND && strstr(label, key[k])) continue;
        char value[128];
        if (k == KEY_DEVICE) short_device(key[k], value, sizeof value);
        else snprintf(value, sizeof value, "%s", key[k]);
        /* Numbers say what they are ("d=64"); names stand alone ("bf16"). */
        const int named = k >= KEY_AXIS0 && !AXES[k - KEY_AXIS0].name_of;
        n += (size_t)snprintf(label + n, len - n, "%s%s%s%s", extra++ ? ", " : " (",
                              named ? key_column(k) : "", named ? "=" : "", value);
    }
    if (also && n < len)
        n += (size_t)snprintf(label + n, len - n, "%s%s", extra++ ? ", " : " (", also);
    if (extra && n < len) n += (size_t)snprintf(label + n, len - n, ")");
    return n;
}

/* "mita/shared", then what else tells it apart: "full/flash (bf16, d=64)".
 * A backend already named by the variant (torch-sdpa-flash) is not repeated.
 * An axis that moves with N is named once, by its product with N, which
 * holds for the whole line: "full/flash (d=64, B·N=16384)". */
static void label_series(struct plot *p, enum row_kind kind)
{
    for (int s = 0; s < p->nseries; s++) {
        struct series *se = &p->series[s];
        if (se->kind != kind) continue;
        const char *const *key = se->key;
        char along[64];
        if (se->along >= 0)
            snprintf(along, sizeof along, "%s\u00b7%s=%.0f", key_column(se->along),
                     key_column(KEY_AXIS(AXIS_N)), se->along_n);
        size_t n = (size_t)snprintf(se->label, sizeof se->label, "%s%s%s", key[KEY_METHOD],
                                    key[KEY_VARIANT][0] ? "/" : "", key[KEY_VARIANT]);
        append_varying(p, kind, key, 0, se->along >= 0 ? along : NULL, se->label, n,
                       sizeof se->label);
        snprintf(se->name, sizeof se->name, "%s", se->label);
        cut_label(se->label);
    }
}

int series_peer_of(const struct plot *p, const struct series *peer, const struct series *own)
{
    const char *const *a = peer->key, *const *b = own->key;
    unsigned skip = 1u << KEY_VARIANT | 1u << KEY_BACKEND | 1u << KEY_DEVICE;
    for (int k = KEY_AXIS0; k < KEY_COUNT; k++)
        if (!a[k][0]) skip |= 1u << k;
    if (own->peer || own->kind != peer->kind || own->along != peer->along ||
        own->along_n != peer->along_n || !key_equal(a, b, skip))
        return 0;
    const size_t n = strlen(b[KEY_VARIANT]);
    return !strcmp(a[KEY_VARIANT], a[KEY_BACKEND]) ||
           (n && !strncmp(a[KEY_VARIANT], b[KEY_VARIANT], n) && a[KEY_VARIANT][n] == '-');
}

/* attnbench's series take colours in file order, solid; a peer is drawn
 * beside attnbench's series of its method, in its colour, dashed (the
 * peers of one series in dash types 2 to 5, in file order); a peer of a
 * method attnbench did not measure takes a colour of its own. */
static void colour_series(struct plot *p)
{
    int colours[ROW_KINDS] = {0};
    for (int s = 0; s < p->nseries; s++)
        if (!p->series[s].peer) {
            p->series[s].colour = ++colours[p->series[s].kind];
            p->series[s].dash = 1;
        }
    for (int s = 0; s < p->nseries; s++) {
        struct series *se = &p->series[s];
        if (!se->peer) continue;
        int own = 0;
        while (own < p->nseries && !series_peer_of(p, se, &p->series[own])) own++;
        se->colour = own < p->nseries ? p->series[own].colour : ++colours[se->kind];
        int beside = 0;
        for (int q = 0; q < s; q++) beside += p->series[q].peer && p->series[q].colour == se->colour &&
                                                 p->series[q].kind == se->kind;
        se->dash = 2 + beside % 4;
    }
}

/* Whether key field k moves with N among the rows that agree with row r on
 * all of their key but k (struct series, `along`): each of them is at an N
 * of its own, and k times N is r's in all. Rows of one point were made one
 * (keep_newest_rows), so two of them at one N would differ in k, and so in
 * k·N: comparing each with r is enough. One row alone has nothing to join,
 * and a sweep of every combination of k and N has several rows per N. */
static int moves_with_n(const struct plot *p, int r, int k)
{
    const struct row *w = &p->rows[r];
    const double along_n = key_number(w, k) * w->N;
    if (!(along_n > 0)) return 0; /* an axis its method does not read: "" */
    int others = 0;
    for (int q = 0; q < p->nrows; q++) {
        const struct row *o = &p->rows[q];
        if (q == r || !key_equal(o->key, w->key, 1u << k)) continue;
        if (o->N == w->N || key_number(o, k) * o->N != along_n) return 0;
        others++;
    }
    return others > 0;
}

/* The axes that could move with N: numbers (a count such as B, not a name
 * such as the dtype), not N itself, and with more than one value among the
 * rows (one value times different N is never constant). A set of
 * 1 << axis; found once, so that the rows' pairwise search (moves_with_n)
 * runs only for them. */
static unsigned along_candidates(const struct plot *p)
{
    unsigned axes = 0;
    for (int a = 0; a < AXIS_COUNT; a++) {
        if (AXES[a].is_x || AXES[a].name_of) continue;
        for (int r = 1; r < p->nrows && !(axes & 1u << a); r++)
            if (strcmp(p->rows[r].key[KEY_AXIS(a)], p->rows[0].key[KEY_AXIS(a)]) != 0)
                axes |= 1u << a;
    }
    return axes;
}

/* The key field of the first of the `candidates` axes that moves with N at
 * row r, or -1. */
static int along_of(const struct plot *p, int r, unsigned candidates)
{
    for (int a = 0; a < AXIS_COUNT; a++)
        if ((candidates & 1u << a) && moves_with_n(p, r, KEY_AXIS(a))) return KEY_AXIS(a);
    return -1;
}

/* A new series of row r (its first) moving along `along` (or -1). */
static struct series new_series(const struct plot *p, int r, int along)
{
    const struct row *w = &p->rows[r];
    enum attn_backend b;
    struct series se = {
        .first = r, .kind = w->kind, .along = along,
        .along_n = along >= 0 ? key_number(w, along) * w->N : 0,
        .peer = attn_backend_parse(w->key[KEY_BACKEND], &b) != 0,
    };
    for (int k = 0; k < KEY_COUNT; k++) se.key[k] = k == along ? "" : w->key[k];
    return se;
}

static int build_series(struct plot *p)
{
    p->series = calloc((size_t)p->nrows, sizeof *p->series);
    if (!p->series) {
        fprintf(stderr, "attnbench plot: out of memory\n");
        return -1;
    }
    const unsigned candidates = along_candidates(p);
    for (int r = 0; r < p->nrows; r++) {
        struct row *w = &p->rows[r];
        const int along = along_of(p, r, candidates);
        const unsigned skip = along >= 0 ? 1u << along : 0;
        int s = 0;
        while (s < p->nseries &&
               (p->series[s].along != along || !key_equal(p->series[s].key, w->key, skip)))
            s++;
        if (s == p->nseries) p->series[p->nseries++] = new_series(p, r, along);
        w->series = s;
    }
    colour_series(p);
    label_series(p, ROW_ATTENTION);
    label_series(p, ROW_GATHER);
    return 0;
}

int series_write_positive(const struct plot *p, int s, FILE *dat, int *idx, const char *column,
                          double (*value)(const struct row *w))
{
    int n = series_rows(p, s, idx), written = 0;
    fprintf(dat, "# N %s\n", column);
    for (int i = 0; i < n; i++) {
        const struct row *w = &p->rows[idx[i]];
        if (!(value(w) > 0)) continue;
        fprintf(dat, "%.17g %.17g\n", w->N, value(w));
        written++;
    }
    return written;
}

int series_rows(const struct plot *p, int s, int *idx)
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

void n_range(const struct plot *p, enum row_kind kind, row_filter spans, double *lo,
             double *hi)
{
    *lo = INFINITY;
    *hi = 0;
    for (int r = 0; r < p->nrows; r++)
        if (p->rows[r].kind == kind && (!spans || spans(p, &p->rows[r]))) {
            *lo = fmin(*lo, p->rows[r].N);
            *hi = fmax(*hi, p->rows[r].N);
        }
}

/* ---- the titles -------------------------------------------------------------- */

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

/* ---- what the scripts read --------------------------------------------------- */

const char *work_path(const struct plot *p, char *path, size_t len, const char *fmt, ...)
{
    int n = snprintf(path, len, "%s/", p->work);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path + n, len - (size_t)n, fmt, ap);
    va_end(ap);
    return path;
}

int gp_series(const struct plot *p, FILE *settings, enum row_kind kind, const char *stem,
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
                    se->colour, i + 1, se->dash);
        }
    }
    free(idx);
    free(chosen);
    return n;
}

int no_series(int n, const char *reason, char *why, size_t why_len)
{
    snprintf(why, why_len, "%s", n < 0 ? "cannot write its data" : reason);
    return n < 0 ? -1 : 1;
}

void gp_n_axis(FILE *settings, double n_min, double n_max)
{
    double lo = ldexp(1.0, (int)floor(log2(n_min))), hi = ldexp(1.0, (int)ceil(log2(n_max)));
    int octaves = (int)lround(log2(hi / lo));
    gp_number(settings, "n_lo", lo);
    gp_number(settings, "n_hi", hi);
    gp_number(settings, "n_step", ldexp(1.0, octaves > 12 ? (octaves + 11) / 12 : 1));
}

int gp_series_against_n(const struct plot *p, FILE *settings, const char *stem,
                        series_writer write, row_filter spans, const char *reason, char *why,
                        size_t why_len)
{
    double lo, hi;
    n_range(p, ROW_ATTENTION, spans, &lo, &hi);
    const int n_series = gp_series(p, settings, ROW_ATTENTION, stem, write);
    if (n_series <= 0) return no_series(n_series, reason, why, why_len);
    gp_n_axis(settings, lo, hi);
    return 0;
}

/* ---- loading and freeing it all ---------------------------------------------- */

int series_load(struct plot *p)
{
    if (load_rows(p) != 0 || load_ceilings(p) != 0 || build_series(p) != 0) return -1;
    describe_run(p);
    return 0;
}

void series_free(struct plot *p)
{
    free(p->rows);
    free(p->series);
    free(p->steps);
    for (int f = 0; f < p->ninputs; f++) {
        csv_table_free(&p->tables[f]);
        csv_table_free(&p->step_tables[f]);
    }
}
