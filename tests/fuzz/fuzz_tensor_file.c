/* fuzz_tensor_file.c — libFuzzer target: the readers of inputs files
 * (inputs/tensor_file.h) on any bytes, as a whole file: the safetensors
 * header and the npy header. A tensor either is found, its data inside the
 * file and of the size its shape needs, or is refused with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "inputs/tensor_file.h"

static void check(int rc, const struct tensor_info *t, const char *why, size_t size,
                  const char *reader)
{
    if (rc != 0) {
        if (!why[0]) {
            fprintf(stderr, "fuzz_tensor_file: %s refused without a message\n", reader);
            abort();
        }
        return;
    }
    uint64_t elems = 1;
    for (int i = 0; i < t->rank; i++) elems *= (uint64_t)t->shape[i];
    if (t->rank < 0 || t->rank > TENSOR_MAX_RANK || t->offset > size ||
        t->bytes > size - t->offset || t->bytes != elems * attn_dtype_size(t->dtype)) {
        fprintf(stderr, "fuzz_tensor_file: %s found a tensor outside the file or of the wrong "
                        "size\n", reader);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"q", "k", "v"};
    for (int w = 0; w < 3; w++) {
        struct tensor_info t;
        char why[512] = "";
        check(safetensors_find(data, size, size, names[w], &t, why, sizeof why), &t, why, size,
              "safetensors_find");
    }
    struct tensor_info t;
    char why[512] = "";
    check(npy_parse(data, size, size, &t, why, sizeof why), &t, why, size, "npy_parse");
    return 0;
}
