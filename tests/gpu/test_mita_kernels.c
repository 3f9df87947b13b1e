/* test_mita_kernels.c — MiTA's two selections alone, so that a failure of `mita` in
 * test_gpu_methods can be pinned to one kernel: the probe (topk_select_softmax_values: the
 * one-pass path up to 2432 keys at d = 64 and 1408 at d = 128, the chunked path past them)
 * and the routing (mita_route: route_wgmma on an sm_90a build and device with m <= 64,
 * route_mma otherwise), bf16, against scores in double on the CPU from the same stored inputs.
 *
 * A selection is valid when its indices are in range and distinct, come best first, and each
 * scores within eps of the k-th best score (eps = 2^-14 of the row's largest |score|: the
 * landmarks' hi + lo split keeps ~16 bits, so near-ties may go either way). The probe's
 * values, softmax(scale·s)·V, are held to a relative error of 2e-2 (P is rounded to bf16).
 *
 * Exits 77 (skipped) where there is no GPU. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "gpu_test.h"
#include "attn/attn.h"
#include "kernels/mita_route.h"
#include "kernels/topk_select.h"

static int passed, failed;

static void verdict(int ok, const char *what, const char *why)
{
    printf("%-4s %s%s%s\n", ok ? "ok" : "FAIL", what, ok ? "" : ": ", ok ? "" : why);
    fflush(stdout);
    ok ? passed++ : failed++;
}

static uint64_t rng_state;
static double uniform(void) /* [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / (double)(1ull << 52) - 1.0;
}

/* n bf16 values in [-1, 1): the stored bits, and their values as float. */
static void random_bf16(size_t n, uint16_t *bits, float *values)
{
    for (size_t i = 0; i < n; i++) {
        bits[i] = attn_float_to_bf16((float)uniform());
        values[i] = attn_bf16_to_float(bits[i]);
    }
}

/* Device copies; NULL after printing why. */
static void *to_device(const void *host, size_t bytes)
{
    void *d = NULL;
    if (cudaMalloc(&d, bytes) != cudaSuccess) return NULL;
    if (host && cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice) != cudaSuccess) {
        cudaFree(d);
        return NULL;
    }
    return d;
}

static int by_score_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Whether `picked` (k indices into scores[0..n)) is a valid top k; why says what is not. */
static int valid_top(const double *scores, int64_t n, const int32_t *picked, int64_t k,
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

/* The probe: m fp32 landmarks against N bf16 keys a head, k best and softmax·V. */
static void check_probe(int heads, int64_t m, int64_t N, int d, int64_t k)
{
    char what[160], why[200] = "";
    snprintf(what, sizeof what, "probe heads=%d m=%" PRId64 " N=%" PRId64 " d=%d k=%" PRId64,
             heads, m, N, d, k);
    const size_t nr = (size_t)heads * m * d, nk = (size_t)heads * N * d;
    float *rows = malloc(nr * sizeof *rows), *kf = malloc(nk * sizeof *kf),
          *vf = malloc(nk * sizeof *vf), *vals = malloc(nr * sizeof *vals);
    uint16_t *kb = malloc(nk * 2), *vb = malloc(nk * 2);
    int32_t *idx = malloc((size_t)heads * m * k * sizeof *idx);
    double *s = malloc((size_t)N * sizeof *s), *sorted = malloc((size_t)N * sizeof *sorted);
    for (size_t i = 0; i < nr; i++) rows[i] = (float)uniform();
    random_bf16(nk, kb, kf);
    random_bf16(nk, vb, vf);
    const size_t scratch_bytes = topk_select_softmax_values_scratch_bytes(heads, m, N, d,
                                                                          ATTN_BF16, k);
    void *d_rows = to_device(rows, nr * 4), *d_k = to_device(kb, nk * 2),
         *d_v = to_device(vb, nk * 2), *d_scratch = to_device(NULL, scratch_bytes + 256),
         *d_idx = to_device(NULL, (size_t)heads * m * k * 4), *d_vals = to_device(NULL, nr * 4);
    const float scale = 1.f / sqrtf((float)d);
    cudaError_t e = d_rows && d_k && d_v && d_scratch && d_idx && d_vals
                        ? topk_select_softmax_values(d_rows, d_k, d_v, ATTN_BF16, heads, m, N, d,
                                                     k, scale, d_scratch, d_idx, d_vals, 0)
                        : cudaErrorMemoryAllocation;
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e == cudaSuccess)
        e = cudaMemcpy(idx, d_idx, (size_t)heads * m * k * 4, cudaMemcpyDeviceToHost);
    if (e == cudaSuccess) e = cudaMemcpy(vals, d_vals, nr * 4, cudaMemcpyDeviceToHost);
    int ok = e == cudaSuccess;
    if (!ok) snprintf(why, sizeof why, "CUDA: %s", cudaGetErrorString(e));
    double worst = 0;
    for (int h = 0; ok && h < heads; h++)
        for (int64_t r = 0; ok && r < m; r++) {
            const float *q = rows + ((size_t)h * m + r) * d;
            double mx = -INFINITY;
            for (int64_t j = 0; j < N; j++) {
                const float *kr = kf + ((size_t)h * N + j) * d;
                double acc = 0;
                for (int c = 0; c < d; c++) acc += (double)q[c] * kr[c];
                s[j] = acc;
                mx = fmax(mx, acc);
            }
            ok = valid_top(s, N, idx + ((size_t)h * m + r) * k, k, sorted, why, sizeof why);
            double sum = 0, big = 0, err = 0;
            double *o = calloc((size_t)d, sizeof *o);
            for (int64_t j = 0; j < N; j++) {
                const double p = exp(scale * (s[j] - mx));
                sum += p;
                for (int c = 0; c < d; c++) o[c] += p * vf[((size_t)h * N + j) * d + c];
            }
            for (int c = 0; c < d; c++) {
                big = fmax(big, fabs(o[c] / sum));
                err = fmax(err, fabs(vals[((size_t)h * m + r) * d + c] - o[c] / sum));
            }
            free(o);
            worst = fmax(worst, big > 0 ? err / big : err);
        }
    if (ok && !(worst <= 2e-2)) {
        snprintf(why, sizeof why, "values' relative error %.3g > 2e-2", worst);
        ok = 0;
    }
    verdict(ok, what, why);
    cudaFree(d_rows), cudaFree(d_k), cudaFree(d_v), cudaFree(d_scratch), cudaFree(d_idx),
        cudaFree(d_vals);
    free(rows), free(kf), free(vf), free(vals), free(kb), free(vb), free(idx), free(s),
        free(sorted);
}

/* The routing: N bf16 queries against m fp32 landmarks a head, the s_r best. */
static void check_route(int heads, int64_t N, int d, int64_t m, int s_r)
{
    char what[160], why[200] = "";
    snprintf(what, sizeof what, "route heads=%d N=%" PRId64 " d=%d m=%" PRId64 " s_r=%d", heads,
             N, d, m, s_r);
    if (!mita_route_supported(ATTN_BF16, heads, d, m, s_r)) {
        verdict(0, what, "mita_route does not take this shape");
        return;
    }
    const size_t nq = (size_t)heads * N * d, nl = (size_t)heads * m * d;
    float *qf = malloc(nq * sizeof *qf), *lm = malloc(nl * sizeof *lm);
    uint16_t *qb = malloc(nq * 2);
    int32_t *routes = malloc((size_t)heads * N * s_r * sizeof *routes);
    double *s = malloc((size_t)m * sizeof *s), *sorted = malloc((size_t)m * sizeof *sorted);
    random_bf16(nq, qb, qf);
    for (size_t i = 0; i < nl; i++) lm[i] = (float)uniform();
    void *d_q = to_device(qb, nq * 2), *d_l = to_device(lm, nl * 4),
         *d_r = to_device(NULL, (size_t)heads * N * s_r * 4);
    cudaError_t e = d_q && d_l && d_r ? mita_route(d_q, ATTN_BF16, d_l, heads, N, d, m, s_r, d_r, 0)
                                      : cudaErrorMemoryAllocation;
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e == cudaSuccess)
        e = cudaMemcpy(routes, d_r, (size_t)heads * N * s_r * 4, cudaMemcpyDeviceToHost);
    int ok = e == cudaSuccess;
    if (!ok) snprintf(why, sizeof why, "CUDA: %s", cudaGetErrorString(e));
    for (int h = 0; ok && h < heads; h++)
        for (int64_t i = 0; ok && i < N; i++) {
            const float *q = qf + ((size_t)h * N + i) * d;
            for (int64_t j = 0; j < m; j++) {
                double acc = 0;
                for (int c = 0; c < d; c++) acc += (double)q[c] * lm[((size_t)h * m + j) * d + c];
                s[j] = acc;
            }
            ok = valid_top(s, m, routes + ((size_t)h * N + i) * s_r, s_r, sorted, why,
                           sizeof why);
        }
    verdict(ok, what, why);
    cudaFree(d_q), cudaFree(d_l), cudaFree(d_r);
    free(qf), free(lm), free(qb), free(routes), free(s), free(sorted);
}

int main(void)
{
    struct device_info info;
    int exit_status;
    struct backend *b = gpu_test_open(&info, &exit_status);
    if (!b) return exit_status;
    rng_state = gpu_test_seed() | 1;
    const int small = gpu_test_sanitized();

    /* The probe: the one pass (N <= 2432 at d = 64, <= 1408 at d = 128; k <= 256) and the
     * chunked path on either side of each limit, m = 64 and a partial row tile. */
    static const struct {
        int64_t m, N;
        int d;
        int64_t k;
    } probes[] = {{64, 1024, 64, 64},  {64, 2432, 64, 64},   {64, 2433, 64, 64},
                  {64, 1408, 128, 64}, {64, 1409, 128, 64},  {64, 1024, 64, 256},
                  {64, 1024, 64, 257}, {17, 1000, 64, 1},    {64, 8192, 64, 64},
                  {5, 100, 128, 100}};
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        if (small && probes[i].N > 1024) continue;
        check_probe(2, probes[i].m, probes[i].N, probes[i].d, probes[i].k);
    }
    /* The routing: m <= 64 (route_wgmma where it runs) and m > 64 (route_mma), s_r = 1, 2, 3,
     * N not a multiple of the 128-query tile. */
    static const struct {
        int64_t N;
        int d;
        int64_t m;
        int s_r;
    } routes[] = {{1000, 64, 64, 1},  {1000, 64, 64, 2},  {4097, 64, 64, 3}, {1000, 128, 64, 1},
                  {1000, 64, 17, 2},  {1000, 64, 100, 1}, {300, 128, 1, 1}};
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (small && routes[i].N > 1000) continue;
        check_route(2, routes[i].N, routes[i].d, routes[i].m, routes[i].s_r);
    }
    b->shutdown(b);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
