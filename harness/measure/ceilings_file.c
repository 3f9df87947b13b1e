/* ceilings_file.c — the ceilings (see ceilings.h): their names, which apply
 * to a CPU, the rule that a ceiling is the best of its trials, and the file
 * `attnbench ceilings` writes and `attnbench run --ceilings` reads. */
#include "measure/ceilings.h"
#include "core/errors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/backend.h"
#include "results/csv.h"
#include "core/clock.h"

/* In enum ceiling_index order; `cpu`: measured on a CPU too. */
static const struct {
    const char *name, *unit;
    size_t offset;
    int cpu;
} rows[CEILINGS_COUNT] = {
    {"dram_copy_gbps", "GB/s", offsetof(struct ceilings, dram_copy_gbps), 1},
    {"l2_read_gbps", "GB/s", offsetof(struct ceilings, l2_read_gbps), 0},
    {"bf16_tensor_tflops", "TFLOP/s", offsetof(struct ceilings, bf16_tensor_tflops), 0},
    {"fp16_tensor_tflops", "TFLOP/s", offsetof(struct ceilings, fp16_tensor_tflops), 0},
    {"fp32_tflops", "TFLOP/s", offsetof(struct ceilings, fp32_tflops), 1},
};
enum { NROWS = CEILINGS_COUNT };

const char *ceilings_name(enum ceiling_index i) { return rows[i].name; }

const char *ceilings_unit(enum ceiling_index i) { return rows[i].unit; }

double *ceilings_value(struct ceilings *c, enum ceiling_index i)
{
    return (double *)((char *)c + rows[i].offset);
}

static double *field(struct ceilings *c, int i) { return ceilings_value(c, (enum ceiling_index)i); }

int ceilings_device_is_cpu(const char *device) { return strncmp(device, "cpu:", 4) == 0; }

int ceilings_apply(enum ceiling_index i, const char *device)
{
    return rows[i].cpu || !ceilings_device_is_cpu(device);
}

static double value_of(const struct ceilings *c, int i)
{
    return *(const double *)((const char *)c + rows[i].offset);
}

/* "" (a ceiling given by hand) counts as ok. */
static int status_ok(const char *status) { return !status[0] || !strcmp(status, "ok"); }

/* ---- the best of several configurations -------------------------------------- */

void ceilings_add_trial(struct ceiling_trials *t, enum ceiling_index i, const char *config,
                        double value, const char *error)
{
    if (t->count == CEILINGS_MAX_TRIALS) return;
    struct ceiling_trial *trial = &t->trial[t->count++];
    trial->ceiling = i;
    snprintf(trial->config, sizeof trial->config, "%s", config);
    trial->value = error && error[0] ? 0 : value;
    snprintf(trial->error, sizeof trial->error, "%s", error ? error : "");
}

int ceilings_settle(struct ceilings *c, const struct ceiling_trials *t)
{
    int failed_ceilings = 0;
    for (int i = 0; i < NROWS; i++) {
        const struct ceiling_trial *best = NULL, *first_failure = NULL;
        int ran = 0, failed = 0;
        for (int k = 0; k < t->count; k++) {
            const struct ceiling_trial *trial = &t->trial[k];
            if ((int)trial->ceiling != i) continue;
            if (trial->error[0]) {
                failed++;
                if (!first_failure) first_failure = trial;
            } else {
                ran++;
                if (!best || trial->value > best->value) best = trial;
            }
        }
        if (!best && !first_failure) continue;
        if (!best) {
            *field(c, i) = 0; /* no figure: the time of a failed run may be anything */
            snprintf(c->status[i], sizeof c->status[i], "error:%s", first_failure->error);
            snprintf(c->config[i], sizeof c->config[i], "%s", first_failure->config);
            failed_ceilings++;
            continue;
        }
        *field(c, i) = best->value;
        snprintf(c->status[i], sizeof c->status[i], "ok");
        char of[48] = "";
        if (ran > 1 && failed) snprintf(of, sizeof of, " (best of %d; %d failed)", ran, failed);
        else if (ran > 1) snprintf(of, sizeof of, " (best of %d)", ran);
        else if (failed) snprintf(of, sizeof of, " (%d other%s failed)", failed, failed > 1 ? "s" : "");
        snprintf(c->config[i], sizeof c->config[i], "%s%s", best->config, of);
    }
    return failed_ceilings;
}

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
                            "sm_clock_mhz", "git_rev", "timestamp", "config"};
    enum { NCOLS = sizeof header / sizeof header[0] };
    write_line(f, header, NCOLS);
    for (int i = 0; i < NROWS; i++) {
        if (!ceilings_apply((enum ceiling_index)i, c->device)) continue;
        const char *status = c->status[i][0] ? c->status[i] : "ok";
        char value[32] = "";
        if (status_ok(status)) snprintf(value, sizeof value, "%.6g", value_of(c, i));
        const char *cells[] = {rows[i].name, value, rows[i].unit, status, c->device,
                               device->driver, device->runtime, clock, git_rev, timestamp,
                               c->config[i]};
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
    /* No status column: a file written before it, every row measured; no
     * config column: a file written before it. */
    const int name = csv_column(&t, "name"), value = csv_column(&t, "value"),
              unit = csv_column(&t, "unit"), device = csv_column(&t, "device"),
              status = csv_column(&t, "status"), config = csv_column(&t, "config");
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
        if (config >= 0) snprintf(c->config[i], sizeof c->config[i], "%s", cell[config]);
    }
    for (int i = 0; i < NROWS && rc == 0; i++)
        if (!seen[i] && ceilings_apply((enum ceiling_index)i, c->device))
            rc = harness_fail(err, err_len, "%s: no %s row (write the file with `attnbench ceilings`)",
                      path, rows[i].name);
    /* A row that does not apply to the device (a CPU's l2_read_gbps) is a
     * hand-made file's mistake, not a roof. */
    for (int i = 0; i < NROWS && rc == 0; i++)
        if (seen[i] && !ceilings_apply((enum ceiling_index)i, c->device))
            rc = harness_fail(err, err_len, "%s: %s on '%s': a CPU has no such ceiling (a CPU's "
                              "file has dram_copy_gbps and fp32_tflops)", path, rows[i].name,
                              c->device);
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
