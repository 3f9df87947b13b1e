/* load_inputs.c — see load_inputs.h. */
#include "measure/load_inputs.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/inputs.h"
#include "inputs/tensor_file.h"

enum load_inputs_status load_inputs_host(const struct sweep_point *pt, int which, void *dst,
                                         char *why, size_t why_len)
{
    struct inputs_spec spec;
    if (inputs_spec_parse(pt->inputs, &spec, why, why_len) != 0) return LOAD_INPUTS_INVALID;
    if (!spec.from_file) {
        inputs_fill_host(dst, &pt->problem, spec.kind, which);
        return LOAD_INPUTS_OK;
    }
    int rc = tensor_file_read(spec.path, which, &pt->problem, dst, why, why_len);
    return rc == 0 ? LOAD_INPUTS_OK : rc == -1 ? LOAD_INPUTS_INVALID : LOAD_INPUTS_FAILED;
}

enum load_inputs_status load_inputs(struct backend *b, const struct sweep_point *pt,
                                    void *const qkv[3], char *why, size_t why_len)
{
    const struct attn_problem *p = &pt->problem;
    struct inputs_spec spec;
    if (inputs_spec_parse(pt->inputs, &spec, why, why_len) != 0) return LOAD_INPUTS_INVALID;
    if (!spec.from_file) {
        for (int which = 0; which < 3; which++) {
            int rc = b->fill_inputs(b, qkv[which], p, spec.kind, which);
            if (rc) {
                snprintf(why, why_len, "filling inputs failed (%d)", rc);
                return LOAD_INPUTS_FAILED;
            }
        }
        return LOAD_INPUTS_OK;
    }
    const size_t bytes = (size_t)attn_tensor_elems(p) * attn_dtype_size(p->dtype);
    void *host = malloc(bytes ? bytes : 1);
    if (!host) {
        snprintf(why, why_len, "inputs file: out of host memory for %zu bytes", bytes);
        return LOAD_INPUTS_FAILED;
    }
    enum load_inputs_status st = LOAD_INPUTS_OK;
    for (int which = 0; which < 3 && st == LOAD_INPUTS_OK; which++) {
        st = load_inputs_host(pt, which, host, why, why_len);
        int rc = st == LOAD_INPUTS_OK ? b->copy_from_host(b, qkv[which], host, bytes) : 0;
        if (rc) {
            snprintf(why, why_len, "copying the inputs to the device failed (%d)", rc);
            st = LOAD_INPUTS_FAILED;
        }
    }
    free(host);
    return st;
}
