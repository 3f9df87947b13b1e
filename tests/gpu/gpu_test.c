/* gpu_test.c — see gpu_test.h. */
#include "gpu_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

uint64_t gpu_test_seed(void)
{
    const uint64_t seed = (uint64_t)time(NULL);
    printf("seed %" PRIu64 "\n", seed);
    return seed;
}

int gpu_test_sanitized(void)
{
    const char *v = getenv("ATTNBENCH_GPU_TEST_SANITIZER");
    return v && *v;
}
