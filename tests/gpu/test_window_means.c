/* test_window_means.c — softmax_attention_fused_windows alone (Nyström's G V with K̃ taken on
 * the way, kernels/softmax.cu), against the two kernels it replaces on the same device inputs:
 *   k_mean_fp32  against landmarks_forward(K) (the same window sums in another order: relative
 *                error 1e-5 of the window's largest mean);
 *   k_mean       the same means in the dtype: within one rounding of landmarks_forward's
 *                (bounded by twice its largest relative size);
 *   out          against softmax_attention_fused (fp32 out; the same attention over other key
 *                chunks). Both kernels round the probabilities to the dtype before P·V, each
 *                relative to its own chunk's running maximum, so each output is within one
 *                rounding (2^-8 bf16, 2^-11 fp16) of max|V| of the exact weighted mean: the two
 *                within twice that, measured against max|V|.
 * The key and value rows are a per-window offset (±1) plus noise, so that each window's mean is
 * far from 0 and a window edge, a chunk or a divisor out of place shows (on iid keys the means
 * are ~0 and Nyström's output barely depends on them; on iid values a lost chunk moves the
 * output by less than the rounding). The outputs start poisoned (NaN).
 *
 * Shapes: windows cut in several chunks each, starting and ending inside key tiles (N = 2^18 +
 * 37, 16 windows, B·H = 2); more query rows than one tile (nq = 100: only the first query
 * tile's blocks sum) over 7 windows; one chunk a window at m = 64 (B·H = 8, N = 2^17 + 5); and
 * windows shorter than two key tiles, which the workspace query must refuse (0 bytes). bf16 and
 * fp16, d = 64 and 128; the same shapes under the compute-sanitizer setups (the kernels take
 * milliseconds). Exits 77 (skipped) where there is no GPU. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "gpu_test.h"
#include "attn/attn.h"
#include "kernels/landmarks.h"
#include "kernels/softmax.h"


static uint16_t to_16bit(enum attn_dtype dtype, float x)
{
    return dtype == ATTN_FP16 ? attn_float_to_fp16(x) : attn_float_to_bf16(x);
}

/* rows·d values of [batch][rows][d]: uniform noise, plus, for keys, an offset of the row's
 * window (+1 or −1 by turns, and a small shift of the column's), stored as `dtype`: a window
 * edge one row out moves a mean by ~2/rows-a-window, 20x and more the sums' rounding. */
static void fill(uint16_t *x, enum attn_dtype dtype, int batch, int64_t rows, int d,
                 int64_t windows)
{
    for (int b = 0; b < batch; b++)
        for (int64_t r = 0; r < rows; r++) {
            /* the window of row r: the largest w with floor(w·rows/windows) <= r */
            const int64_t w = windows ? ((r + 1) * windows - 1) / rows : 0;
            for (int c = 0; c < d; c++) {
                double v = 0.25 * gpu_test_uniform();
                if (windows) v += (w % 2 ? 1.0 : -1.0) + 0.01 * (c % 7);
                x[((int64_t)b * rows + r) * d + c] = to_16bit(dtype, (float)v);
            }
        }
}

static void *device_copy(const void *host, size_t bytes)
{
    void *p = NULL;
    if (cudaMalloc(&p, bytes) != cudaSuccess) return NULL;
    if (host ? cudaMemcpy(p, host, bytes, cudaMemcpyHostToDevice) != cudaSuccess
             : cudaMemset(p, 0xFF, bytes) != cudaSuccess) { /* 0xFF..: NaN, the poison */
        cudaFree(p);
        return NULL;
    }
    return p;
}

/* Largest |a − b| over n values, relative to `scale`, or to the largest |b| where scale is 0;
 * NaN anywhere gives +inf. */
static double rel_error(const float *a, const float *b, int64_t n, double scale)
{
    double worst = 0., largest = 0.;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) return INFINITY;
        const double e = fabs((double)a[i] - (double)b[i]);
        if (e > worst) worst = e;
        if (fabs((double)b[i]) > largest) largest = fabs((double)b[i]);
    }
    if (scale == 0.) scale = largest;
    return scale > 0. ? worst / scale : worst;
}

static double largest_magnitude(const uint16_t *x, enum attn_dtype dtype, int64_t n)
{
    double largest = 0.;
    for (int64_t i = 0; i < n; i++) {
        float f;
        attn_to_float(&x[i], dtype, &f, 1);
        if (fabs((double)f) > largest) largest = fabs((double)f);
    }
    return largest;
}

static void check_shape(int batch, int64_t nq, int64_t nk, int64_t windows, int d,
                        enum attn_dtype dtype)
{
    char what[160], detail[200] = "";
    snprintf(what, sizeof what, "windows batch=%d nq=%" PRId64 " nk=%" PRId64 " windows=%" PRId64
             " d=%d %s", batch, nq, nk, windows, d, attn_dtype_name(dtype));
    const size_t ws_windows = softmax_attention_fused_windows_workspace_bytes(
        nq, nk, windows, d, dtype, ATTN_FP32, batch);
    if (nk / windows < 128) { /* shorter than two key tiles: refused */
        snprintf(detail, sizeof detail, "workspace query %zu bytes (want 0)", ws_windows);
        gpu_test_verdict(ws_windows == 0, what, ws_windows ? detail : "");
        return;
    }
    if (!ws_windows) {
        gpu_test_verdict(0, what, "the workspace query refuses a shape the windows path must take");
        return;
    }
    const size_t nq_el = (size_t)batch * nq * d, nk_el = (size_t)batch * nk * d;
    const size_t mean_el = (size_t)batch * windows * d;
    uint16_t *q = malloc(nq_el * 2), *k = malloc(nk_el * 2), *v = malloc(nk_el * 2);
    uint16_t *mean16 = malloc(mean_el * 2);
    float *mean = malloc(mean_el * 4), *mean_ref = malloc(mean_el * 4);
    float *mean16_f = malloc(mean_el * 4), *out = malloc(nq_el * 4), *out_ref = malloc(nq_el * 4);
    fill(q, dtype, batch, nq, d, 0);
    fill(k, dtype, batch, nk, d, windows);
    fill(v, dtype, batch, nk, d, windows);
    const size_t ws_plain = softmax_attention_fused_workspace_bytes(nq, nk, d, dtype, ATTN_FP32,
                                                                    batch);
    void *dq = device_copy(q, nq_el * 2), *dk = device_copy(k, nk_el * 2);
    void *dv = device_copy(v, nk_el * 2);
    void *d_mean = device_copy(NULL, mean_el * 4), *d_mean16 = device_copy(NULL, mean_el * 2);
    void *d_mean_ref = device_copy(NULL, mean_el * 4);
    void *d_out = device_copy(NULL, nq_el * 4), *d_out_ref = device_copy(NULL, nq_el * 4);
    void *d_ws = device_copy(NULL, ws_windows), *d_ws_plain = device_copy(NULL, ws_plain + 256);
    const float scale = 1.0f / sqrtf((float)d);
    cudaError_t e = cudaErrorMemoryAllocation;
    if (q && k && v && mean16 && mean && mean_ref && mean16_f && out && out_ref && dq && dk &&
        dv && d_mean && d_mean16 && d_mean_ref && d_out && d_out_ref && d_ws && d_ws_plain) {
        e = softmax_attention_fused_windows(dq, nq, dk, dv, nk, windows, d, dtype, scale, d_out,
                                            ATTN_FP32, d_mean, d_mean16, d_ws, batch, 0);
        if (e == cudaSuccess)
            e = landmarks_forward(dk, dtype, d_mean_ref, batch, 1, nk, d, windows, 0);
        if (e == cudaSuccess)
            e = softmax_attention_fused(dq, nq, dk, dv, nk, d, dtype, scale, d_out_ref, ATTN_FP32,
                                        d_ws_plain, batch, 0);
        if (e == cudaSuccess) e = cudaDeviceSynchronize();
        if (e == cudaSuccess) e = cudaMemcpy(mean, d_mean, mean_el * 4, cudaMemcpyDeviceToHost);
        if (e == cudaSuccess)
            e = cudaMemcpy(mean16, d_mean16, mean_el * 2, cudaMemcpyDeviceToHost);
        if (e == cudaSuccess)
            e = cudaMemcpy(mean_ref, d_mean_ref, mean_el * 4, cudaMemcpyDeviceToHost);
        if (e == cudaSuccess) e = cudaMemcpy(out, d_out, nq_el * 4, cudaMemcpyDeviceToHost);
        if (e == cudaSuccess)
            e = cudaMemcpy(out_ref, d_out_ref, nq_el * 4, cudaMemcpyDeviceToHost);
    }
    if (e != cudaSuccess) {
        snprintf(detail, sizeof detail, "CUDA: %s", cudaGetErrorString(e));
        gpu_test_verdict(0, what, detail);
    } else {
        attn_to_float(mean16, dtype, mean16_f, (int64_t)mean_el);
        const double e_mean = rel_error(mean, mean_ref, (int64_t)mean_el, 0.);
        /* one rounding to the dtype of a value within 1e-5 of the reference: at most half a
         * unit in the last place, 2^-8 (bf16) or 2^-11 (fp16) of it, bounded here by twice */
        const double e_mean16 = rel_error(mean16_f, mean_ref, (int64_t)mean_el, 0.);
        const double bound16 = dtype == ATTN_BF16 ? 1.0 / 128 : 1.0 / 1024;
        const double e_out = rel_error(out, out_ref, (int64_t)nq_el,
                                       largest_magnitude(v, dtype, (int64_t)nk_el));
        const int ok = e_mean <= 1e-5 && e_mean16 <= bound16 && e_out <= bound16;
        snprintf(detail, sizeof detail,
                 "K̃ fp32 %.1e (bound 1e-5), in the dtype %.1e, out %.1e of max|V| (bounds %.1e)",
                 e_mean, e_mean16, e_out, bound16);
        gpu_test_verdict(ok, what, detail);
    }
    cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(d_mean), cudaFree(d_mean16);
    cudaFree(d_mean_ref), cudaFree(d_out), cudaFree(d_out_ref), cudaFree(d_ws);
    cudaFree(d_ws_plain);
    free(q), free(k), free(v), free(mean16), free(mean), free(mean_ref), free(mean16_f);
    free(out), free(out_ref);
}

int main(void)
{
    struct device_info info;
    int exit_status;
    struct backend *b = gpu_test_open(&info, &exit_status);
    if (!b) return exit_status;
    gpu_test_seed();
    static const struct {
        int batch;
        int64_t nq, nk, windows;
    } shapes[] = {{2, 16, (1 << 18) + 37, 16},
                  {1, 100, 50000, 7},
                  {8, 64, (1 << 17) + 5, 64},
                  {2, 16, 1000, 16}};
    static const enum attn_dtype dtypes[] = {ATTN_BF16, ATTN_FP16};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        for (int t = 0; t < 2; t++)
            for (int d = 64; d <= 128; d += 64) {
                check_shape(shapes[i].batch, shapes[i].nq, shapes[i].nk, shapes[i].windows, d,
                            dtypes[t]);
            }
    return gpu_test_summary("");
}
