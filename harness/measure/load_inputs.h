/* load_inputs.h — a point's Q, K and V on its backend (the `inputs` axis,
 * docs/inputs.md): a generated distribution is drawn there
 * (backend->fill_inputs), a file is read on the host and copied over. */
#ifndef HARNESS_MEASURE_LOAD_INPUTS_H
#define HARNESS_MEASURE_LOAD_INPUTS_H

#include <stddef.h>

#include "core/point.h"
#include "measure/backend.h"

enum load_inputs_status {
    LOAD_INPUTS_OK = 0,
    LOAD_INPUTS_INVALID = 1, /* the file cannot give this point its inputs: an invalid: row */
    LOAD_INPUTS_FAILED = -1, /* the backend or the memory failed: an error: row */
};

/* Q, K and V (qkv[0..2], each [B,H,N,d] in the dtype, on backend b) of
 * point pt. A status, and a message in `why` for the others: for
 * LOAD_INPUTS_INVALID it names the file and what is wrong with it
 * ("inputs file x.safetensors: q is [1,8,1024,64], the point needs
 * [1,8,2048,64] (or [2048,64])"). */
enum load_inputs_status load_inputs(struct backend *b, const struct sweep_point *pt,
                                    void *const qkv[3], char *why, size_t why_len);

/* The same tensor `which` in host memory, in the dtype: what load_inputs()
 * puts on the backend (for references, and `attnbench inputs`). */
enum load_inputs_status load_inputs_host(const struct sweep_point *pt, int which, void *dst,
                                         char *why, size_t why_len);

#endif
