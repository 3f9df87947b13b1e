/* inputs.c — see inputs.h. */
#include "core/inputs.h"

#include <string.h>

#include "core/errors.h"

static const char *const kind_names[ATTN_INPUTS_COUNT] = {
    [ATTN_INPUTS_IID] = "iid",
    [ATTN_INPUTS_CLUSTERED] = "clustered",
    [ATTN_INPUTS_IMAGE] = "image",
    [ATTN_INPUTS_RISING] = "rising",
};

const char *inputs_kind_name(enum attn_inputs kind)
{
    return kind >= 0 && kind < ATTN_INPUTS_COUNT ? kind_names[kind] : "?";
}

int inputs_spec_parse(const char *word, struct inputs_spec *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!*word) return 0; /* iid */
    if (strncmp(word, "file:", 5) == 0) {
        const char *path = word + 5;
        if (!*path)
            return harness_fail(err, err_len,
                                "inputs 'file:' names no file (need file:PATH, e.g. "
                                "file:qkv.safetensors)");
        if (path[strcspn(path, " \t,#")])
            return harness_fail(err, err_len,
                                "inputs '%s': a path with a blank, a comma or '#' cannot be "
                                "listed (rename the file)",
                                word);
        if (strlen(word) >= sizeof out->path)
            return harness_fail(err, err_len, "inputs '%.40s...' is too long (at most %zu characters)",
                                word, sizeof out->path - 1);
        out->from_file = 1;
        memcpy(out->path, path, strlen(path) + 1);
        return 0;
    }
    for (int k = 0; k < ATTN_INPUTS_COUNT; k++)
        if (strcmp(word, kind_names[k]) == 0) {
            out->kind = (enum attn_inputs)k;
            return 0;
        }
    return harness_fail(err, err_len,
                        "unknown inputs '%s' (known: iid, clustered, image, rising, file:PATH)",
                        word);
}

void inputs_fill_host(void *dst, const struct attn_problem *p, enum attn_inputs kind, int which)
{
    const int64_t n = attn_tensor_elems(p), N = p->N;
    const int d = p->d;
    const uint64_t seed = p->seed;
    float *f32 = p->dtype == ATTN_FP32 ? dst : NULL;
    uint16_t *u16 = p->dtype == ATTN_FP32 ? NULL : dst;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float x = attn_inputs_value(kind, seed, which, N, d, i);
        if (f32) f32[i] = x;
        else u16[i] = p->dtype == ATTN_FP16 ? attn_float_to_fp16(x) : attn_float_to_bf16(x);
    }
}
