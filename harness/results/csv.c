/* csv.c — the results file: writing rows that survive a killed sweep,
 * reading a file back with a strict RFC 4180 parser, and the key that
 * matches a row to the sweep point that produced it. */
#include "results/csv.h"
#include "attn/registry.h"
#include "core/errors.h"
#include "core/text_file.h"

#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The file's columns: who measured what, then every axis of core/axes.h
 * (in the table's order), then the measurement. */
static const char *const leading_columns[] = {"suite", "method", "variant", "backend", "device"};
static const char *const trailing_columns[] = {
    "reps", "ms_median", "ms_min", "ms_max", "ms_stddev", "ms_p10", "ms_p90", "flops_model",
    "bytes_model", "tflops", "gbps", "status", "git_rev", "timestamp", "driver", "runtime",
    "sm_clock_mhz", "seed", "samples_ms", "suite_hash", "shard", "dram_read_bytes",
    "dram_write_bytes", "l2_bytes", "kernel_ms", "flops_measured", "gather_dram_bytes",
    "intensity", "roof_fraction", "achieved_tflops", "profile_note", "timing", "replicas",
    "noise_pct", "stop_reason", "sm_clock_median_mhz", "mem_clock_median_mhz", "power_median_w",
    "temp_max_c", "throttled_samples", "discarded_samples", "energy_j", "tflops_per_w",
    "gpu_note", "verify", "verify_error", "verify_s", "route_imbalance", "expert_overlap", "kernels",
};
#define N_LEADING ((int)(sizeof leading_columns / sizeof leading_columns[0]))
#define N_TRAILING ((int)(sizeof trailing_columns / sizeof trailing_columns[0]))
#define CSV_NCOLS (N_LEADING + AXIS_COUNT + N_TRAILING)

const char *const *csv_columns(void)
{
    static const char *columns[CSV_NCOLS + 1];
    if (!columns[0]) {
        int c = 0;
        for (int i = 0; i < N_LEADING; i++) columns[c++] = leading_columns[i];
        for (int i = 0; i < AXIS_COUNT; i++) columns[c++] = AXES[i].column;
        for (int i = 0; i < N_TRAILING; i++) columns[c++] = trailing_columns[i];
    }
    return columns;
}

int csv_column_count(void) { return CSV_NCOLS; }

/* The columns that identify a point: the method, its variant and backend,
 * and every axis. */
#define KEY_NCOLS (3 + AXIS_COUNT)

int csv_key_column_count(void) { return KEY_NCOLS; }

const char *csv_key_column(int i)
{
    static const char *const what[] = {"method", "variant", "backend"};
    return i < 3 ? what[i] : AXES[i - 3].column;
}

/* The cells that describe a point, in key order. The writer and
 * csv_point_key() both take them from here, so that a row read back gives
 * the key of the point that wrote it, empty cells for unused parameters
 * included. */
struct point_cells {
    char axes[AXIS_COUNT][POINT_TEXT_LEN];
    const char *fields[KEY_NCOLS];
};

static void point_cells(const struct sweep_point *p, struct point_cells *c)
{
    c->fields[0] = p->method;
    c->fields[1] = p->variant;
    c->fields[2] = attn_backend_name(p->problem.backend);
    for (int i = 0; i < AXIS_COUNT; i++) {
        axis_format(&AXES[i], p, c->axes[i], sizeof c->axes[i]);
        c->fields[3 + i] = c->axes[i];
    }
}

/* ---- writing ---------------------------------------------------------------- */

static int needs_quotes(const char *field) { return field[strcspn(field, ",\"\r\n")] != '\0'; }

void csv_write_field(FILE *f, const char *field)
{
    if (!needs_quotes(field)) {
        fputs(field, f);
        return;
    }
    fputc('"', f);
    for (const char *c = field; *c; c++) {
        if (*c == '"') fputc('"', f);
        fputc(*c, f);
    }
    fputc('"', f);
}

/* A whole record, newline included, in a malloc'd string: formatted in
 * memory first, so that it reaches the file in one write. NULL when out of
 * memory. */
static char *format_record(const char *const *cells, int n, size_t *len)
{
    char *line = NULL;
    FILE *mem = open_memstream(&line, len);
    if (!mem) return NULL;
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', mem);
        csv_write_field(mem, cells[i]);
    }
    fputc('\n', mem);
    if (fclose(mem) != 0) {
        free(line);
        return NULL;
    }
    return line;
}

/* Checks that the first line of `f` is our header; a message naming the
 * first column that differs otherwise. `first` holds the file's first bytes. */
static int check_header(const char *path, char *first, char *err, size_t err_len)
{
    char *newline = strchr(first, '\n');
    if (newline) *newline = '\0';
    const char *col = first; /* NULL once the line has no more columns */
    for (int i = 0; i < CSV_NCOLS; i++) {
        if (!col)
            return harness_fail(err, err_len,
                        "%s: its header ends after column %d, expected '%s' next (not a results "
                        "file of this attnbench; write to a new file)",
                        path, i, csv_columns()[i]);
        size_t len = strcspn(col, ",");
        if (len != strlen(csv_columns()[i]) || memcmp(col, csv_columns()[i], len) != 0)
            return harness_fail(err, err_len,
                        "%s: column %d of its header is '%.*s', expected '%s' (not a results "
                        "file of this attnbench; write to a new file)",
                        path, i + 1, (int)len, col, csv_columns()[i]);
        col = col[len] == ',' ? col + len + 1 : NULL;
    }
    if (col)
        return harness_fail(err, err_len,
                    "%s: its header has an extra column '%.*s' after '%s' (not a results file of "
                    "this attnbench; write to a new file)",
                    path, (int)strcspn(col, ","), col, csv_columns()[CSV_NCOLS - 1]);
    return 0;
}

/* The table's rows under our header, as the file's text; NULL when out of memory. */
static char *table_text(const struct csv_table *t, size_t *len)
{
    char *text = NULL;
    FILE *mem = open_memstream(&text, len);
    if (!mem) return NULL;
    int ok = 1;
    for (long r = -1; r < t->nrows && ok; r++) {
        size_t n = 0;
        char *line = format_record(r < 0 ? (const char *const *)t->header
                                         : (const char *const *)t->rows[r],
                                   t->ncols, &n);
        ok = line && fwrite(line, 1, n, mem) == n;
        free(line);
    }
    if (fclose(mem) != 0 || !ok) {
        free(text);
        return NULL;
    }
    return text;
}

/* Rewrites `f`, a file whose header is not ours, under our header if an
 * earlier attnbench wrote it (csv_table_to_current); its torn last row, if
 * any, is left out, as run_file_settle() would cut it. 0, or -1 with why
 * (the message of csv_table_to_current when it is not such a file). The
 * original file stays whole until the rewrite has replaced it. */
static int rewrite_earlier(struct run_file *f, FILE *log, char *err, size_t err_len)
{
    char header_err[1024];
    snprintf(header_err, sizeof header_err, "%s", err); /* check_header's, kept for a foreign file */
    struct csv_table t;
    const size_t whole = run_file_whole_length(f);
    char added[1024];
    /* Not a file of ours at all: check_header's message, which names the
     * first column that differs. */
    if (csv_parse(f->path, f->text, whole, &t, err, err_len) != 0)
        return harness_fail(err, err_len, "%s", header_err);
    if (csv_table_to_current(f->path, &t, added, sizeof added, err, err_len) != 0) {
        csv_table_free(&t);
        return harness_fail(err, err_len, "%s", header_err);
    }
    size_t len = 0;
    char *text = table_text(&t, &len);
    const long rows = t.nrows;
    csv_table_free(&t);
    if (!text) return harness_fail(err, err_len, "%s: out of memory", f->path);
    const size_t torn = f->len - whole;
    const int rc = run_file_replace(f, text, len, err, err_len);
    free(text);
    if (rc == 0 && log)
        fprintf(log,
                "attnbench: %s: written by an earlier attnbench: rewrote its %ld row%s under "
                "this one's header (added, empty: %s)%s\n",
                f->path, rows, rows == 1 ? "" : "s", added[0] ? added : "none",
                torn ? "; its last row was cut short (no newline at its end): left out, that "
                       "point is measured again" : "");
    return rc;
}

int csv_writer_open(struct csv_writer *w, const char *path, enum run_file_mode mode, FILE *log,
                    struct csv_table *done, char *err, size_t err_len)
{
    memset(w, 0, sizeof *w);
    if (done) memset(done, 0, sizeof *done);
    if (run_file_open(&w->file, path, log, err, err_len) != 0) return -1;
    struct run_file *f = &w->file;
    int rc = 0;
    if (f->len > 0) {
        /* Our header is a few hundred bytes: a first line longer than this
         * buffer differs from it anyway. */
        char first[4096];
        snprintf(first, sizeof first, "%s", f->text);
        rc = check_header(path, first, err, err_len);
    }
    /* A file of an earlier attnbench is continued under our header. */
    if (rc != 0 && mode == RUN_FILE_RESUME) rc = rewrite_earlier(f, log, err, err_len);
    /* Rows that do not read back are refused before anything is cut. */
    const size_t whole = run_file_whole_length(f);
    if (rc == 0 && mode == RUN_FILE_RESUME && done && whole > 0)
        rc = csv_parse(path, f->text, whole, done, err, err_len);
    size_t header_len = 0;
    char *header = rc == 0 ? format_record(csv_columns(), CSV_NCOLS, &header_len) : NULL;
    if (rc == 0 && !header) rc = harness_fail(err, err_len, "%s: out of memory", path);
    if (rc == 0) rc = run_file_settle(f, mode, header, header_len, log, err, err_len);
    free(header);
    if (rc != 0) {
        if (done) csv_table_free(done);
        run_file_close(f);
    }
    return rc;
}

/* A formatted number into the next free slot of c->number, or "" when
 * `present` is 0; *slot counts the slots used. */
static const char *number(struct csv_cells *c, int *slot, int present, const char *fmt, ...)
{
    char *cell = c->number[(*slot)++];
    cell[0] = '\0';
    if (!present) return cell;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cell, sizeof c->number[0], fmt, ap);
    va_end(ap);
    return cell;
}

int csv_row_timed(const struct result_row *r)
{
    return strcmp(r->status, "ok") == 0 || strncmp(r->status, "wrong:", 6) == 0;
}

void csv_row_cells(const struct result_row *r, struct csv_cells *out)
{
    _Static_assert(CSV_NCOLS <= CSV_MAX_COLUMNS, "struct csv_cells holds every column");
    struct point_cells pc;
    point_cells(&r->point, &pc);
    const int ok = csv_row_timed(r); /* else no time was measured */
    const int verified = r->verify[0] != '\0';
    const int gpu = ok && r->has_readings;       /* NVML's readings (timing.h) */
    int n = 0;
#define NUM(present, ...) number(out, &n, (present), __VA_ARGS__)
    const char *const lead[N_LEADING] = {r->suite, r->point.method, r->point.variant,
                                         pc.fields[2], r->device};
    const char *const trail[N_TRAILING] = {
        NUM(1, "%d", r->reps), NUM(ok, "%.9g", r->ms_median), NUM(ok, "%.9g", r->ms_min),
        NUM(ok, "%.9g", r->ms_max), NUM(ok, "%.9g", r->ms_stddev), NUM(ok, "%.9g", r->ms_p10),
        NUM(ok, "%.9g", r->ms_p90), NUM(1, "%.6e", r->flops_model),
        NUM(1, "%.6e", r->bytes_model), NUM(ok, "%.6g", r->tflops), NUM(ok, "%.6g", r->gbps),
        r->status, r->git_rev, r->timestamp, r->driver, r->runtime,
        NUM(r->sm_clock_mhz != 0, "%d", r->sm_clock_mhz),
        NUM(1, "%" PRIu64, r->point.problem.seed), r->samples_ms, r->suite_hash, r->shard,
        /* The profiling pass (profile.h): empty where it read nothing. */
        NUM(r->has_counters, "%.0f", r->dram_read_bytes),
        NUM(r->has_counters, "%.0f", r->dram_write_bytes),
        NUM(r->has_counters, "%.0f", r->l2_bytes), NUM(r->has_counters, "%.9g", r->kernel_ms),
        NUM(r->has_flops_measured, "%.6e", r->flops_measured),
        NUM(r->has_counters, "%.0f", r->gather_dram_bytes),
        NUM(r->has_intensity, "%.6g", r->intensity), NUM(r->has_roof, "%.4f", r->roof_fraction),
        NUM(r->has_intensity, "%.6g", r->achieved_tflops), r->profile_note,
        /* How it was sampled, and the GPU during it: empty where not measured. */
        ok ? r->timing : "", NUM(ok, "%d", r->replicas),
        NUM(ok && isfinite(r->noise_pct), "%.4g", r->noise_pct), ok ? r->stop_reason : "",
        NUM(gpu, "%.0f", r->sm_clock_median_mhz), NUM(gpu, "%.0f", r->mem_clock_median_mhz),
        NUM(gpu, "%.1f", r->power_median_w), NUM(gpu, "%.0f", r->temp_max_c),
        NUM(gpu, "%d", r->throttled_samples), NUM(gpu, "%d", r->discarded_samples),
        NUM(ok && isfinite(r->energy_j), "%.6g", r->energy_j),
        NUM(ok && isfinite(r->tflops_per_w), "%.6g", r->tflops_per_w), r->gpu_note,
        /* run --verify (measure/verify.h): empty where not asked. */
        r->verify, NUM(verified && isfinite(r->verify_error), "%.3e", r->verify_error),
        NUM(verified, "%.3f", r->verify_s),
        /* MiTA's routing: empty for other methods. */
        NUM(r->has_selection_stats, "%.6g", r->route_imbalance),
        NUM(r->has_selection_stats, "%.6g", r->expert_overlap),
        /* What ran (measure/kernel_list.h): empty on the CPU. */
        r->kernels,
    };
#undef NUM
    int c = 0;
    for (int i = 0; i < N_LEADING; i++) out->cell[c++] = lead[i];
    for (int i = 0; i < AXIS_COUNT; i++) /* pc is this function's: copied */
        out->cell[c++] = strcpy(out->axis[i], pc.axes[i]);
    for (int i = 0; i < N_TRAILING; i++) out->cell[c++] = trail[i];
}

int csv_writer_row(struct csv_writer *w, const struct result_row *r)
{
    static struct csv_cells cells; /* large for the stack */
    csv_row_cells(r, &cells);
    size_t len = 0;
    char *line = format_record(cells.cell, CSV_NCOLS, &len);
    int rc = line ? run_file_append(&w->file, line, len) : -1;
    free(line);
    return rc;
}

void csv_writer_close(struct csv_writer *w) { run_file_close(&w->file); }

/* ---- reading ---------------------------------------------------------------- */

struct csv_parser {
    const char *path;
    const char *p, *end;
    long line;                 /* line of *p, from 1 */
    char *err;
    size_t err_len;
};

static int parse_error(struct csv_parser *ps, long line, const char *what)
{
    return harness_fail(ps->err, ps->err_len, "%s:%ld: %s", ps->path, line, what);
}

/* A quoted field at ps->p; leaves ps->p after the closing quote. */
static char *read_quoted(struct csv_parser *ps)
{
    const long opened = ps->line;
    const char *c = ps->p + 1;
    size_t len = 0;
    for (;; c++, len++) { /* find the closing quote, and the unquoted length */
        if (c == ps->end) {
            parse_error(ps, opened, "unterminated quote (the field opened here never closes)");
            return NULL;
        }
        if (*c == '"') {
            if (c + 1 < ps->end && c[1] == '"') c++;
            else break;
        }
    }
    char *field = malloc(len + 1);
    if (!field) {
        parse_error(ps, opened, "out of memory");
        return NULL;
    }
    size_t n = 0;
    for (const char *q = ps->p + 1; q < c; q++) {
        if (*q == '"') q++; /* the first of a doubled quote */
        if (*q == '\n') ps->line++;
        field[n++] = *q;
    }
    field[n] = '\0';
    ps->p = c + 1;
    return field;
}

/* An unquoted field at ps->p; leaves ps->p on its terminator. */
static char *read_plain(struct csv_parser *ps)
{
    const char *c = ps->p;
    while (c < ps->end && *c != ',' && *c != '\n') {
        if (*c == '"') {
            parse_error(ps, ps->line,
                        "quote inside an unquoted field (quote the whole field and double the "
                        "quote)");
            return NULL;
        }
        c++;
    }
    size_t len = (size_t)(c - ps->p);
    if (c < ps->end && *c == '\n' && len > 0 && c[-1] == '\r') len--; /* CRLF line end */
    char *field = malloc(len + 1);
    if (!field) {
        parse_error(ps, ps->line, "out of memory");
        return NULL;
    }
    memcpy(field, ps->p, len);
    field[len] = '\0';
    ps->p = c;
    return field;
}

struct record {
    char **fields;
    int count, cap;
};

static void record_free(struct record *rec)
{
    for (int i = 0; i < rec->count; i++) free(rec->fields[i]);
    free(rec->fields);
    *rec = (struct record){0};
}

/* Reads the record at ps->p into `rec` (emptied first). Returns 1, 0 at
 * the end of the input, or -1 with a message. */
static int read_record(struct csv_parser *ps, struct record *rec)
{
    record_free(rec);
    if (ps->p == ps->end) return 0;
    const long start = ps->line;
    for (;;) {
        /* After a last comma ps->p may be at the end: no byte there to look at. */
        char *field = ps->p < ps->end && *ps->p == '"' ? read_quoted(ps) : read_plain(ps);
        if (!field) return -1;
        if (rec->count == rec->cap) {
            int cap = rec->cap ? rec->cap * 2 : 64;
            char **grown = realloc(rec->fields, (size_t)cap * sizeof *grown);
            if (!grown) {
                free(field);
                return parse_error(ps, start, "out of memory");
            }
            rec->fields = grown;
            rec->cap = cap;
        }
        rec->fields[rec->count++] = field;

        if (ps->p < ps->end && *ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n')
            ps->p++; /* CRLF after a quoted field */
        if (ps->p == ps->end)
            return parse_error(ps, start, "truncated row (the file does not end with a newline)");
        const char c = *ps->p++;
        if (c == '\n') {
            ps->line++;
            return 1;
        }
        if (c != ',')
            return parse_error(ps, ps->line,
                               "text after a closing quote (need a comma or the end of the line)");
    }
}

int csv_read(const char *path, struct csv_table *t, char *err, size_t err_len)
{
    memset(t, 0, sizeof *t);
    char *text = NULL;
    size_t len = 0;
    if (read_text_file(path, &text, &len, err, err_len) != 0) return -1;
    int rc = csv_parse(path, text, len, t, err, err_len);
    free(text);
    return rc;
}

int csv_parse(const char *path, const char *text, size_t len, struct csv_table *t, char *err,
              size_t err_len)
{
    memset(t, 0, sizeof *t);
    struct csv_parser ps = {path, text, text + len, 1, err, err_len};
    struct record rec = {0};
    long cap = 0;
    int rc = read_record(&ps, &rec);
    if (rc == 0) rc = parse_error(&ps, 1, "no header (the file is empty)");
    if (rc > 0) {
        t->ncols = rec.count;
        t->header = rec.fields;
        rec = (struct record){0};
    }
    while (rc > 0) {
        const long line = ps.line;
        rc = read_record(&ps, &rec);
        if (rc <= 0) break;
        if (rec.count != t->ncols) {
            char what[128];
            snprintf(what, sizeof what, "row has %d fields, the header has %d", rec.count,
                     t->ncols);
            rc = parse_error(&ps, line, what);
            break;
        }
        if (t->nrows == cap) {
            cap = cap ? cap * 2 : 256;
            char ***grown = realloc(t->rows, (size_t)cap * sizeof *grown);
            if (!grown) {
                rc = parse_error(&ps, line, "out of memory");
                break;
            }
            t->rows = grown;
        }
        t->rows[t->nrows++] = rec.fields;
        rec = (struct record){0};
    }
    record_free(&rec);
    if (rc < 0) csv_table_free(t);
    return rc < 0 ? -1 : 0;
}

void csv_table_free(struct csv_table *t)
{
    for (long r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) free(t->rows[r][c]);
        free(t->rows[r]);
    }
    free(t->rows);
    if (t->header)
        for (int c = 0; c < t->ncols; c++) free(t->header[c]);
    free(t->header);
    memset(t, 0, sizeof *t);
}

/* The methods a row's cells name: the uses of a built-in (or loaded)
 * method, on whichever backend has it; 0 for one unknown here. */
static unsigned method_uses(const char *method)
{
    const struct attn_method *m = attn_method_find(method, ATTN_CUDA);
    if (!m) m = attn_method_find(method, ATTN_CPU);
    return m ? m->uses : 0;
}

/* Whether a row's backend is one of attnbench's (cpu, cuda), not a peer's (torch-eager, ...):
 * a peer reads none of the axes that only some methods read (suites/peers: gather). A table
 * without the column is attnbench's. */
static int own_backend(const struct csv_table *t, long r)
{
    const int backend = csv_column(t, "backend");
    enum attn_backend b;
    return backend < 0 || attn_backend_parse(t->rows[r][backend], &b) == 0;
}

int csv_table_add_absent_axes(struct csv_table *t)
{
    const int method = csv_column(t, "method");
    if (method < 0) return 0; /* not a results file: nothing to complete */
    for (int a = 0; a < AXIS_COUNT; a++) {
        const struct axis *axis = &AXES[a];
        if (!axis->check_word || csv_column(t, axis->column) >= 0) continue;
        char **header = realloc(t->header, (size_t)(t->ncols + 1) * sizeof *header);
        if (!header) return -1;
        t->header = header;
        if (!(header[t->ncols] = strdup(axis->column))) return -1;
        long r = 0;
        for (; r < t->nrows; r++) {
            char **row = realloc(t->rows[r], (size_t)(t->ncols + 1) * sizeof *row);
            if (!row) break;
            t->rows[r] = row;
            const int used =
                !axis->uses || (own_backend(t, r) && (method_uses(row[method]) & axis->uses));
            if (!(row[t->ncols] = strdup(used ? axis->name_of(0) : ""))) break;
        }
        if (r < t->nrows) { /* out of memory: the cells added so far go, the table stays whole */
            while (r-- > 0) free(t->rows[r][t->ncols]);
            free(t->header[t->ncols]);
            return -1;
        }
        t->ncols++;
    }
    return 0;
}

int csv_table_to_current(const char *path, struct csv_table *t, char *added, size_t added_len,
                         char *err, size_t err_len)
{
    const char *const *ours = csv_columns();
    if (added && added_len) added[0] = '\0';
    /* Columns are only ever added, never renamed or moved: the file's must be
     * ours, in our order, with some missing. */
    for (int c = 0, at = 0; c < t->ncols; c++, at++) {
        int known = 0;
        for (int i = 0; i < CSV_NCOLS && !known; i++) known = strcmp(t->header[c], ours[i]) == 0;
        if (!known)
            return harness_fail(err, err_len,
                        "%s: its column '%s' is not one this attnbench writes (a results file "
                        "of a later attnbench, or not a results file)",
                        path, t->header[c]);
        while (at < CSV_NCOLS && strcmp(t->header[c], ours[at]) != 0) at++;
        if (at == CSV_NCOLS)
            return harness_fail(err, err_len,
                        "%s: its column '%s' comes after '%s', not before it as attnbench "
                        "writes them",
                        path, t->header[c], t->header[c - 1]);
    }
    /* The columns every attnbench has written. */
    static const char *const always[] = {"method", "variant", "backend", "N", "status"};
    for (size_t i = 0; i < sizeof always / sizeof *always; i++)
        if (csv_column(t, always[i]) < 0)
            return harness_fail(err, err_len, "%s: no '%s' column (not a results file)", path,
                                always[i]);
    size_t used = 0;
    for (int i = 0; i < CSV_NCOLS && added; i++)
        if (csv_column(t, ours[i]) < 0 && used + 1 < added_len)
            used += (size_t)snprintf(added + used, added_len - used, "%s%s", used ? ", " : "",
                                     ours[i]);
    if (csv_table_add_absent_axes(t) != 0)
        return harness_fail(err, err_len, "%s: out of memory", path);
    /* The rows in our order, built whole before any is replaced. */
    int from[CSV_NCOLS];
    for (int i = 0; i < CSV_NCOLS; i++) from[i] = csv_column(t, ours[i]);
    char ***rows = calloc(t->nrows ? (size_t)t->nrows : 1, sizeof *rows);
    char **header = calloc(CSV_NCOLS, sizeof *header);
    int ok = rows && header;
    for (int i = 0; i < CSV_NCOLS && ok; i++) ok = (header[i] = strdup(ours[i])) != NULL;
    for (long r = 0; r < t->nrows && ok; r++) {
        ok = (rows[r] = calloc(CSV_NCOLS, sizeof *rows[r])) != NULL;
        for (int i = 0; i < CSV_NCOLS && ok; i++)
            ok = (rows[r][i] = strdup(from[i] >= 0 ? t->rows[r][from[i]] : "")) != NULL;
    }
    struct csv_table built = {CSV_NCOLS, header, t->nrows, rows};
    if (!ok) {
        if (!header) built.ncols = 0;
        for (long r = 0; r < t->nrows && rows; r++)
            if (!rows[r]) {
                built.nrows = r; /* the first row not built; those after it are NULL too */
                break;
            }
        csv_table_free(&built); /* frees what was built; calloc left the rest NULL */
        return harness_fail(err, err_len, "%s: out of memory", path);
    }
    csv_table_free(t);
    *t = built;
    return 0;
}

int csv_column(const struct csv_table *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->header[c], name) == 0) return c;
    return -1;
}

/* ---- keys ------------------------------------------------------------------- */

/* The key is the point's cells joined as a CSV record: unambiguous, and it
 * reads like the row it stands for. */
static void key_from_fields(const char *const *fields, char *key, size_t key_len)
{
    size_t n = 0;
    for (int i = 0; i < KEY_NCOLS; i++) {
        char quoted[2 * POINT_TEXT_LEN + 3];
        const char *text = fields[i];
        if (needs_quotes(text)) {
            size_t q = 0;
            quoted[q++] = '"';
            for (const char *c = text; *c && q + 3 < sizeof quoted; c++) {
                if (*c == '"') quoted[q++] = '"';
                quoted[q++] = *c;
            }
            quoted[q++] = '"';
            quoted[q] = '\0';
            text = quoted;
        }
        int w = snprintf(key + n, key_len - n, "%s%s", i ? "," : "", text);
        if (w < 0 || (size_t)w >= key_len - n) return; /* full: the key is truncated */
        n += (size_t)w;
    }
}

void csv_point_key(const struct sweep_point *p, char *key, size_t key_len)
{
    struct point_cells pc;
    point_cells(p, &pc);
    key[0] = '\0';
    key_from_fields(pc.fields, key, key_len);
}

void csv_series_key(const struct sweep_point *p, char *key, size_t key_len)
{
    struct sweep_point without_x = *p;
    for (int a = 0; a < AXIS_COUNT; a++)
        if (AXES[a].is_x) AXES[a].set(&without_x, 0);
    csv_point_key(&without_x, key, key_len);
}

int csv_row_key(const struct csv_table *t, long r, char *key, size_t key_len)
{
    const char *fields[KEY_NCOLS];
    if (r < 0 || r >= t->nrows) return -1;
    for (int i = 0; i < KEY_NCOLS; i++) {
        int c = csv_column(t, csv_key_column(i));
        if (c < 0) return -1;
        fields[i] = t->rows[r][c];
    }
    key[0] = '\0';
    key_from_fields(fields, key, key_len);
    return 0;
}
