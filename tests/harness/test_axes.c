/* test_axes.c — the table of sweep axes (harness/core/axes.h) and the places
 * that iterate it: every axis is a suite key and a flag, a results column
 * and part of a point's key; unused axes are left out of cells and merged
 * away; named axes parse and refuse by name. */
#include <string.h>

#include "core/axes.h"
#include "results/csv.h"
#include "sweep/suite.h"
#include "tests/harness/test_util.h"

/* A column's position in the results header, or -1. */
static int header_position(const char *column)
{
    const char *const *cols = csv_columns();
    for (int c = 0; cols[c]; c++)
        if (strcmp(cols[c], column) == 0) return c;
    return -1;
}

static void test_every_axis_is_everywhere(void)
{
    int last = -1, x_axes = 0;
    for (int a = 0; a < AXIS_COUNT; a++) {
        const struct axis *axis = &AXES[a];
        char flag[64], err[256];
        snprintf(flag, sizeof flag, "--%s", axis->key);
        CHECK(suite_flag_key(flag) && strcmp(suite_flag_key(flag), axis->key) == 0);
        for (char *c = flag; *c; c++)
            if (*c == '_') *c = '-';
        CHECK(suite_flag_key(flag) && strcmp(suite_flag_key(flag), axis->key) == 0);
        CHECK(axis_find(axis->key) == axis && axis_find(axis->column) == axis);
        /* In the header, in table order, and in the point key. */
        int at = header_position(axis->column);
        CHECK(at > last);
        last = at;
        int in_key = 0;
        for (int k = 0; k < csv_key_column_count(); k++)
            in_key |= strcmp(csv_key_column(k), axis->column) == 0;
        CHECK(in_key);
        /* A suite accepts the key. */
        struct suite s;
        suite_init_defaults(&s);
        CHECK(suite_set(&s, axis->key, axis->name_of ? axis->name_of(0) : "2", err,
                        sizeof err) == 0);
        x_axes += axis->is_x;
    }
    CHECK(x_axes == 1);
    CHECK(csv_column_count() == header_position("kernels") + 1);
}

static void test_cells_and_unused_axes(void)
{
    struct sweep_point p;
    memset(&p, 0, sizeof p);
    p.problem.dtype = ATTN_BF16;
    p.problem.N = 4096;
    p.params.m = 64;
    p.params.shared_scale = ATTN_SHARED_PAPER;
    p.uses = ATTN_USES_SHARED_SCALE;
    char cell[32];
    axis_format(&AXES[AXIS_DTYPE], &p, cell, sizeof cell);
    CHECK_STR(cell, "bf16");
    axis_format(&AXES[AXIS_N], &p, cell, sizeof cell);
    CHECK_STR(cell, "4096");
    axis_format(&AXES[AXIS_M], &p, cell, sizeof cell);
    CHECK_STR(cell, ""); /* m is not used: an empty cell */
    axis_format(&AXES[AXIS_SHARED_SCALE], &p, cell, sizeof cell);
    CHECK_STR(cell, "paper");
    axis_normalize(&p);
    CHECK(p.params.m == 0 && p.problem.N == 4096 && p.params.shared_scale == ATTN_SHARED_PAPER);
}

static void test_named_values(void)
{
    int64_t v = -1;
    char err[256];
    CHECK(axis_parse_name(&AXES[AXIS_DTYPE], "fp16", &v, err, sizeof err) == 0 &&
          v == ATTN_FP16);
    CHECK(axis_parse_name(&AXES[AXIS_DTYPE], "fp8", &v, err, sizeof err) != 0);
    CHECK_STR(err, "unknown dtype 'fp8' (known: fp32, fp16, bf16)");
    CHECK(suite_flag_key("--nosuch") == NULL && suite_flag_key("seqlen") == NULL);
    CHECK(suite_flag_key("--name") == NULL); /* the name is not a flag */
}

/* Text axes: the word is the point's; "" stands for the default; an unused
 * one is an empty cell and normalised to its default. */
static void test_text_values(void)
{
    struct sweep_point p;
    memset(&p, 0, sizeof p);
    char cell[POINT_TEXT_LEN], err[256];
    axis_format(&AXES[AXIS_INPUTS], &p, cell, sizeof cell);
    CHECK_STR(cell, "iid");
    int64_t v = -1;
    CHECK(axis_parse_name(&AXES[AXIS_INPUTS], "file:/a/q.npy", &v, err, sizeof err) == 0 && v > 0);
    AXES[AXIS_INPUTS].set(&p, v);
    CHECK_STR(p.inputs, "file:/a/q.npy");
    CHECK(AXES[AXIS_INPUTS].get(&p) == v);
    axis_format(&AXES[AXIS_INPUTS], &p, cell, sizeof cell);
    CHECK_STR(cell, "file:/a/q.npy");
    CHECK(axis_parse_name(&AXES[AXIS_INPUTS], "iid", &v, err, sizeof err) == 0 && v == 0);

    snprintf(p.gather, sizeof p.gather, "vec16");
    p.uses = ATTN_USES_GATHER;
    axis_format(&AXES[AXIS_GATHER], &p, cell, sizeof cell);
    CHECK_STR(cell, "vec16");
    p.uses = 0;
    axis_format(&AXES[AXIS_GATHER], &p, cell, sizeof cell);
    CHECK_STR(cell, "");
    axis_normalize(&p);
    CHECK_STR(p.gather, "fused");
    CHECK_STR(p.inputs, "file:/a/q.npy");
    CHECK(axis_parse_name(&AXES[AXIS_GATHER], "x y", &v, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "gather 'x y' is not a name");
}

int main(void)
{
    test_every_axis_is_everywhere();
    test_cells_and_unused_axes();
    test_named_values();
    test_text_values();
    return check_exit("test_axes");
}
