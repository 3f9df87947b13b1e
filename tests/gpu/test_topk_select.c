/* test_topk_select.c — topk's selection alone (topk_select with rows and keys of one 16-bit
 * dtype) on keys that repeat, where what is exact is the ties: key j is a copy of key j mod P,
 * so a row's scores come in classes of equal values, and the tensor cores give equal keys the
 * same bits. The definition (docs/methods.md, "Selection: top-k and argmax") then fixes the
 * indices: within a class the lowest ones, in increasing order. With P = 1 every score of a
 * row is equal (the answer is 0 .. k-1); with P = 61 a class holds about N/61 keys, more than
 * the k = 64 kept. Every compaction of the candidate buffers meets these ties: the path that
 * cuts them by the index.
 *
 * Checked per row: the picks are a valid top k (in range, distinct, best first, each within
 * eps = 2^-14 of the row's largest |score| of the k-th best, scores in double), and each class
 * contributes its lowest members in increasing order. Shapes: the one pass (N = 2000, and
 * 3000 at d = 64: 76 blocks of 8 rows, fewer than the SMs, keep 8 rows' scores each), the
 * chunked pass with exact floors (N = 3000 at d = 128, and at k = 300, past the one pass's
 * 256, with its tile maxima) and without floors (N = 8229, a partial last tile), k = 1, 64,
 * 200 and 300 (the kernel at two warpgroups, whose scratch leaves four no room), d = 64 and
 * 128, bf16 and fp16, 300 rows (a partial row tile), two heads.
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
#include "kernels/topk_select.h"

enum { HEADS = 2, ROWS = 300 };

/* Whether picked[0..k) is row `scores`' top k with exact ties (the file's opening comment):
 * a valid top k in which key j's class (j mod P) gives its members in increasing order from
 * the lowest; why says what is not. sorted: room for n doubles. */
static int exact_top(const double *scores, int64_t n, int64_t P, const int32_t *picked, int64_t k,
                     double *sorted, char *why, size_t why_len)
{
    if (!gpu_test_valid_top(scores, n, picked, k, sorted, why, why_len)) return 0;
    int64_t *next = calloc((size_t)P, sizeof *next); /* each class's next member to be picked */
    int ok = next != NULL;
    for (int64_t i = 0; ok && i < k; i++) {
        const int64_t x = picked[i], c = x % P;
        if (x != c + P * next[c]) {
            snprintf(why, why_len, "index %" PRId64 " at %" PRId64 " where its class's next is %" PRId64,
                     x, i, c + P * next[c]);
            ok = 0;
        }
        next[c]++;
    }
    free(next);
    return ok;
}

static void check(int64_t N, int d, int64_t k, int64_t P, enum attn_dtype dtype)
{
    char what[160], why[200] = "";
    snprintf(what, sizeof what,
             "topk_select %s N=%" PRId64 " d=%d k=%" PRId64 " keys repeating every %" PRId64,
             attn_dtype_name(dtype), N, d, k, P);
    const size_t nr = (size_t)HEADS * ROWS * d, nk = (size_t)HEADS * N * d,
                 ni = (size_t)HEADS * ROWS * k;
    uint16_t *qb = malloc(nr * 2), *kb = malloc(nk * 2);
    float *qf = malloc(nr * sizeof *qf), *kf = malloc(nk * sizeof *kf);
    int32_t *idx = malloc(ni * sizeof *idx);
    double *s = malloc((size_t)N * sizeof *s), *sorted = malloc((size_t)N * sizeof *sorted),
           *class_score = malloc((size_t)P * sizeof *class_score);
    int ok = qb && kb && qf && kf && idx && s && sorted && class_score;
    if (!ok) snprintf(why, sizeof why, "out of host memory");
    void *d_q = NULL, *d_k = NULL, *d_idx = NULL, *d_scratch = NULL;
    if (ok) {
        gpu_test_random_16bit(dtype, nr, qb, qf);
        for (int h = 0; h < HEADS; h++) { /* each head's P classes, then key j = class j mod P */
            gpu_test_random_16bit(dtype, (size_t)P * d, kb + (size_t)h * N * d, kf + (size_t)h * N * d);
            for (int64_t j = P; j < N; j++) {
                memcpy(kb + ((size_t)h * N + j) * d, kb + ((size_t)h * N + j % P) * d, (size_t)d * 2);
                memcpy(kf + ((size_t)h * N + j) * d, kf + ((size_t)h * N + j % P) * d,
                       (size_t)d * sizeof *kf);
            }
        }
        const size_t scratch = topk_select_scratch_bytes(HEADS, ROWS, N, d, dtype, dtype, k);
        d_q = gpu_test_to_device(qb, nr * 2), d_k = gpu_test_to_device(kb, nk * 2), d_idx = gpu_test_to_device(NULL, ni * 4);
        d_scratch = gpu_test_to_device(NULL, scratch + 256);
        cudaError_t e = !(d_q && d_k && d_idx && d_scratch)
                            ? cudaErrorMemoryAllocation
                            : topk_select(d_q, dtype, d_k, dtype, HEADS, ROWS, N, d, k, d_scratch,
                                          d_idx, 0);
        if (e == cudaSuccess) e = cudaDeviceSynchronize();
        if (e == cudaSuccess) e = cudaMemcpy(idx, d_idx, ni * 4, cudaMemcpyDeviceToHost);
        if (e != cudaSuccess) {
            snprintf(why, sizeof why, "CUDA: %s", cudaGetErrorString(e));
            ok = 0;
        }
    }
    for (int h = 0; ok && h < HEADS; h++)
        for (int64_t r = 0; ok && r < ROWS; r++) {
            const float *q = qf + ((size_t)h * ROWS + r) * d;
            for (int64_t c = 0; c < P; c++) {
                const float *kr = kf + ((size_t)h * N + c) * d;
                double acc = 0;
                for (int i = 0; i < d; i++) acc += (double)q[i] * kr[i];
                class_score[c] = acc;
            }
            for (int64_t j = 0; j < N; j++) s[j] = class_score[j % P];
            char wrong[160];
            ok = exact_top(s, N, P, idx + ((size_t)h * ROWS + r) * k, k, sorted, wrong,
                           sizeof wrong);
            if (!ok) snprintf(why, sizeof why, "head %d row %" PRId64 ": %s", h, r, wrong);
        }
    gpu_test_verdict(ok, what, ok ? NULL : why);
    cudaFree(d_q), cudaFree(d_k), cudaFree(d_idx), cudaFree(d_scratch);
    free(qb), free(kb), free(qf), free(kf), free(idx), free(s), free(sorted), free(class_score);
}

int main(void)
{
    struct device_info info;
    int exit_status;
    struct backend *b = gpu_test_open(&info, &exit_status);
    if (!b) return exit_status;
    gpu_test_seed();
    const int small = gpu_test_sanitized();
    static const int64_t Ns[] = {2000, 3000, 8229}, ks[] = {1, 64, 200, 300}, Ps[] = {1, 61};
    static const int ds[] = {64, 128};
    static const enum attn_dtype dtypes[] = {ATTN_BF16, ATTN_FP16};
    for (size_t t = 0; t < 2; t++)
        for (size_t di = 0; di < 2; di++)
            for (size_t ni = 0; ni < 3; ni++)
                for (size_t ki = 0; ki < 4; ki++)
                    for (size_t pi = 0; pi < 2; pi++) {
                        /* Under a sanitizer: bf16, k = 64, each path once. */
                        if (small && (t > 0 || ks[ki] != 64)) continue;
                        check(Ns[ni], ds[di], ks[ki], Ps[pi], dtypes[t]);
                    }
    b->shutdown(b);
    return gpu_test_summary("");
}
