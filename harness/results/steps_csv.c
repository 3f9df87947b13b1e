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

/* Hands one whole line to the unbuffered file in one fwrite, as csv.c does
 * with result rows: a killed sweep leaves whole rows only. */
static int write_line(FILE *f, const char *line, size_t len)
{
    return fwrite(line, 1, len, f) == len && fflush(f) == 0 ? 0 : -1;
}

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

int steps_writer_open(struct steps_writer *w, const char *out_path, char *err, size_t err_len)
{
    memset(w, 0, sizeof *w);
    size_t base = strlen(out_path);
    if (base > 4 && !strcmp(out_path + base - 4, ".csv")) base -= 4;
    if (snprintf(w->path, sizeof w->path, "%.*s.steps.csv", (int)base, out_path) >=
        (int)sizeof w->path) {
        snprintf(err, err_len, "%s: path is too long for its steps file", out_path);
        return -1;
    }
    size_t hlen = 0;
    char *header = header_line(&hlen);
    FILE *f = header ? fopen(w->path, "a+") : NULL;
    if (!f) {
        snprintf(err, err_len, "%s: cannot open for appending: %s", w->path,
                 header ? strerror(errno) : "out of memory");
        free(header);
        return -1;
    }
    setvbuf(f, NULL, _IONBF, 0);
    char first[1024];
    size_t n = fread(first, 1, hlen, f);
    int rc = 0;
    if (n == 0) {
        if (fseek(f, 0, SEEK_END) != 0 || write_line(f, header, hlen) != 0) rc = -1;
        if (rc) snprintf(err, err_len, "%s: cannot write the header: %s", w->path, strerror(errno));
    } else if (n != hlen || memcmp(first, header, hlen) != 0) {
        snprintf(err, err_len, "%s: not a steps file of this attnbench (its header differs); "
                               "move it away or write the results elsewhere", w->path);
        rc = -1;
    } else if (fseek(f, -1, SEEK_END) != 0 || fgetc(f) != '\n' || fseek(f, 0, SEEK_END) != 0) {
        snprintf(err, err_len, "%s: its last line has no newline (a row cut short?); repair the "
                               "file or write to a new one", w->path);
        rc = -1;
    }
    free(header);
    if (rc) {
        fclose(f);
        return rc;
    }
    w->f = f;
    return 0;
}

int steps_writer_rows(struct steps_writer *w, const struct result_row *r)
{
    if (!r->has_counters) return 0;
    char key[512];
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
        int rc = fclose(mem) == 0 ? write_line(w->f, line, len) : -1;
        free(line);
        if (rc) return rc;
    }
    return 0;
}

void steps_writer_close(struct steps_writer *w)
{
    if (w->f) fclose(w->f);
    w->f = NULL;
}
