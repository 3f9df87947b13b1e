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
        "suite", "method", "variant", "backend", "device", "dtype", "shared_scale", "status",
        "git_rev", "timestamp", "driver", "runtime", "suite_hash", "shard", "profile_note",
        "timing", "stop_reason", "gpu_note",
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

/* Checks that the file holds our document whole: our head, our tail. */
static int check_document(FILE *f, const char *path, char *err, size_t err_len)
{
    char head[sizeof HEAD], tail[TAIL_LEN + 1];
    if (fseek(f, 0, SEEK_SET) != 0 || fread(head, 1, sizeof HEAD - 1, f) != sizeof HEAD - 1 ||
        memcmp(head, HEAD, sizeof HEAD - 1) != 0)
        return harness_fail(err, err_len, "%s: not a results JSON of attnbench (write to a new "
                                          "file)", path);
    if (fseek(f, -(long)TAIL_LEN, SEEK_END) != 0 || fread(tail, 1, TAIL_LEN, f) != TAIL_LEN ||
        memcmp(tail, TAIL, TAIL_LEN) != 0)
        return harness_fail(err, err_len, "%s: cut short (a run killed while writing it?); "
                                          "the CSV has every row: write the JSON to a new file",
                            path);
    return 0;
}

int json_writer_open(struct json_writer *w, const char *path, int argc, char **argv, char *err,
                     size_t err_len)
{
    memset(w, 0, sizeof *w);
    if (snprintf(w->path, sizeof w->path, "%s", path) >= (int)sizeof w->path)
        return harness_fail(err, err_len, "%s: path is too long", path);
    FILE *f = fopen(path, "a+");
    if (!f) return harness_fail(err, err_len, "%s: cannot open: %s", path, strerror(errno));
    int rc = fseek(f, 0, SEEK_END) == 0 && ftell(f) > 0 ? check_document(f, path, err, err_len)
                                                        : 0;
    const int fresh = rc == 0 && ftell(f) == 0;
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
    const int ok = strcmp(r->status, "ok") == 0;
    for (int i = 0; ok && i < r->reps; i++) {
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
