/* axes.h — the sweep's axes, each declared once.
 *
 * An axis is a parameter of a sweep point that a suite lists values for
 * (`d 64 128`), the command line overrides (`--d 64,128`) and a results row
 * records (column `d`); the sweep is the cartesian product of the axes
 * (with the `methods` list, which names what runs rather than where). Every
 * part of the harness that needs "each parameter of a point" iterates AXES[]:
 * the suite parser and the command line's flags (sweep/suite.c), the
 * results file's writer, reader and point key (results/csv.c), the shard
 * plan's normalisation and the Slurm export (sweep/), compare's labels, the
 * table, plot's series key. Adding an axis is a row of AXES[] (axes.c), the
 * field of struct attn_problem or attn_params that holds its value, and the
 * code that uses that value; nothing else.
 *
 * Every axis's value is an int64: a number, the index of a name (dtype), or
 * for a text axis (inputs, gather: words that are not a closed list, such as
 * a file's path) the index of its word in a table of the words this process
 * has seen, where 0 is the axis's default. Only get() and set() know the
 * difference: the point keeps the word itself (struct sweep_point), and
 * everything else iterates the table as for any named axis.
 */
#ifndef HARNESS_CORE_AXES_H
#define HARNESS_CORE_AXES_H

#include <stddef.h>
#include <stdint.h>

#include "core/point.h"

/* In results-file column order; the order is part of the file format. */
enum axis_id {
    AXIS_DTYPE, AXIS_B, AXIS_H, AXIS_N, AXIS_D, AXIS_M, AXIS_K, AXIS_S_R, AXIS_SHARED_SCALE,
    AXIS_INPUTS, AXIS_GATHER,
    AXIS_COUNT
};

struct axis {
    const char *key;          /* the suite key, and the flag --key ('_' may be '-') */
    const char *column;       /* the results file's column */
    const char *meaning;      /* a few words for the usage text */
    /* The enum attn_uses bit of the methods that read this axis; 0: every
     * method. For the others the value is left out: the point is run once,
     * not once per value, and its cell is empty. */
    unsigned uses;
    /* Named values (dtype: fp32, fp16, bf16): value i is name_of(i), for i
     * below name_count. NULL for integer axes. */
    const char *(*name_of)(int64_t value);
    int name_count;
    /* Text axes: whether a word is a value (0, or -1 with a message that
     * says what would be valid); name_of(0) is the default. NULL for the
     * others. */
    int (*check_word)(const char *word, char *err, size_t err_len);
    int64_t max;              /* integer axes: the largest value accepted (the least is 1) */
    /* The value on the x axis of a figure, and the innermost loop of the
     * sweep, so that each series runs it in ascending order: N. */
    int is_x;
    int64_t (*get)(const struct sweep_point *p);
    void (*set)(struct sweep_point *p, int64_t value);
};

extern const struct axis AXES[AXIS_COUNT];

/* The axis whose suite key or column is `name`, or NULL. */
const struct axis *axis_find(const char *name);

/* 1 when the point's method reads the axis (its `uses`). */
int axis_used_by(const struct axis *a, const struct sweep_point *p);

/* The point's value as its results-file cell: a number or a name; "" when
 * the method does not use the axis. */
void axis_format(const struct axis *a, const struct sweep_point *p, char *cell, size_t len);

/* One value of the axis from a word ("bf16", "clustered"). 0, or -1 with
 * a message that says what would be valid. Integers and their ranges
 * ("2^10..2^14") are the suite parser's (sweep/suite.c). */
int axis_parse_name(const struct axis *a, const char *word, int64_t *value, char *err,
                    size_t err_len);

/* The point with every axis its method does not use set to 0 (the first
 * name of a named axis), so that points that differ only there are one. */
void axis_normalize(struct sweep_point *p);

#endif
