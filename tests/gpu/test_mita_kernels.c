/* test_mita_kernels.c — MiTA's two selections alone, so that a failure of `mita` in
 * test_gpu_methods can be pinned to one kernel: the probe (topk_select_softmax_values: the
 * one-pass path (8-row blocks at few heads: up to 4864 keys at d = 64 and 2816 at d = 128;
 * 16-row blocks: 2432 and 1408), the chunked path past them,
 * select_wgmma's on an sm_90a device), bf16 and fp16, with and without the values,
 * and the routing (mita_route: route_wgmma on an sm_90a build and device with m <= 64,
 * route_mma otherwise; a line at the start says which kernels this device runs), bf16 and fp16,
 * against scores in double on the CPU from the same stored inputs; and the probe's answer to
 * whether it leaves SMs free (topk_select_leaves_sms_free), which decides mita's fork. Where
 * it does, the probe with values also writes the landmarks and the values rounded to the
 * dtype (mita's shared block): those must be the fp32 outputs rounded to nearest, bit for bit.
 *
 * A selection is valid when its indices are in range and distinct, come best first, and each
 * scores within eps of the k-th best score (eps = 2^-14 of the row's largest |score|: the
 * landmarks' hi + lo split keeps ~16 bits, so near-ties may go either way). The routing's exact
 * ties, identical landmark rows, whose scores the kernel computes bit for bit alike, must go to
 * the lower index; its output starts as 0xFF bytes (index -1) followed by a guard that must stay
 * so. The probe's values, softmax(scale·s)·V, are held to a relative error of 2e-2 (P is
 * rounded to bf16).
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
#include "kernels/flash_attn.h"
#include "kernels/mita_route.h"
#include "kernels/topk_select.h"

/* The probe: m fp32 landmarks against N keys a head in `dtype` (bf16 or fp16), the k best and,
 * with_values, softmax·V (topk_select_softmax_values, shared MiTA's probe); without, the
 * selection alone (topk_select with fp32 rows, route_only MiTA's). */
static void check_probe(int heads, int64_t m, int64_t N, int d, int64_t k, enum attn_dtype dtype,
                        int with_values)
{
    char what[160], why[200] = "";
    snprintf(what, sizeof what,
             "probe %s%s heads=%d m=%" PRId64 " N=%" PRId64 " d=%d k=%" PRId64,
             attn_dtype_name(dtype), with_values ? "" : " (no values)", heads, m, N, d, k);
    const size_t nr = (size_t)heads * m * d, nk = (size_t)heads * N * d;
    float *rows = malloc(nr * sizeof *rows), *kf = malloc(nk * sizeof *kf),
          *vf = malloc(nk * sizeof *vf), *vals = malloc(nr * sizeof *vals);
    uint16_t *kb = malloc(nk * 2), *vb = malloc(nk * 2);
    int32_t *idx = malloc((size_t)heads * m * k * sizeof *idx);
    double *s = malloc((size_t)N * sizeof *s), *sorted = malloc((size_t)N * sizeof *sorted);
    for (size_t i = 0; i < nr; i++) rows[i] = (float)gpu_test_uniform();
    gpu_test_random_16bit(dtype, nk, kb, kf);
    gpu_test_random_16bit(dtype, nk, vb, vf);
    const size_t scratch_bytes =
        with_values ? topk_select_softmax_values_scratch_bytes(heads, m, N, d, dtype, k)
                    : topk_select_scratch_bytes(heads, m, N, d, ATTN_FP32, dtype, k);
    void *d_rows = gpu_test_to_device(rows, nr * 4), *d_k = gpu_test_to_device(kb, nk * 2),
         *d_v = gpu_test_to_device(vb, nk * 2), *d_scratch = gpu_test_to_device(NULL, scratch_bytes + 256),
         *d_idx = gpu_test_to_device(NULL, (size_t)heads * m * k * 4), *d_vals = gpu_test_to_device(NULL, nr * 4);
    const float scale = 1.f / sqrtf((float)d);
    /* mita's fork: the shared block rounded by the probe too */
    const int rounds = with_values && topk_select_leaves_sms_free(ATTN_FP32, dtype, 1, heads, m,
                                                                  N, d, k);
    uint16_t *rounded = rounds ? malloc(2 * nr * 2) : NULL;
    void *d_rounded = rounds ? gpu_test_to_device(NULL, 2 * nr * 2) : NULL;
    if (rounded) memset(rounded, 0xFF, 2 * nr * 2); /* poisoned, as on the device */
    if (d_rounded) cudaMemset(d_rounded, 0xFF, 2 * nr * 2);
    cudaError_t e = !(d_rows && d_k && d_v && d_scratch && d_idx && d_vals) ||
                            (rounds && !(rounded && d_rounded))
                        ? cudaErrorMemoryAllocation
                    : with_values
                        ? topk_select_softmax_values(
                              d_rows, d_k, d_v, dtype, heads, m, N, d, k, scale, d_scratch, d_idx,
                              d_vals, d_rounded, rounds ? (uint16_t *)d_rounded + nr : NULL, 0)
                        : topk_select(d_rows, ATTN_FP32, d_k, dtype, heads, m, N, d, k,
                                      d_scratch, d_idx, 0);
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e == cudaSuccess && rounds)
        e = cudaMemcpy(rounded, d_rounded, 2 * nr * 2, cudaMemcpyDeviceToHost);
    if (e == cudaSuccess)
        e = cudaMemcpy(idx, d_idx, (size_t)heads * m * k * 4, cudaMemcpyDeviceToHost);
    if (e == cudaSuccess && with_values)
        e = cudaMemcpy(vals, d_vals, nr * 4, cudaMemcpyDeviceToHost);
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
            ok = gpu_test_valid_top(s, N, idx + ((size_t)h * m + r) * k, k, sorted, why, sizeof why);
            if (!with_values) continue;
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
    for (size_t i = 0; ok && rounds && i < 2 * nr; i++) {
        const float x = i < nr ? rows[i] : vals[i - nr];
        const uint16_t want = dtype == ATTN_BF16 ? attn_float_to_bf16(x) : attn_float_to_fp16(x);
        if (rounded[i] != want) {
            snprintf(why, sizeof why, "the rounded %s at %zu: 0x%04x, not 0x%04x",
                     i < nr ? "landmarks" : "values", i % nr, rounded[i], want);
            ok = 0;
        }
    }
    gpu_test_verdict(ok, what, ok ? NULL : why);
    cudaFree(d_rows), cudaFree(d_k), cudaFree(d_v), cudaFree(d_scratch), cudaFree(d_idx),
        cudaFree(d_vals), cudaFree(d_rounded);
    free(rows), free(kf), free(vf), free(vals), free(kb), free(vb), free(idx), free(s),
        free(sorted), free(rounded);
}

/* Entries of int32 routes after the heads·N·s_r the kernel owns, allocated and checked
 * untouched: a whole 128-query tile's routes at the longest list, where a last tile's rows past
 * N would land. */
enum { ROUTE_GUARD = 128 * MITA_ROUTE_MAX_SR };

/* Whether the picks order equal landmarks by index: first[j] is the lowest landmark whose row
 * is identical to row j, so that the kernel's scores of the two are the same fp32 value, and
 * mita_route.h breaks such ties to the lower index (mita_route.cu: each lane's list of its
 * columns, taken in increasing order, admits a later one only by a strict >; the quad merges
 * the lists by candidate.cuh's packing, lower index first among equal scores). So each pick's
 * lower copies come before it: first among equal scores, and chosen when a tie straddles
 * position s_r. The picks are in range (valid_top). */
static int ties_to_lower(const int32_t *picked, int s_r, const int64_t *first, char *why,
                         size_t why_len)
{
    for (int i = 0; i < s_r; i++)
        for (int64_t y = first[picked[i]]; y < picked[i]; y++) {
            if (first[y] != first[picked[i]]) continue;
            int before = 0;
            for (int j = 0; j < i; j++) before |= picked[j] == y;
            if (!before) {
                snprintf(why, why_len, "index %d at %d ahead of its identical lower %" PRId64,
                         picked[i], i, y);
                return 0;
            }
        }
    return 1;
}

/* The routing: N queries in `dtype` (bf16 or fp16) against m fp32 landmarks a head, the s_r
 * best. twins: landmark j >= P = m/2 + 1 repeats landmark j - P, so that most scores come in
 * equal pairs: at m = 64 j and j + 33 lie in one lane's columns for even j and in two lanes'
 * for odd j (column c is lane (c % 8) / 2's of the quad), at m = 100 most pairs straddle the
 * two 64-landmark tiles of route_mma. */
static void check_route(int heads, int64_t N, int d, int64_t m, int s_r, enum attn_dtype dtype,
                        int twins)
{
    char what[160], why[200] = "";
    snprintf(what, sizeof what, "route %s heads=%d N=%" PRId64 " d=%d m=%" PRId64 " s_r=%d%s",
             attn_dtype_name(dtype), heads, N, d, m, s_r, twins ? " twins" : "");
    if (!mita_route_supported(dtype, heads, d, m, s_r)) {
        gpu_test_verdict(0, what, "mita_route does not take this shape");
        return;
    }
    const size_t nq = (size_t)heads * N * d, nl = (size_t)heads * m * d;
    const size_t n_routes = (size_t)heads * N * s_r, route_bytes = (n_routes + ROUTE_GUARD) * 4;
    float *qf = malloc(nq * sizeof *qf), *lm = malloc(nl * sizeof *lm);
    uint16_t *qb = malloc(nq * 2);
    int32_t *routes = malloc(route_bytes);
    double *s = malloc((size_t)m * sizeof *s), *sorted = malloc((size_t)m * sizeof *sorted);
    int64_t *first = malloc((size_t)m * sizeof *first);
    gpu_test_random_16bit(dtype, nq, qb, qf);
    for (size_t i = 0; i < nl; i++) lm[i] = (float)gpu_test_uniform();
    const int64_t P = m / 2 + 1;
    for (int h = 0; twins && h < heads; h++)
        for (int64_t j = P; j < m; j++)
            memcpy(lm + ((size_t)h * m + j) * d, lm + ((size_t)h * m + j - P) * d,
                   (size_t)d * sizeof *lm);
    void *d_q = gpu_test_to_device(qb, nq * 2), *d_l = gpu_test_to_device(lm, nl * 4),
         *d_r = gpu_test_to_device(NULL, route_bytes);
    cudaError_t e = d_q && d_l && d_r ? cudaMemset(d_r, 0xFF, route_bytes)
                                      : cudaErrorMemoryAllocation;
    if (e == cudaSuccess) e = mita_route(d_q, dtype, d_l, heads, N, d, m, s_r, d_r, 0);
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e == cudaSuccess) e = cudaMemcpy(routes, d_r, route_bytes, cudaMemcpyDeviceToHost);
    int ok = e == cudaSuccess;
    if (!ok) snprintf(why, sizeof why, "CUDA: %s", cudaGetErrorString(e));
    for (size_t g = 0; ok && g < ROUTE_GUARD; g++)
        if (routes[n_routes + g] != -1) {
            snprintf(why, sizeof why, "wrote past the routes, entry %zu of the guard", g);
            ok = 0;
        }
    for (int h = 0; ok && h < heads; h++) {
        const float *lh = lm + (size_t)h * m * d;
        for (int64_t j = 0; j < m; j++) {
            first[j] = j;
            for (int64_t i = 0; i < j && first[j] == j; i++)
                if (memcmp(lh + i * d, lh + j * d, (size_t)d * sizeof *lh) == 0) first[j] = i;
        }
        for (int64_t i = 0; ok && i < N; i++) {
            const float *q = qf + ((size_t)h * N + i) * d;
            const int32_t *picked = routes + ((size_t)h * N + i) * s_r;
            for (int64_t j = 0; j < m; j++) {
                double acc = 0;
                for (int c = 0; c < d; c++) acc += (double)q[c] * lh[j * d + c];
                s[j] = acc;
            }
            ok = gpu_test_valid_top(s, m, picked, s_r, sorted, why, sizeof why) &&
                 ties_to_lower(picked, s_r, first, why, sizeof why);
        }
    }
    gpu_test_verdict(ok, what, ok ? NULL : why);
    cudaFree(d_q), cudaFree(d_l), cudaFree(d_r);
    free(qf), free(lm), free(qb), free(routes), free(s), free(sorted), free(first);
}

/* Which kernels the cases reach, on one line: where hopper_sm90a_runs (kernels/hopper.cuh) says
 * that the build has the sm_90a image and the device, compute capability 9.0, runs it,
 * mita_route takes route_wgmma for m <= 64 and the chunked probe select_wgmma (with
 * tile_maxima_wgmma's floors). That helper is C++; flash_attn_version_runs_on asks the same of
 * flash's sm_90a version, flash_wgmma. */
static void print_kernels(void)
{
    int dev, major, minor;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess) {
        printf("kernels: the compute capability is unknown, so are the kernels\n");
        return;
    }
    char why[200] = "";
    if (flash_attn_version_runs_on("flash_wgmma", 10 * major + minor, why, sizeof why))
        printf("kernels: compute capability %d.%d and sm_90a code: route_wgmma at m <= 64 "
               "(route_mma past it), the chunked probe by select_wgmma\n", major, minor);
    else
        printf("kernels: compute capability %d.%d: route_mma and select_mma only (%s)\n", major,
               minor, why);
}

int main(void)
{
    struct device_info info;
    int exit_status;
    struct backend *b = gpu_test_open(&info, &exit_status);
    if (!b) return exit_status;
    gpu_test_seed();
    const int small = gpu_test_sanitized();
    print_kernels();

    /* The probe at 2 heads (8-row blocks, all at once): the one pass (N <= 4864 at d = 64,
     * <= 2816 at d = 128; its 16-warp kernel at d = 64 to N = 2560; k <= 256) and the
     * chunked path on either side of each limit, m = 64 and a partial row tile; the chunked
     * path's floors: exact (every score kept, N = 2817), sampled from every tile (N = 4865,
     * 8192 and 16384: 128 and 256 tiles, at most 4k), from some (N = 32768 and 65536: 128
     * chunks, M = 256 of 512 and 1024 tiles) and none (N = 8192 at k = 200: 128 tiles, fewer
     * than k), each by select_wgmma and tile_maxima_wgmma on an sm_90a device, with a
     * partial row tile (m = 17, 5) past the one pass too; fp16 keys and the selection
     * without values (route_only's probe) on the chunked path. */
    static const struct {
        int64_t m, N;
        int d;
        int64_t k;
        enum attn_dtype dtype;
        int with_values;
    } probes[] = {{64, 1024, 64, 64, ATTN_BF16, 1},    {64, 2560, 64, 64, ATTN_BF16, 1},
                  {64, 2561, 64, 64, ATTN_BF16, 1},    {64, 4864, 64, 64, ATTN_BF16, 1},
                  {64, 4865, 64, 64, ATTN_BF16, 1},    {64, 2816, 128, 64, ATTN_BF16, 1},
                  {64, 2817, 128, 64, ATTN_BF16, 1},   {64, 1024, 64, 256, ATTN_BF16, 1},
                  {64, 1024, 64, 257, ATTN_BF16, 1},   {17, 1000, 64, 1, ATTN_BF16, 1},
                  {64, 8192, 64, 64, ATTN_BF16, 1},    {64, 16384, 64, 64, ATTN_BF16, 1},
                  {64, 8192, 64, 200, ATTN_BF16, 1},   {5, 100, 128, 100, ATTN_BF16, 1},
                  {64, 32768, 128, 64, ATTN_BF16, 1},  {64, 65536, 64, 64, ATTN_BF16, 1},
                  {17, 32768, 64, 64, ATTN_BF16, 1},   {5, 2817, 128, 64, ATTN_BF16, 1},
                  {64, 32768, 64, 64, ATTN_FP16, 1},   {64, 2817, 128, 64, ATTN_FP16, 0},
                  {17, 65536, 64, 64, ATTN_BF16, 0}};
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        if (small && probes[i].N > 1024) continue;
        check_probe(2, probes[i].m, probes[i].N, probes[i].d, probes[i].k, probes[i].dtype,
                    probes[i].with_values);
    }
    /* The shared block rounded is the one pass's alone, and takes both tensors: asked of the
     * chunked path (N = 8192), or with one of the two, the probe refuses before it runs. */
    {
        uint16_t spot[2];
        const cudaError_t chunked = topk_select_softmax_values(
            NULL, NULL, NULL, ATTN_BF16, 2, 64, 8192, 64, 64, 0.125f, NULL, NULL, NULL, spot,
            spot + 1, 0);
        const cudaError_t one = topk_select_softmax_values(
            NULL, NULL, NULL, ATTN_BF16, 2, 64, 1024, 64, 64, 0.125f, NULL, NULL, NULL, spot,
            NULL, 0);
        gpu_test_verdict(chunked == cudaErrorInvalidValue && one == cudaErrorInvalidValue,
                         "probe: the shared block's rounding refused off the one pass",
                         "not refused");
    }
    /* At 32 heads (256 8-row blocks: more than the SMs, so 16-row blocks): the one pass to its
     * 16-row limit (2432 keys at d = 64), then the chunked path with exact floors. */
    if (!small) {
        check_probe(32, 64, 2432, 64, 64, ATTN_BF16, 1);
        check_probe(32, 64, 2433, 64, 64, ATTN_BF16, 1);
    }
    /* The routing, bf16 and fp16 × d ∈ {64, 128} × s_r ∈ {1, 2, 4} (the kernels' lists of 1, 2
     * and 4) at m = 64 (route_wgmma where it runs) and m = 100 (route_mma, two landmark tiles),
     * N not a multiple of the 128-query tile. */
    const enum attn_dtype route_dtypes[] = {ATTN_BF16, ATTN_FP16};
    const int64_t route_ms[] = {64, 100};
    for (int t = 0; t < 2; t++)
        for (int d = 64; d <= 128; d *= 2)
            for (int s_r = 1; s_r <= 4; s_r *= 2)
                for (int i = 0; i < 2; i++)
                    check_route(2, 1000, d, route_ms[i], s_r, route_dtypes[t], 0);
    /* Then: s_r = 3 in a list of 4, a partial landmark tile, one landmark; equal pairs of
     * landmarks (check_route's twins). And persistent walks: the launcher gives a head
     * min(q_tiles, sms·per_sm / heads) blocks (route_launch::launch in mita_route.cu), q_tiles =
     * ceil(N / 128), and block b walks tiles b, b + blocks, ... Both kernels' blocks have 256
     * threads, so per_sm <= 2048 / 256 = 8 whatever their registers and shared memory allow, and
     * on a GPU of at most 132 SMs (H100 SXM, H200) a head has at most 1056 / heads blocks:
     *   heads = 352, N = 1000:  <= 3 blocks, 8 tiles: 3, 3 and 2 tiles a block
     *   heads = 64, N = 4097:   <= 16 blocks, 33 tiles: 3 for block 0, 2 for the others
     *   heads = 128, N = 2049:  <= 8 blocks, 17 tiles: likewise
     * so that every block goes on to a next tile (route_mma's prefetched fragments,
     * route_wgmma's next TMA stage; its four stages wrap where a block walks more than four
     * tiles, the 352 heads' 8-tile walks where one block a head fits) and block 0 at least
     * refills its first buffer. The 352
     * heads keep N <= 1000 for the sanitizers' small run; m = 65 walks route_mma with the
     * landmarks reloaded every tile. A walk's CPU reference takes about a second. */
    static const struct {
        int heads;
        int64_t N;
        int d;
        int64_t m;
        int s_r;
        enum attn_dtype dtype;
        int twins;
    } routes[] = {{2, 4097, 64, 64, 3, ATTN_BF16, 0},   {2, 1000, 64, 17, 2, ATTN_BF16, 0},
                  {2, 300, 128, 1, 1, ATTN_BF16, 0},    {2, 1000, 64, 64, 1, ATTN_BF16, 1},
                  {2, 1000, 64, 64, 2, ATTN_FP16, 1},   {2, 1000, 128, 64, 3, ATTN_FP16, 1},
                  {2, 1000, 128, 64, 4, ATTN_BF16, 1},  {2, 1000, 64, 100, 3, ATTN_BF16, 1},
                  {352, 1000, 64, 17, 2, ATTN_BF16, 0}, {64, 4097, 128, 8, 4, ATTN_FP16, 0},
                  {128, 2049, 64, 65, 1, ATTN_BF16, 0}};
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (small && routes[i].N > 1000) continue;
        check_route(routes[i].heads, routes[i].N, routes[i].d, routes[i].m, routes[i].s_r,
                    routes[i].dtype, routes[i].twins);
    }
    /* Where mita runs its routing beside the probe (topk_select_leaves_sms_free): the probe
     * of the seqlen suite's shape at N = 2^10 and 2^12 (B·H = 8, m = 64: 64 blocks of 8
     * landmarks) in one pass on fewer blocks than SMs; not at 2^14 (chunks), nor with 64 heads
     * (16-row blocks filling the SMs). */
    int sms = 0, dev = 0;
    if (cudaGetDevice(&dev) == cudaSuccess &&
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) == cudaSuccess &&
        sms > 64) {
        /* (rows, keys, with values, heads, landmarks, N, d, k) */
        const int short_n =
            topk_select_leaves_sms_free(ATTN_FP32, ATTN_BF16, 1, 8, 64, 1024, 64, 64);
        const int mid_n =
            topk_select_leaves_sms_free(ATTN_FP32, ATTN_BF16, 1, 8, 64, 4096, 64, 64);
        const int long_n =
            topk_select_leaves_sms_free(ATTN_FP32, ATTN_BF16, 1, 8, 64, 16384, 64, 64);
        const int many =
            topk_select_leaves_sms_free(ATTN_FP32, ATTN_BF16, 1, 64, 64, 1024, 64, 64);
        char why[128];
        snprintf(why, sizeof why, "N = 2^10: %d, 2^12: %d, 2^14: %d, 64 heads: %d", short_n,
                 mid_n, long_n, many);
        gpu_test_verdict(short_n == 1 && mid_n == 1 && long_n == 0 && many == 0,
                         "the probe leaves SMs free at short N only", why);
    }
    b->shutdown(b);
    return gpu_test_summary("");
}
