/* test_peer_csv.c — reads a CSV written by suites/peers/torch_peers.py with
 * the harness's own reader (csv_read) and checks that it is an attnbench
 * results file: exactly attnbench's header (csv_columns()), and rows of a
 * built-in method from a torch-* backend, named as docs/measurement.md
 * ("PyTorch peers") says, with every metadata column filled, exactly the
 * parameter columns the method reads, attnbench's own work models, and
 * numbers that agree with each other.
 *
 *   test_peer_csv PEERS.csv
 *
 * Run by plots.sh, case "peers"; exits 1 with one line per failed check. */
#include <math.h>
#include <stdlib.h>

#include "attn/registry.h"
#include "results/csv.h"
#include "tests/harness/test_util.h"

/* The cell of row r, column `name` ("" and a failed check when missing). */
static const char *cell(const struct csv_table *t, long r, const char *name)
{
    int c = csv_column(t, name);
    CHECK(c >= 0);
    return c >= 0 ? t->rows[r][c] : "";
}

static double number(const struct csv_table *t, long r, const char *name)
{
    const char *text = cell(t, r, name);
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end) {
        fprintf(stderr, "row %ld: %s '%s' is not a number\n", r + 1, name, text);
        check_failures++;
        return NAN;
    }
    return v;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_row(const struct csv_table *t, long r)
{
    static const char *const filled[] = {
        "suite", "device", "dtype", "B", "H", "N", "d", "reps", "flops_model", "bytes_model",
        "git_rev", "timestamp", "runtime", "seed", "suite_hash", "shard",
    };
    for (size_t i = 0; i < sizeof filled / sizeof filled[0]; i++)
        if (!cell(t, r, filled[i])[0]) {
            fprintf(stderr, "row %ld: %s is empty\n", r + 1, filled[i]);
            check_failures++;
        }
    /* a CPU has no driver to name (--device cpu), as attnbench's CPU rows */
    CHECK(starts_with(cell(t, r, "device"), "cpu: ") || cell(t, r, "driver")[0]);
    /* A peer's backend is torch-NAME; its variant names the peer too, after
     * MiTA's own variant (route_only-torch-eager). */
    const char *backend = cell(t, r, "backend"), *variant = cell(t, r, "variant");
    CHECK(starts_with(backend, "torch-"));
    const struct attn_method *m = attn_method_find(cell(t, r, "method"), ATTN_CPU);
    if (!m) {
        fprintf(stderr, "row %ld: method '%s' is not attnbench's\n", r + 1, cell(t, r, "method"));
        check_failures++;
        return;
    }
    const size_t vlen = strlen(variant), blen = strlen(backend);
    CHECK(vlen >= blen && !strcmp(variant + vlen - blen, backend));
    if (vlen > blen) {
        int known = 0;
        for (const char *const *v = m->variants; v && *v; v++)
            known |= strlen(*v) + 1 + blen == vlen && !strncmp(variant, *v, strlen(*v)) &&
                     variant[strlen(*v)] == '-';
        CHECK(known && !strcmp(m->name, "mita"));
    }
    /* exactly the parameters the method reads (attn/methods.h) */
    static const struct {
        const char *column;
        unsigned bit;
    } params[] = {{"m", ATTN_USES_M}, {"k", ATTN_USES_K}, {"s_r", ATTN_USES_S_R},
                  {"shared_scale", ATTN_USES_SHARED_SCALE}};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (!cell(t, r, params[i].column)[0] != !(m->uses & params[i].bit)) {
            fprintf(stderr, "row %ld: %s of %s is '%s'\n", r + 1, params[i].column, m->name,
                    cell(t, r, params[i].column));
            check_failures++;
        }
    CHECK(strlen(cell(t, r, "timestamp")) == 20 && cell(t, r, "timestamp")[19] == 'Z');
    CHECK(strlen(cell(t, r, "suite_hash")) == 16);

    const char *status = cell(t, r, "status");
    CHECK(!strcmp(status, "ok") || !strcmp(status, "oom") || starts_with(status, "skipped:") ||
          starts_with(status, "invalid:") || starts_with(status, "error:"));
    char key[512];
    CHECK(csv_row_key(t, r, key, sizeof key) == 0); /* --resume can match it */

    /* attnbench's work models (docs/work-models.md), which the peer writes as %.6e */
    const struct attn_problem p = {
        .B = (int)number(t, r, "B"), .H = (int)number(t, r, "H"),
        .N = (int64_t)number(t, r, "N"), .d = (int)number(t, r, "d"),
        .dtype = !strcmp(cell(t, r, "dtype"), "fp32")   ? ATTN_FP32
                 : !strcmp(cell(t, r, "dtype"), "fp16") ? ATTN_FP16
                                                        : ATTN_BF16};
    const struct attn_params a = {
        .m = m->uses & ATTN_USES_M ? (int64_t)number(t, r, "m") : 0,
        .k = m->uses & ATTN_USES_K ? (int64_t)number(t, r, "k") : 0,
        .s_r = m->uses & ATTN_USES_S_R ? (int)number(t, r, "s_r") : 0};
    const double flops = number(t, r, "flops_model");
    CHECK(fabs(flops - m->flops(&p, &a)) <= 1e-6 * flops);
    CHECK(fabs(number(t, r, "bytes_model") - m->bytes(&p, &a)) <= 1e-6 * m->bytes(&p, &a));
    if (strcmp(status, "ok") != 0) {
        CHECK_STR(cell(t, r, "ms_median"), "");
        CHECK_STR(cell(t, r, "reps"), "0");
        return;
    }
    const double reps = number(t, r, "reps"), median = number(t, r, "ms_median");
    CHECK(reps >= 1);
    CHECK(number(t, r, "ms_min") <= median && median <= number(t, r, "ms_max"));
    CHECK(number(t, r, "ms_p10") <= median && median <= number(t, r, "ms_p90"));
    CHECK(fabs(number(t, r, "tflops") - flops / (median * 1e-3) / 1e12) <=
          1e-3 * number(t, r, "tflops") + 1e-4);
    int samples = 1;
    for (const char *c = cell(t, r, "samples_ms"); *c; c++) samples += *c == ';';
    CHECK(samples == (int)reps);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_peer_csv PEERS.csv\n");
        return 2;
    }
    struct csv_table t;
    char err[1024];
    if (csv_read(argv[1], &t, err, sizeof err) != 0) {
        fprintf(stderr, "csv_read: %s\n", err);
        return 1;
    }
    int ncols = 0;
    while (csv_columns()[ncols]) ncols++;
    if (t.ncols != ncols) fprintf(stderr, "%d columns, attnbench has %d\n", t.ncols, ncols);
    CHECK(t.ncols == ncols);
    for (int c = 0; c < ncols && c < t.ncols; c++) CHECK_STR(t.header[c], csv_columns()[c]);
    CHECK(t.nrows > 0);
    for (long r = 0; r < t.nrows && t.ncols == ncols; r++) check_row(&t, r);
    printf("%s: %ld rows, header and cells as attnbench writes them\n", argv[1], t.nrows);
    csv_table_free(&t);
    return check_exit("test_peer_csv");
}
