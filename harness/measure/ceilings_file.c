/* ceilings_file.c — the ceilings file (see ceilings.h): written by
 * `attnbench ceilings`, read by `attnbench run --ceilings`. */
#include "measure/ceilings.h"
#include "core/errors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/backend.h"
#include "results/csv.h"
#include "core/clock.h"

/* In enum ceiling_index order. */
static const struct {
    const char *name, *unit;
    size_t offset;
} rows[CEILINGS_COUNT] = {
    {"dram_copy_gbps", "GB/s", offsetof(struct ceilings, dram_copy_gbps)},
    {"l2_read_gbps", "GB/s", offsetof(struct ceilings, l2_read_gbps)},
    {"bf16_tensor_tflops", "TFLOP/s", offsetof(struct ceilings, bf16_tensor_tflops)},
    {"fp16_tensor_tflops", "TFLOP/s", offsetof(struct ceilings, fp16_tensor_tflops)},
    {"fp32_tflops", "TFLOP/s", offsetof(struct ceilings, fp32_tflops)},
};
enum { NROWS = CEILINGS_COUNT };

const char *ceilings_name(enum ceiling_index i) { return rows[i].name; }

const char *ceilings_unit(enum ceiling_index i) { return rows[i].unit; }

double *ceilings_value(struct ceilings *c, enum ceiling_index i)
{
    return (double *)((char *)c + rows[i].offset);
}

static double *field(struct ceilings *c, int i) { return ceilings_value(c, (enum ceiling_index)i); }

static double value_of(const struct ceilings *c, int i)
{
    return *(const double *)((const char *)c + rows[i].offset);
}

/* "" (a ceiling given by hand) counts as ok. */
static int status_ok(const char *status) { return !status[0] || !strcmp(status, "ok"); }

static void write_line(FILE *f, const char *const *cells, int n)
{
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', f);
        csv_write_field(f, cells[i]);
    }
    fputc('\n', f);
}

int ceilings_write(const char *path, const struct ceilings *c, const struct device_info *device,
                   const char *git_rev, char *err, size_t err_len)
{
    FILE *f = fopen(path, "w");
    if (!f) return harness_fail(err, err_len, "%s: cannot open for writing: %s", path, strerror(errno));
    /* The metadata as a results row has it (csv.c): the device's name,
     * driver and runtime versions, its rated SM clock (empty when unknown),
     * the build's revision and the time, UTC. */
    char timestamp[32], clock[16] = "";
    utc_timestamp(timestamp, sizeof timestamp);
    if (device->sm_clock_mhz) snprintf(clock, sizeof clock, "%d", device->sm_clock_mhz);
    const char *header[] = {"name", "value", "unit", "status", "device", "driver", "runtime",
                            "sm_clock_mhz", "git_rev", "timestamp"};
    enum { NCOLS = sizeof header / sizeof header[0] };
    write_line(f, header, NCOLS);
    for (int i = 0; i < NROWS; i++) {
        const char *status = c->status[i][0] ? c->status[i] : "ok";
        char value[32] = "";
        if (status_ok(status)) snprintf(value, sizeof value, "%.6g", value_of(c, i));
        const char *cells[] = {rows[i].name, value, rows[i].unit, status, c->device,
                               device->driver, device->runtime, clock, git_rev, timestamp};
        _Static_assert(sizeof cells / sizeof cells[0] == NCOLS, "a cell for every column");
        write_line(f, cells, NCOLS);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return harness_fail(err, err_len, "%s: writing failed: %s", path, strerror(errno));
    return 0;
}

int ceilings_read(const char *path, struct ceilings *c, char *err, size_t err_len)
{
    memset(c, 0, sizeof *c);
    struct csv_table t;
    if (csv_read(path, &t, err, err_len) != 0) return -1;
    /* No status column: a file written before it, every row measured. */
    const int name = csv_column(&t, "name"), value = csv_column(&t, "value"),
              unit = csv_column(&t, "unit"), device = csv_column(&t, "device"),
              status = csv_column(&t, "status");
    int rc = 0, seen[NROWS] = {0};
    if (name < 0 || value < 0 || unit < 0 || device < 0)
        rc = harness_fail(err, err_len, "%s: not a ceilings file (need the columns name,value,unit,device; "
                                "write one with `attnbench ceilings`)", path);
    for (long r = 0; r < t.nrows && rc == 0; r++) {
        const char *const *cell = (const char *const *)t.rows[r];
        int i = 0;
        while (i < NROWS && strcmp(rows[i].name, cell[name]) != 0) i++;
        if (i == NROWS) continue; /* a ceiling of a later attnbench: not ours to judge */
        char *end;
        double x = strtod(cell[value], &end);
        if (seen[i])
            rc = harness_fail(err, err_len, "%s:%ld: %s is given twice", path, r + 2, rows[i].name);
        else if (status >= 0 && !status_ok(cell[status]))
            rc = harness_fail(err, err_len, "%s:%ld: %s was not measured (%s); measure again with "
                              "`attnbench ceilings`", path, r + 2, rows[i].name, cell[status]);
        else if (strcmp(cell[unit], rows[i].unit) != 0)
            rc = harness_fail(err, err_len, "%s:%ld: %s is in '%s', need '%s'", path, r + 2, rows[i].name,
                      cell[unit], rows[i].unit);
        else if (end == cell[value] || *end || !(x > 0))
            rc = harness_fail(err, err_len, "%s:%ld: %s = '%s' (need a number > 0)", path, r + 2,
                      rows[i].name, cell[value]);
        else if (c->device[0] && strcmp(c->device, cell[device]) != 0)
            rc = harness_fail(err, err_len, "%s:%ld: measured on '%s', the rows above on '%s' (one device "
                      "per file)", path, r + 2, cell[device], c->device);
        if (rc) break;
        seen[i] = 1;
        *field(c, i) = x;
        snprintf(c->device, sizeof c->device, "%s", cell[device]);
    }
    for (int i = 0; i < NROWS && rc == 0; i++)
        if (!seen[i])
            rc = harness_fail(err, err_len, "%s: no %s row (write the file with `attnbench ceilings`)",
                      path, rows[i].name);
    csv_table_free(&t);
    return rc;
}

double ceilings_peak_tflops(const struct ceilings *c, enum attn_dtype dtype)
{
    switch (dtype) {
    case ATTN_BF16: return c->bf16_tensor_tflops;
    case ATTN_FP16: return c->fp16_tensor_tflops;
    default: return c->fp32_tflops;
    }
}
