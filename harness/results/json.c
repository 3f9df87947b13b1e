/* json.c — the results as JSON (see json.h). The document always ends
 * with the same tail, which closes this run's rows, the runs and the
 * document; a row is written over the tail, followed by the tail again, in
 * one write, so that the file is whole after every row. */
#include "results/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/text_file.h"
#include "git_rev.h"
#include "results/csv.h"

static const char HEAD[] = "{\"attnbench_results\": 1, \"runs\": [\n";
static const char TAIL[] = "\n]}\n]}\n";            /* the rows, the runs, the document */
#define TAIL_LEN (sizeof TAIL - 1)
#define RUN_END_LEN 3                               /* "\n]}": the rows and the run */

/* A JSON string literal. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
        else if (*c == '\n') fputs("\\n", f);
        else if (*c < 0x20) fprintf(f, "\\u%04x", *c);
        else fputc(*c, f);
    }
    fputc('"', f);
}

/* The columns that hold text, even where it looks like a number (a
 * driver "13.0", a suite hash of digits). */
static int is_text_column(const char *column)
{
    static const char *const text[] = {
        "suite", "method", "variant", "backend", "device", "dtype", "shared_scale", "inputs",
        "gather", "status",
        "git_rev", "timestamp", "driver", "runtime", "suite_hash", "shard", "profile_note",
        "timing", "stop_reason", "gpu_note", "verify", "kernels",
    };
    for (size_t i = 0; i < sizeof text / sizeof *text; i++)
        if (!strcmp(text[i], column)) return 1;
    return 0;
}

/* A cell as a JSON value: null when empty, a string in a text column, else
 * the number it holds. */
static void json_cell(FILE *f, const char *column, const char *cell)
{
    char *end;
    if (!*cell) fputs("null", f);
    else if (is_text_column(column) || (strtod(cell, &end), *end)) json_string(f, cell);
    else fputs(cell, f);
}

/* Writes `text` (len bytes) at the file's end less `keep_off` bytes, and
 * cuts the file there first: one write, the file whole after it. */
static int write_at_tail(FILE *f, long keep_off, const char *text, size_t len)
{
    if (fflush(f) != 0 || fseek(f, 0, SEEK_END) != 0) return -1;
    long end = ftell(f);
    if (end < keep_off || ftruncate(fileno(f), end - keep_off) != 0 ||
        fseek(f, 0, SEEK_END) != 0)
        return -1;
    return fwrite(text, 1, len, f) == len && fflush(f) == 0 ? 0 : -1;
}

/* The run's entry: its environment and an empty list of rows. */
static void run_entry(FILE *mem, int argc, char **argv)
{
    char host[256] = "", started[32];
    gethostname(host, sizeof host - 1);
    utc_timestamp(started, sizeof started);
    fputs("{\"environment\": {\"attnbench\": ", mem);
    json_string(mem, ATTN_VERSION);
    fputs(", \"git_rev\": ", mem);
    json_string(mem, ATTN_GIT_REV);
    fputs(", \"host\": ", mem);
    json_string(mem, host);
    fputs(", \"started\": ", mem);
    json_string(mem, started);
    fputs(", \"command\": [", mem);
    for (int i = 0; i < argc; i++) {
        if (i) fputs(", ", mem);
        json_string(mem, argv[i]);
    }
    fputs("]}, \"rows\": [", mem);
}

/* Checks that the file starts with our document's head. */
static int check_head(FILE *f, const char *path, char *err, size_t err_len)
{
    char head[sizeof HEAD];
    if (fseek(f, 0, SEEK_SET) != 0 || fread(head, 1, sizeof HEAD - 1, f) != sizeof HEAD - 1 ||
        memcmp(head, HEAD, sizeof HEAD - 1) != 0)
        return harness_fail(err, err_len, "%s: not a results JSON of attnbench (write to a new "
                                          "file)", path);
    return 0;
}

/* Checks that the document ends whole, with our tail. */
static int check_tail(FILE *f, const char *path, char *err, size_t err_len)
{
    char tail[TAIL_LEN + 1];
    if (fseek(f, -(long)TAIL_LEN, SEEK_END) != 0 || fread(tail, 1, TAIL_LEN, f) != TAIL_LEN ||
        memcmp(tail, TAIL, TAIL_LEN) != 0)
        return harness_fail(err, err_len, "%s: cut short (a run killed while writing it?); "
                                          "the CSV has every row: write the JSON to a new file",
                            path);
    return 0;
}

/* What the file holds, by `mode` (results/run_file.h): a document of ours
 * is continued (RUN_FILE_RESUME, whole only), emptied (RUN_FILE_FORCE) or
 * refused (RUN_FILE_NEW); anything else is refused. */
static int settle(FILE *f, const char *path, enum run_file_mode mode, char *err, size_t err_len)
{
    if (fseek(f, 0, SEEK_END) != 0 || ftell(f) == 0) return 0;
    if (check_head(f, path, err, err_len) != 0) return -1;
    if (mode == RUN_FILE_NEW)
        return harness_fail(err, err_len, "%s already holds results: --resume to add this run "
                                          "to it, or --force to start it afresh (its runs are "
                                          "deleted)", path);
    if (mode == RUN_FILE_RESUME) return check_tail(f, path, err, err_len);
    if (ftruncate(fileno(f), 0) != 0)
        return harness_fail(err, err_len, "%s: cannot empty: %s", path, strerror(errno));
    return fseek(f, 0, SEEK_END);
}

int json_writer_open(struct json_writer *w, const char *path, enum run_file_mode mode, int argc,
                     char **argv, char *err, size_t err_len)
{
    memset(w, 0, sizeof *w);
    if (snprintf(w->path, sizeof w->path, "%s", path) >= (int)sizeof w->path)
        return harness_fail(err, err_len, "%s: path is too long", path);
    FILE *f = fopen(path, "a+");
    if (!f) return harness_fail(err, err_len, "%s: cannot open: %s", path, strerror(errno));
    int rc = run_file_lock(fileno(f), path, NULL, err, err_len);
    if (rc == 0) rc = settle(f, path, mode, err, err_len);
    const int fresh = rc == 0 && fseek(f, 0, SEEK_END) == 0 && ftell(f) == 0;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = rc == 0 ? open_memstream(&text, &len) : NULL;
    if (mem) {
        fputs(fresh ? HEAD : ",\n", mem);
        run_entry(mem, argc, argv);
        fputs(TAIL, mem);
        fclose(mem);
        /* A new file gets it all; an existing one keeps its last run whole. */
        if (write_at_tail(f, fresh ? 0 : (long)(TAIL_LEN - RUN_END_LEN), text, len) != 0)
            rc = harness_fail(err, err_len, "%s: cannot write: %s", path, strerror(errno));
    } else if (rc == 0) {
        rc = harness_fail(err, err_len, "%s: out of memory", path);
    }
    free(text);
    if (rc) {
        fclose(f);
        return rc;
    }
    w->f = f;
    return 0;
}

int json_writer_row(struct json_writer *w, const struct result_row *r)
{
    static struct csv_cells cells; /* large for the stack */
    csv_row_cells(r, &cells);
    const char *const *columns = csv_columns();
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return -1;
    fputs(w->rows ? ",\n{" : "\n{", mem);
    for (int c = 0; columns[c]; c++) {
        if (!strcmp(columns[c], "samples_ms")) continue; /* "samples" below */
        if (c) fputs(", ", mem);
        json_string(mem, columns[c]);
        fputs(": ", mem);
        json_cell(mem, columns[c], cells.cell[c]);
    }
    fputs(", \"samples\": [", mem);
    const int timed = csv_row_timed(r);
    for (int i = 0; timed && i < r->reps; i++) {
        fprintf(mem, "%s{\"ms\": %.9g", i ? ", " : "", r->sample_ms[i]);
        if (r->has_readings)
            fprintf(mem, ", \"sm_mhz\": %.0f, \"power_w\": %.1f, \"throttled\": %s",
                    r->sample_sm_mhz[i], r->sample_power_w[i],
                    r->sample_throttled[i] ? "true" : "false");
        fputc('}', mem);
    }
    fputs("]}", mem);
    fputs(TAIL, mem);
    int rc = fclose(mem) == 0 ? write_at_tail(w->f, (long)TAIL_LEN, text, len) : -1;
    free(text);
    if (rc == 0) w->rows++;
    return rc;
}

void json_writer_close(struct json_writer *w)
{
    if (w->f) fclose(w->f);
    w->f = NULL;
}

/* ---- reading ------------------------------------------------------------------ */

/* A small reader of JSON values, enough for the results document: objects,
 * arrays, strings (with escapes; \u below 0x80 only), numbers kept as their
 * text, true, false, null. */
struct json_parser {
    const char *path, *start, *p, *end;
    char *err;
    size_t err_len;
};

static int parse_fail(struct json_parser *ps, const char *what)
{
    return harness_fail(ps->err, ps->err_len, "%s: byte %ld: %s", ps->path,
                        (long)(ps->p - ps->start), what);
}

static void skip_space(struct json_parser *ps)
{
    while (ps->p < ps->end && strchr(" \t\r\n", *ps->p)) ps->p++;
}

static int expect(struct json_parser *ps, char c)
{
    skip_space(ps);
    if (ps->p >= ps->end || *ps->p != c) {
        char what[32];
        snprintf(what, sizeof what, "expected '%c'", c);
        return parse_fail(ps, what);
    }
    ps->p++;
    return 0;
}

/* A string literal into a malloc'd *out. */
static int parse_string(struct json_parser *ps, char **out)
{
    if (expect(ps, '"')) return -1;
    size_t cap = 64, n = 0;
    char *s = malloc(cap);
    while (s && ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c == '\\' && ps->p < ps->end) {
            char e = *ps->p++;
            static const char escaped[] = "n\nt\tr\rb\bf\f";
            const char *hit = e ? strchr(escaped, e) : NULL;
            c = hit && (hit - escaped) % 2 == 0 ? hit[1] : e;
            if (e == 'u') {
                unsigned v = 0;
                if (ps->end - ps->p < 4 || sscanf(ps->p, "%4x", &v) != 1 || v >= 0x80) {
                    free(s);
                    return parse_fail(ps, "a \\u escape beyond ASCII");
                }
                c = (char)v;
                ps->p += 4;
            }
        }
        if (n + 2 > cap) {
            char *grown = realloc(s, cap *= 2);
            if (!grown) free(s);
            s = grown;
        }
        if (s) s[n++] = c;
    }
    if (!s) return parse_fail(ps, "out of memory");
    s[n] = '\0';
    if (ps->p >= ps->end) {
        free(s);
        return parse_fail(ps, "a string without its closing quote");
    }
    ps->p++;
    *out = s;
    return 0;
}

/* A scalar (number, true, false, null) as its text in a malloc'd *out; ""
 * for null. */
static int parse_scalar(struct json_parser *ps, char **out)
{
    skip_space(ps);
    const char *start = ps->p;
    while (ps->p < ps->end && !strchr(",]} \t\r\n", *ps->p)) ps->p++;
    size_t n = (size_t)(ps->p - start);
    if (n == 0) return parse_fail(ps, "expected a value");
    if (n == 4 && !memcmp(start, "null", 4)) n = 0;
    *out = strndup(start, n);
    return *out ? 0 : parse_fail(ps, "out of memory");
}

/* Skips any value. */
static int skip_value(struct json_parser *ps);

static int skip_container(struct json_parser *ps, char open, char close)
{
    if (expect(ps, open)) return -1;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == close) return ps->p++, 0;
    for (;;) {
        if (open == '{') {
            char *key = NULL;
            if (parse_string(ps, &key)) return -1;
            free(key);
            if (expect(ps, ':')) return -1;
        }
        if (skip_value(ps)) return -1;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') ps->p++;
        else return expect(ps, close);
    }
}

static int skip_value(struct json_parser *ps)
{
    skip_space(ps);
    if (ps->p >= ps->end) return parse_fail(ps, "expected a value");
    if (*ps->p == '{') return skip_container(ps, '{', '}');
    if (*ps->p == '[') return skip_container(ps, '[', ']');
    char *text = NULL;
    int rc = *ps->p == '"' ? parse_string(ps, &text) : parse_scalar(ps, &text);
    free(text);
    return rc;
}

/* The column `name` of table t, added (with empty cells) when new. */
static int table_column(struct csv_table *t, const char *name)
{
    int c = csv_column(t, name);
    if (c >= 0) return c;
    char **header = realloc(t->header, (size_t)(t->ncols + 1) * sizeof *header);
    if (!header) return -1;
    t->header = header;
    if (!(header[t->ncols] = strdup(name))) return -1;
    for (long r = 0; r < t->nrows; r++) {
        char **row = realloc(t->rows[r], (size_t)(t->ncols + 1) * sizeof *row);
        if (!row || !(row[t->ncols] = strdup(""))) return -1;
        t->rows[r] = row;
    }
    return t->ncols++;
}

/* The "samples" list of a row: its "ms" joined by ';' into *out, as the
 * CSV's samples_ms. */
static int parse_samples(struct json_parser *ps, char **out)
{
    size_t cap = 256, n = 0;
    char *s = calloc(cap, 1);
    if (!s || expect(ps, '[')) return free(s), -1;
    skip_space(ps);
    while (ps->p < ps->end && *ps->p != ']') {
        if (expect(ps, '{')) return free(s), -1;
        for (;;) {
            char *key = NULL, *value = NULL;
            if (parse_string(ps, &key) || expect(ps, ':')) return free(key), free(s), -1;
            skip_space(ps);
            int rc = strcmp(key, "ms") == 0 ? parse_scalar(ps, &value) : skip_value(ps);
            free(key);
            if (rc) return free(s), -1;
            if (value) {
                if (n + strlen(value) + 2 > cap) {
                    char *grown = realloc(s, cap = 2 * cap + strlen(value));
                    if (!grown) return free(value), free(s), parse_fail(ps, "out of memory");
                    s = grown;
                }
                n += (size_t)sprintf(s + n, "%s%s", n ? ";" : "", value);
                free(value);
            }
            skip_space(ps);
            if (ps->p < ps->end && *ps->p == ',') ps->p++;
            else break;
        }
        if (expect(ps, '}')) return free(s), -1;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') ps->p++, skip_space(ps);
    }
    if (expect(ps, ']')) return free(s), -1;
    *out = s;
    return 0;
}

/* One row object into a new row of t. */
static int parse_row(struct json_parser *ps, struct csv_table *t)
{
    char ***rows = realloc(t->rows, (size_t)(t->nrows + 1) * sizeof *rows);
    if (!rows) return parse_fail(ps, "out of memory");
    t->rows = rows;
    char **row = calloc((size_t)(t->ncols ? t->ncols : 1), sizeof *row);
    if (!row) return parse_fail(ps, "out of memory");
    for (int c = 0; c < t->ncols; c++)
        if (!(row[c] = strdup(""))) return parse_fail(ps, "out of memory");
    t->rows[t->nrows++] = row;
    if (expect(ps, '{')) return -1;
    skip_space(ps);
    while (ps->p < ps->end && *ps->p != '}') {
        char *key = NULL, *value = NULL;
        if (parse_string(ps, &key) || expect(ps, ':')) return free(key), -1;
        skip_space(ps);
        const int samples = strcmp(key, "samples") == 0;
        int rc = samples ? parse_samples(ps, &value)
                 : ps->p < ps->end && *ps->p == '"' ? parse_string(ps, &value)
                 : ps->p < ps->end && (*ps->p == '{' || *ps->p == '[') ? skip_value(ps)
                                                                       : parse_scalar(ps, &value);
        int c = rc || !value ? -1 : table_column(t, samples ? "samples_ms" : key);
        free(key);
        if (rc) return free(value), -1;
        if (value && c < 0) return free(value), parse_fail(ps, "out of memory");
        if (value) {
            free(t->rows[t->nrows - 1][c]);
            t->rows[t->nrows - 1][c] = value;
        }
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') ps->p++, skip_space(ps);
    }
    return expect(ps, '}');
}

/* {"environment": ..., "rows": [row, ...]} */
static int parse_run(struct json_parser *ps, struct csv_table *t)
{
    if (expect(ps, '{')) return -1;
    skip_space(ps);
    while (ps->p < ps->end && *ps->p != '}') {
        char *key = NULL;
        if (parse_string(ps, &key) || expect(ps, ':')) return free(key), -1;
        const int rows = strcmp(key, "rows") == 0;
        free(key);
        if (rows) {
            if (expect(ps, '[')) return -1;
            skip_space(ps);
            while (ps->p < ps->end && *ps->p != ']') {
                if (parse_row(ps, t)) return -1;
                skip_space(ps);
                if (ps->p < ps->end && *ps->p == ',') ps->p++, skip_space(ps);
            }
            if (expect(ps, ']')) return -1;
        } else if (skip_value(ps)) {
            return -1;
        }
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') ps->p++, skip_space(ps);
    }
    return expect(ps, '}');
}

int json_read_table(const char *path, struct csv_table *t, char *err, size_t err_len)
{
    memset(t, 0, sizeof *t);
    char *text = NULL;
    size_t len = 0;
    if (read_text_file(path, &text, &len, err, err_len) != 0) return -1;
    struct json_parser ps = {path, text, text, text + len, err, err_len};
    int rc = strncmp(text, HEAD, strlen("{\"attnbench_results\": 1")) != 0
                 ? harness_fail(err, err_len, "%s: not a results JSON of attnbench", path)
                 : 0;
    ps.p = text + strlen(HEAD);
    while (!rc) {
        skip_space(&ps);
        if (ps.p < ps.end && *ps.p == ']') break;
        rc = parse_run(&ps, t);
        skip_space(&ps);
        if (!rc && ps.p < ps.end && *ps.p == ',') ps.p++;
    }
    if (!rc) rc = expect(&ps, ']') || expect(&ps, '}');
    free(text);
    if (rc) csv_table_free(t);
    return rc;
}

int results_table_read(const char *path, struct csv_table *t, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    int first = f ? fgetc(f) : EOF;
    if (f) fclose(f);
    int rc = first == '{' ? json_read_table(path, t, err, err_len) : csv_read(path, t, err, err_len);
    if (rc == 0 && csv_table_add_absent_axes(t) != 0) {
        csv_table_free(t);
        return harness_fail(err, err_len, "%s: out of memory", path);
    }
    return rc;
}
