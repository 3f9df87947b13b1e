/* steps_csv.c — the steps file (see steps_csv.h). */
#include "results/steps_csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/csv.h"

/* After the suite and the point's key columns (results/csv.h). */
static const char *const step_columns[] = {
    "step", "kernel", "launches", "dram_read_bytes", "dram_write_bytes", "l2_bytes",
    "kernel_ms", "flops", "device", "git_rev", "timestamp", "status",
};
enum { STEP_NCOLS = sizeof step_columns / sizeof step_columns[0] };

/* The header line, newline included, into a malloc'd string. */
static char *header_line(size_t *len)
{
    char *line = NULL;
    FILE *mem = open_memstream(&line, len);
    if (!mem) return NULL;
    fprintf(mem, "suite");
    for (int i = 0; i < csv_key_column_count(); i++) fprintf(mem, ",%s", csv_key_column(i));
    for (int i = 0; i < STEP_NCOLS; i++) fprintf(mem, ",%s", step_columns[i]);
    fputc('\n', mem);
    if (fclose(mem) != 0) {
        free(line);
        return NULL;
    }
    return line;
}

int steps_writer_open(struct steps_writer *w, const char *out_path, enum run_file_mode mode,
                      FILE *log, char *err, size_t err_len)
{
    memset(w, 0, sizeof *w);
    size_t base = strlen(out_path);
    if (base > 4 && !strcmp(out_path + base - 4, ".csv")) base -= 4;
    char path[sizeof w->file.path];
    if (snprintf(path, sizeof path, "%.*s.steps.csv", (int)base, out_path) >= (int)sizeof path) {
        snprintf(err, err_len, "%s: path is too long for its steps file", out_path);
        return -1;
    }
    size_t hlen = 0;
    char *header = header_line(&hlen);
    if (!header) {
        snprintf(err, err_len, "%s: out of memory", path);
        return -1;
    }
    int rc = run_file_open(&w->file, path, log, err, err_len);
    const struct run_file *f = &w->file;
    if (rc == 0 && f->len > 0 && (f->len < hlen || memcmp(f->text, header, hlen) != 0)) {
        snprintf(err, err_len, "%s: not a steps file of this attnbench (its header differs); "
                               "move it away or write the results elsewhere", path);
        rc = -1;
    }
    if (rc == 0) rc = run_file_settle(&w->file, mode, header, hlen, log, err, err_len);
    free(header);
    if (rc != 0) run_file_close(&w->file);
    return rc;
}

int steps_writer_rows(struct steps_writer *w, const struct result_row *r)
{
    if (!r->has_counters) return 0;
    char key[CSV_KEY_LEN];
    csv_point_key(&r->point, key, sizeof key); /* the key columns, as CSV */
    for (int i = 0; i < r->step_count; i++) {
        const struct profile_step *s = &r->steps[i];
        char *line = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&line, &len);
        if (!mem) return -1;
        csv_write_field(mem, r->suite);
        fprintf(mem, ",%s,", key);
        csv_write_field(mem, s->step);
        fputc(',', mem);
        csv_write_field(mem, s->kernel);
        fprintf(mem, ",%d,%.0f,%.0f,%.0f,%.9g,", s->launches, s->dram_read_bytes,
                s->dram_write_bytes, s->l2_bytes, s->kernel_ms);
        if (!isnan(s->flops)) fprintf(mem, "%.6e", s->flops);
        /* The metadata of the point's row, so that the file stands alone. */
        fputc(',', mem);
        csv_write_field(mem, r->device);
        fprintf(mem, ",%s,%s,", r->git_rev, r->timestamp);
        csv_write_field(mem, r->status);
        fputc('\n', mem);
        int rc = fclose(mem) == 0 ? run_file_append(&w->file, line, len) : -1;
        free(line);
        if (rc) return rc;
    }
    return 0;
}

void steps_writer_close(struct steps_writer *w) { run_file_close(&w->file); }
