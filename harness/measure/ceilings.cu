/* ceilings.cu — measuring the current GPU's ceilings (see ceilings.h).
 *
 *   copy_tile       DRAM: 1 GiB copied, 16-byte loads, four in flight per
 *                   thread; bytes read + written over the time.
 *   read_l2         L2: a buffer of a quarter of L2, read over and over with
 *                   ld.global.cg (L1 bypassed), each pass shifted so that no
 *                   thread rereads its own addresses.
 *   cuBLAS GEMM     tensor cores: 8192^3 in bf16 and in fp16, fp32
 *                   accumulation, on random inputs (zeros run faster).
 *   ffma_chains     fp32: eight independent FMA chains per thread, enough
 *                   warps to hide the FMA latency.
 *
 * Every figure is the median of REPS timed runs after WARMUP untimed ones,
 * timed with CUDA events.
 */
#include "measure/ceilings.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/cuda_check.h"
#include "kernels/gemm.h"

enum { WARMUP = 2, REPS = 10 };

#define COPY_BYTES ((size_t)1 << 30)
#define COPY_UNROLL 4
#define COPY_THREADS 256
#define L2_PASSES 256
#define GEMM_SIZE 8192
#define FFMA_CHAINS 8
#define FFMA_ITERS 16384

/* ---- kernels ----------------------------------------------------------------- */

// src, dst: [n] int4. Each block copies COPY_UNROLL * COPY_THREADS elements.
__global__ void __launch_bounds__(COPY_THREADS) copy_tile(const int4 *__restrict__ src,
                                                          int4 *__restrict__ dst, size_t n)
{
    size_t base = (size_t)blockIdx.x * COPY_UNROLL * COPY_THREADS + threadIdx.x;
    int4 v[COPY_UNROLL];
#pragma unroll
    for (int u = 0; u < COPY_UNROLL; u++) {
        size_t i = base + (size_t)u * COPY_THREADS;
        if (i < n) v[u] = src[i];
    }
#pragma unroll
    for (int u = 0; u < COPY_UNROLL; u++) {
        size_t i = base + (size_t)u * COPY_THREADS;
        if (i < n) dst[i] = v[u];
    }
}

// buf: [n] int4, read `passes` times; sink: written only if the sum is a
// value no input makes, so that the reads are not optimized away.
__global__ void read_l2(const int4 *__restrict__ buf, size_t n, int passes, int *sink)
{
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    const size_t tid = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    int acc = 0;
    for (int p = 0; p < passes; p++) {
        size_t shift = (size_t)p * 4099 % n;
        for (size_t i = tid; i < n; i += stride) {
            size_t j = i + shift;
            if (j >= n) j -= n;
            int4 v = __ldcg(&buf[j]);
            acc ^= v.x ^ v.y ^ v.z ^ v.w;
        }
    }
    if (acc == 0x7ead1e55) *sink = acc;
}

// sink: written only on a value the chains never reach.
__global__ void ffma_chains(float *sink, int iters, float scale, float add)
{
    float a[FFMA_CHAINS];
#pragma unroll
    for (int k = 0; k < FFMA_CHAINS; k++) a[k] = threadIdx.x * 1e-3f + k;
    for (int i = 0; i < iters; i++) {
#pragma unroll
        for (int k = 0; k < FFMA_CHAINS; k++) a[k] = fmaf(a[k], scale, add);
    }
    float s = 0;
#pragma unroll
    for (int k = 0; k < FFMA_CHAINS; k++) s += a[k];
    if (s == -1.0f) *sink = s;
}

// dst: [n] of T, uniform in [-1, 1) from a hash of (seed, i).
template <typename T> __global__ void fill_uniform(T *dst, size_t n, uint32_t seed)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    uint32_t h = (uint32_t)i * 0x9E3779B1u ^ seed;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    dst[i] = (T)((float)(h >> 8) * (2.0f / 16777216.0f) - 1.0f);
}

/* ---- timing ------------------------------------------------------------------ */

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* What a timed workload needs; launch() queues one run on `stream`. Every
 * function below returns the first CUDA error (CUDA_CHECK,
 * kernels/cuda_check.h); ceilings_measure() turns it into the row's status. */
struct workload {
    cudaStream_t stream;
    cudaError_t (*launch)(const struct workload *w);
    const void *src;
    void *dst;
    size_t n;
    unsigned grid;         /* blocks, worked out before the timing */
    cublasHandle_t blas;
    cudaDataType_t gemm_type;
};

/* The median of REPS timed runs after WARMUP untimed ones, in ms. */
static cudaError_t time_runs(const struct workload *w, cudaEvent_t start, cudaEvent_t stop,
                             double *ms)
{
    float samples[REPS];
    for (int i = 0; i < WARMUP + REPS; i++) {
        if (i >= WARMUP) CUDA_CHECK(cudaEventRecord(start, w->stream));
        CUDA_CHECK(w->launch(w));
        if (i < WARMUP) continue;
        CUDA_CHECK(cudaEventRecord(stop, w->stream));
        CUDA_CHECK(cudaEventSynchronize(stop));
        CUDA_CHECK(cudaEventElapsedTime(&samples[i - WARMUP], start, stop));
    }
    CUDA_CHECK(cudaStreamSynchronize(w->stream));
    qsort(samples, REPS, sizeof *samples, compare_floats);
    *ms = 0.5 * (samples[(REPS - 1) / 2] + samples[REPS / 2]);
    return cudaSuccess;
}

static cudaError_t time_median(const struct workload *w, double *ms)
{
    cudaEvent_t start = NULL, stop = NULL;
    cudaError_t err = cudaEventCreate(&start);
    if (err == cudaSuccess) err = cudaEventCreate(&stop);
    if (err == cudaSuccess) err = time_runs(w, start, stop, ms);
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    return err;
}

/* Two device buffers, both or neither. */
static cudaError_t alloc_pair(void **a, size_t a_bytes, void **b, size_t b_bytes)
{
    CUDA_CHECK(cudaMalloc(a, a_bytes));
    const cudaError_t err = cudaMalloc(b, b_bytes);
    if (err != cudaSuccess) {
        cudaFree(*a);
        *a = NULL;
    }
    CUDA_CHECK(err);
    return cudaSuccess;
}

/* ---- the ceilings ------------------------------------------------------------ */

static cudaError_t launch_copy(const struct workload *w)
{
    copy_tile<<<w->grid, COPY_THREADS, 0, w->stream>>>(
        (const int4 *)w->src, (int4 *)w->dst, w->n);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

static cudaError_t measure_dram_copy(cudaStream_t stream, double *gbps)
{
    void *src = NULL, *dst = NULL;
    CUDA_CHECK(alloc_pair(&src, COPY_BYTES, &dst, COPY_BYTES));
    const size_t n = COPY_BYTES / sizeof(int4), per_block = COPY_UNROLL * COPY_THREADS;
    struct workload w = {};
    w.stream = stream;
    w.launch = launch_copy;
    w.src = src;
    w.dst = dst;
    w.n = n;
    w.grid = (unsigned)((n + per_block - 1) / per_block);
    double ms = 0;
    cudaError_t err = cudaMemsetAsync(src, 0x5A, COPY_BYTES, stream);
    if (err == cudaSuccess) err = time_median(&w, &ms);
    cudaFree(src);
    cudaFree(dst);
    *gbps = 2.0 * COPY_BYTES / (ms * 1e-3) / 1e9;
    CUDA_CHECK(err);
    return cudaSuccess;
}

static cudaError_t launch_read_l2(const struct workload *w)
{
    read_l2<<<w->grid, 512, 0, w->stream>>>((const int4 *)w->src, w->n, L2_PASSES,
                                            (int *)w->dst);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

static cudaError_t measure_l2_read(cudaStream_t stream, double *gbps)
{
    int device = 0, l2 = 0, sms = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    const size_t bytes = (size_t)l2 / 4 / sizeof(int4) * sizeof(int4);
    void *buf = NULL, *sink = NULL;
    CUDA_CHECK(alloc_pair(&buf, bytes, &sink, sizeof(int)));
    struct workload w = {};
    w.stream = stream;
    w.launch = launch_read_l2;
    w.src = buf;
    w.dst = sink;
    w.n = bytes / sizeof(int4);
    w.grid = (unsigned)sms * 4;
    double ms = 0;
    cudaError_t err = cudaMemsetAsync(buf, 0x3C, bytes, stream);
    if (err == cudaSuccess) err = time_median(&w, &ms);
    cudaFree(buf);
    cudaFree(sink);
    *gbps = (double)L2_PASSES * bytes / (ms * 1e-3) / 1e9;
    CUDA_CHECK(err);
    return cudaSuccess;
}

static cudaError_t launch_gemm(const struct workload *w)
{
    const float alpha = 1.0f, beta = 0.0f;
    const int n = GEMM_SIZE;
    const char *a = (const char *)w->src;
    const size_t matrix = (size_t)n * n * 2; /* bytes of one 16-bit matrix */
    CUDA_CHECK(gemm_status_to_cuda(cublasGemmEx(
        w->blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a, w->gemm_type, n, a + matrix,
        w->gemm_type, n, &beta, w->dst, w->gemm_type, n, CUBLAS_COMPUTE_32F,
        CUBLAS_GEMM_DEFAULT)));
    return cudaSuccess;
}

/* One GEMM 8192^3 in `type` (bf16 or fp16), A and B random, C of the same type. */
static cudaError_t measure_gemm(cudaStream_t stream, cublasHandle_t blas, cudaDataType_t type,
                                double *tflops)
{
    const size_t elems = (size_t)GEMM_SIZE * GEMM_SIZE;
    void *ab = NULL, *c = NULL;
    CUDA_CHECK(alloc_pair(&ab, 2 * elems * 2, &c, elems * 2));
    const unsigned blocks = (unsigned)((2 * elems + 255) / 256);
    if (type == CUDA_R_16BF)
        fill_uniform<<<blocks, 256, 0, stream>>>((__nv_bfloat16 *)ab, 2 * elems, 0x1234u);
    else
        fill_uniform<<<blocks, 256, 0, stream>>>((__half *)ab, 2 * elems, 0x1234u);
    struct workload w = {};
    w.stream = stream;
    w.launch = launch_gemm;
    w.src = ab;
    w.dst = c;
    w.blas = blas;
    w.gemm_type = type;
    double ms = 0;
    cudaError_t err = cudaGetLastError();
    if (err == cudaSuccess) err = time_median(&w, &ms);
    cudaFree(ab);
    cudaFree(c);
    *tflops = 2.0 * GEMM_SIZE * GEMM_SIZE * (double)GEMM_SIZE / (ms * 1e-3) / 1e12;
    CUDA_CHECK(err);
    return cudaSuccess;
}

static cudaError_t launch_ffma(const struct workload *w)
{
    ffma_chains<<<w->grid, 256, 0, w->stream>>>((float *)w->dst, FFMA_ITERS, 0.999f, 1e-3f);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

static cudaError_t measure_fp32(cudaStream_t stream, double *tflops)
{
    int sms = 0, device = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    void *sink = NULL;
    CUDA_CHECK(cudaMalloc(&sink, sizeof(float)));
    struct workload w = {};
    w.stream = stream;
    w.launch = launch_ffma;
    w.dst = sink;
    w.grid = (unsigned)sms * 8;
    double ms = 0;
    const cudaError_t err = time_median(&w, &ms);
    cudaFree(sink);
    const double threads = (double)sms * 8 * 256;
    *tflops = 2.0 * FFMA_CHAINS * FFMA_ITERS * threads / (ms * 1e-3) / 1e12;
    CUDA_CHECK(err);
    return cudaSuccess;
}

/* Each ceiling on its own: one that fails leaves the others' figures. */
static cudaError_t measure_one(enum ceiling_index i, cudaStream_t stream, cublasHandle_t blas,
                               double *value)
{
    switch (i) {
    case CEILING_DRAM_COPY: return measure_dram_copy(stream, value);
    case CEILING_L2_READ: return measure_l2_read(stream, value);
    case CEILING_BF16_TENSOR: return measure_gemm(stream, blas, CUDA_R_16BF, value);
    case CEILING_FP16_TENSOR: return measure_gemm(stream, blas, CUDA_R_16F, value);
    default: return measure_fp32(stream, value);
    }
}

/* The stream and cuBLAS handle every ceiling uses. */
static cudaError_t open_workloads(cudaStream_t *stream, cublasHandle_t *blas)
{
    CUDA_CHECK(cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking));
    cublasStatus_t s = cublasCreate(blas);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetStream(*blas, *stream);
    if (s != CUBLAS_STATUS_SUCCESS) cudaStreamDestroy(*stream);
    CUDA_CHECK(gemm_status_to_cuda(s));
    return cudaSuccess;
}

int ceilings_measure(struct ceilings *c)
{
    cudaStream_t stream;
    cublasHandle_t blas;
    char why[sizeof c->status[0] - 8];
    const cudaError_t open_err = open_workloads(&stream, &blas);
    const int opened = open_err == cudaSuccess;
    if (!opened) cuda_check_describe(open_err, why, sizeof why);
    int failed = 0;
    for (int i = 0; i < CEILINGS_COUNT; i++) {
        double *value = ceilings_value(c, (enum ceiling_index)i);
        const cudaError_t err =
            opened ? measure_one((enum ceiling_index)i, stream, blas, value) : open_err;
        if (err == cudaSuccess) {
            snprintf(c->status[i], sizeof c->status[i], "ok");
            continue;
        }
        *value = 0; /* no figure: the time of a failed run may be anything */
        if (opened) cuda_check_describe(err, why, sizeof why);
        snprintf(c->status[i], sizeof c->status[i], "error:%s", why);
        failed++;
    }
    if (opened) {
        cublasDestroy(blas);
        cudaStreamDestroy(stream);
    }
    return failed;
}
