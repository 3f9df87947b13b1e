/* inputs.h — what a point's inputs are (the `inputs` axis, core/axes.h): a
 * generated distribution, by name (iid, clustered, image, rising:
 * kernels/inputs.h), or `file:PATH`, Q, K and V read from a file
 * (inputs/tensor_file.h); and the generated ones drawn on the host.
 * docs/inputs.md defines each. */
#ifndef HARNESS_CORE_INPUTS_H
#define HARNESS_CORE_INPUTS_H

#include <stddef.h>

#include "core/point.h"
#include "kernels/inputs.h"

struct inputs_spec {
    int from_file;               /* 1: `file:PATH`; else `kind` */
    enum attn_inputs kind;
    char path[POINT_TEXT_LEN];
};

/* The name of a generated distribution ("clustered"). */
const char *inputs_kind_name(enum attn_inputs kind);

/* A point's inputs word ("" is iid). 0, or -1 with a message that names the
 * word and lists the valid ones. A path may not hold blanks, commas or
 * '#', which a suite's lists and comments would split. */
int inputs_spec_parse(const char *word, struct inputs_spec *out, char *err, size_t err_len);

/* Tensor `which` (0 = Q, 1 = K, 2 = V) of problem `p` drawn from `kind`
 * on the host, stored as p->dtype: element i is attn_inputs_value(kind,
 * p->seed, which, p->N, p->d, i) rounded to nearest even, the very bits
 * kernels/inputs_fill.cu stores. */
void inputs_fill_host(void *dst, const struct attn_problem *p, enum attn_inputs kind, int which);

#endif
