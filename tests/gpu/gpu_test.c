/* gpu_test.c — see gpu_test.h. */
#include "gpu_test.h"

#include <stdio.h>
#include <stdlib.h>

struct backend *gpu_test_open(struct device_info *info, int *exit_status)
{
    if (!backend_cuda_available()) {
        printf("no CUDA device: skipped\n");
        *exit_status = 77;
        return NULL;
    }
    struct backend *b = backend_get(ATTN_CUDA);
    char why[512];
    if (b->init(b, info, why, sizeof why)) {
        printf("FAIL cuda init: %s\n", why);
        *exit_status = 1;
        return NULL;
    }
    printf("device %s, driver %s, runtime %s%s\n", info->name, info->driver, info->runtime,
           gpu_test_sanitized() ? ", under compute-sanitizer (small shapes)" : "");
    return b;
}

int gpu_test_sanitized(void)
{
    const char *v = getenv("ATTNBENCH_GPU_TEST_SANITIZER");
    return v && *v;
}
