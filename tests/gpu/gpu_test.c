/* gpu_test.c — see gpu_test.h. */
#include "gpu_test.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda_runtime.h>

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

static uint64_t rng_state = 1;

uint64_t gpu_test_seed(void)
{
    const uint64_t seed = (uint64_t)time(NULL);
    printf("seed %" PRIu64 "\n", seed);
    rng_state = seed | 1;
    return seed;
}

double gpu_test_uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / (double)(1ull << 52) - 1.0;
}

int gpu_test_sanitized(void)
{
    const char *v = getenv("ATTNBENCH_GPU_TEST_SANITIZER");
    return v && *v;
}

int gpu_test_listed(const char *list, const char *name, const char *variant)
{
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *at = list; *at;) {
        const char *end = strchr(at, ',');
        size_t len = end ? (size_t)(end - at) : strlen(at);
        if (len >= n && strncmp(at, name, n) == 0) {
            if (len == n) return 1;
            const char *v = at + n + 1;
            size_t vlen = len - n - 1;
            if (at[n] == ':' && (!variant || (strlen(variant) == vlen && strncmp(v, variant, vlen) == 0)))
                return 1;
        }
        if (!end) break;
        at = end + 1;
    }
    return 0;
}

static int passed, failed;

void gpu_test_verdict(int ok, const char *what, const char *why)
{
    const int say = why && *why;
    printf("%-4s %s%s%s\n", ok ? "ok" : "FAIL", what, say ? ": " : "", say ? why : "");
    fflush(stdout);
    ok ? passed++ : failed++;
}

int gpu_test_summary(const char *suffix)
{
    printf("%d passed, %d failed%s\n", passed, failed, suffix);
    return failed ? 1 : 0;
}

void *gpu_test_to_device(const void *host, size_t bytes)
{
    void *d = NULL;
    if (cudaMalloc(&d, bytes) != cudaSuccess) return NULL;
    if (host && cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice) != cudaSuccess) {
        cudaFree(d);
        return NULL;
    }
    return d;
}

void gpu_test_random_16bit(enum attn_dtype dtype, size_t n, uint16_t *bits, float *values)
{
    for (size_t i = 0; i < n; i++)
        bits[i] = dtype == ATTN_FP16 ? attn_float_to_fp16((float)gpu_test_uniform())
                                     : attn_float_to_bf16((float)gpu_test_uniform());
    attn_to_float(bits, dtype, values, (int64_t)n);
}

static int by_score_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int gpu_test_valid_top(const double *scores, int64_t n, const int32_t *picked, int64_t k,
                       double *sorted, char *why, size_t why_len)
{
    memcpy(sorted, scores, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, by_score_desc);
    double big = 0;
    for (int64_t j = 0; j < n; j++) big = fmax(big, fabs(scores[j]));
    const double eps = big * 0x1p-14, kth = sorted[k - 1];
    for (int64_t i = 0; i < k; i++) {
        const int32_t x = picked[i];
        if (x < 0 || x >= n) {
            snprintf(why, why_len, "index %d out of range at %" PRId64, x, i);
            return 0;
        }
        for (int64_t j = 0; j < i; j++)
            if (picked[j] == x) {
                snprintf(why, why_len, "index %d twice", x);
                return 0;
            }
        if (scores[x] < kth - eps) {
            snprintf(why, why_len, "index %d scores %.6g, under the k-th best %.6g", x, scores[x],
                     kth);
            return 0;
        }
        if (i > 0 && scores[x] > scores[picked[i - 1]] + eps) {
            snprintf(why, why_len, "not best first at %" PRId64, i);
            return 0;
        }
    }
    return 1;
}
