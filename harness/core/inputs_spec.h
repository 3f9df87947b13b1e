/* inputs_spec.h — what a point's inputs are (the `inputs` axis, core/axes.h):
 * a generated distribution, by name (iid, clustered, image, rising:
 * kernels/inputs.h), or `file:PATH`, Q, K and V read from a file
 * (inputs/inputs_file.h). docs/inputs.md defines each. */
#ifndef HARNESS_CORE_INPUTS_SPEC_H
#define HARNESS_CORE_INPUTS_SPEC_H

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

#endif
