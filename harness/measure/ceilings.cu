/* ceilings.cu — measuring the current GPU's ceilings (see ceilings.h). A
 * ceiling is the best of the configurations below (ceilings_settle); each
 * configuration's figure is the median of REPS runs after WARMUP untimed
 * ones, timed with CUDA events: 12 runs of a millisecond or so (a copy of
 * 4 GiB moved, a GEMM), a few seconds for them all.
 *
 *   copy_tiles<policy, vec, unroll>
 *                   DRAM: 2 GiB copied into another 2 GiB buffer (4 GiB
 *                   moved per run; PyTorch's device copy in
 *                   docs/measurement.md copies 2 GiB), bytes read + written
 *                   over the time. 16- or 32-byte accesses per thread (one
 *                   int4 or two adjacent), 1, 4 or 8 of them in flight;
 *                   plain, streaming (ld.cs/st.cs) or L1-bypassing loads
 *                   with a 256-byte L2 prefetch; a block per tile, or one
 *                   wave of resident blocks looping over the tiles at full,
 *                   half and quarter occupancy. Up to 72 kernel-grid pairs,
 *                   and cudaMemcpyAsync device to device (what PyTorch's
 *                   copy calls).
 *   read_l2         L2: a buffer of a quarter of L2, read over and over with
 *                   ld.global.cg (L1 bypassed), each pass shifted so that no
 *                   thread rereads its own addresses.
 *   GEMM            tensor cores, bf16 and fp16 in and out, fp32
 *                   accumulation, random inputs (zeros run faster):
 *                   cublasGemmEx 8192^3 with cuBLAS's default algorithm, and
 *                   the first GEMM_ALGOS algorithms of cuBLASLt's heuristic
 *                   for 8192^3 and 16384x8192x8192, A normal (NN) or
 *                   transposed (TN).
 *   ffma_chains     fp32: eight independent FMA chains per thread, enough
 *                   warps to hide the FMA latency.
 *
 * A configuration that fails is a trial with its error; the ceiling is the
 * best of those that ran, and fails only when none did.
 */
#include "measure/ceilings.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/cuda_check.h"
#include "kernels/gemm.h"

enum { WARMUP = 2, REPS = 10 };

#define COPY_BYTES ((size_t)2 << 30)
#define COPY_THREADS 256
#define L2_PASSES 256
#define GEMM_ALGOS 4
#define GEMM_WORKSPACE ((size_t)64 << 20)
#define FFMA_CHAINS 8
#define FFMA_ITERS 16384

/* ---- kernels ----------------------------------------------------------------- */

/* How a copy kernel loads and stores. */
enum copy_policy {
    COPY_PLAIN,       /* ld.global, st.global */
    COPY_STREAMING,   /* ld.global.cs, st.global.cs: evict first, each byte is used once */
    COPY_NO_ALLOCATE, /* ld.global.nc.L1::no_allocate.L2::256B, st.global.cs */
};

template <int POLICY> __device__ __forceinline__ int4 copy_load(const int4 *p)
{
    if (POLICY == COPY_STREAMING) return __ldcs(p);
    if (POLICY == COPY_NO_ALLOCATE) {
        int4 v;
#if __CUDA_ARCH__ >= 800
        asm("ld.global.nc.L1::no_allocate.L2::256B.v4.s32 {%0, %1, %2, %3}, [%4];"
            : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
            : "l"(p));
#else
        v = __ldg(p);
#endif
        return v;
    }
    return *p;
}

template <int POLICY> __device__ __forceinline__ void copy_store(int4 *p, int4 v)
{
    if (POLICY == COPY_PLAIN) *p = v;
    else __stcs(p, v);
}

// src, dst: [tiles * COPY_THREADS * VEC * UNROLL] int4. Block b copies tiles b, b + gridDim.x,
// ...: its one tile when the grid has a block per tile. Thread t moves, for each u < UNROLL,
// the VEC adjacent int4 (16 * VEC bytes) at (u * COPY_THREADS + t) * VEC of the tile, all its
// loads issued before its first store.
template <int POLICY, int VEC, int UNROLL>
__global__ void __launch_bounds__(COPY_THREADS)
    copy_tiles(const int4 *__restrict__ src, int4 *__restrict__ dst, size_t tiles)
{
    const size_t tile_elems = (size_t)COPY_THREADS * VEC * UNROLL;
    for (size_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        const size_t base = tile * tile_elems + (size_t)threadIdx.x * VEC;
        int4 v[UNROLL][VEC];
#pragma unroll
        for (int u = 0; u < UNROLL; u++)
#pragma unroll
            for (int k = 0; k < VEC; k++)
                v[u][k] = copy_load<POLICY>(&src[base + (size_t)u * COPY_THREADS * VEC + k]);
#pragma unroll
        for (int u = 0; u < UNROLL; u++)
#pragma unroll
            for (int k = 0; k < VEC; k++)
                copy_store<POLICY>(&dst[base + (size_t)u * COPY_THREADS * VEC + k], v[u][k]);
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

/* ---- the copy kernels' table --------------------------------------------------- */

typedef void (*copy_kernel)(const int4 *, int4 *, size_t);

static const struct copy_version {
    copy_kernel kernel;
    enum copy_policy policy;
    int vec, unroll;
} copy_versions[] = {
#define COPY_VERSION(P, V, U) {copy_tiles<P, V, U>, P, V, U}
#define COPY_UNROLLS(P, V) COPY_VERSION(P, V, 1), COPY_VERSION(P, V, 4), COPY_VERSION(P, V, 8)
#define COPY_WIDTHS(P) COPY_UNROLLS(P, 1), COPY_UNROLLS(P, 2)
    COPY_WIDTHS(COPY_PLAIN), COPY_WIDTHS(COPY_STREAMING), COPY_WIDTHS(COPY_NO_ALLOCATE),
#undef COPY_WIDTHS
#undef COPY_UNROLLS
#undef COPY_VERSION
};
enum { COPY_VERSIONS = sizeof copy_versions / sizeof copy_versions[0] };

/* In enum copy_policy order. */
static const char *const copy_policy_names[] = {
    "plain", "ld/st.cs", "ld.nc.L1::no_allocate.L2::256B, st.cs",
};

/* The largest tile (2 x 8 int4 per thread) divides the buffer: no tails. */
static_assert(COPY_BYTES % (COPY_THREADS * 2 * 8 * sizeof(int4)) == 0, "whole tiles only");

/* One wave of resident blocks at these fractions of the full occupancy
 * (1: every block the SMs hold), besides a block per tile. */
static const int copy_wave_divisors[] = {1, 2, 4};

/* ---- timing ------------------------------------------------------------------ */

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* What a timed configuration needs; launch() queues one run on `stream`.
 * Every function below returns the first CUDA error (CUDA_CHECK,
 * kernels/cuda_check.h); a trial records it (add_trial). */
struct workload {
    cudaStream_t stream;
    cudaError_t (*launch)(const struct workload *w);
    const void *src;
    void *dst;
    size_t n;              /* elements, or bytes, as launch() reads them */
    unsigned grid;         /* blocks, worked out before the timing */
    const void *how;       /* launch()'s own settings: a copy kernel's, a GEMM's */
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

static cudaError_t destroy_event(cudaEvent_t e)
{
    if (e) CUDA_CHECK(cudaEventDestroy(e));
    return cudaSuccess;
}

static cudaError_t create_events(cudaEvent_t *start, cudaEvent_t *stop)
{
    CUDA_CHECK(cudaEventCreate(start));
    CUDA_CHECK(cudaEventCreate(stop));
    return cudaSuccess;
}

static cudaError_t time_median(const struct workload *w, double *ms)
{
    cudaEvent_t start = NULL, stop = NULL;
    cudaError_t err = create_events(&start, &stop);
    if (err == cudaSuccess) err = time_runs(w, start, stop, ms);
    const cudaError_t destroyed = destroy_event(start), destroyed_too = destroy_event(stop);
    CUDA_CHECK(err);
    CUDA_CHECK(destroyed);
    CUDA_CHECK(destroyed_too);
    return cudaSuccess;
}

/* Records a configuration's figure, or the error that stopped it. */
static void add_trial(struct ceiling_trials *t, enum ceiling_index i, const char *config,
                      double value, cudaError_t err)
{
    char why[sizeof t->trial[0].error] = "";
    if (err != cudaSuccess) cuda_check_describe(err, why, sizeof why);
    ceilings_add_trial(t, i, config, value, why);
}

/* Times w and records rate = amount / time (amount per second, in the
 * ceiling's unit) as a trial. */
static void time_trial(const struct workload *w, double amount, enum ceiling_index i,
                       const char *config, struct ceiling_trials *t)
{
    double ms = 0;
    const cudaError_t err = time_median(w, &ms);
    add_trial(t, i, config, amount / (ms * 1e-3), err);
}

static cudaError_t release(void *p)
{
    CUDA_CHECK(cudaFree(p));
    return cudaSuccess;
}

static cudaError_t release_all(void **p, int n)
{
    cudaError_t first = cudaSuccess;
    for (int i = 0; i < n; i++) {
        const cudaError_t err = release(p[i]);
        if (first == cudaSuccess) first = err;
        p[i] = NULL;
    }
    CUDA_CHECK(first);
    return cudaSuccess;
}

static cudaError_t alloc_each(void **p, const size_t *bytes, int n)
{
    for (int i = 0; i < n; i++) CUDA_CHECK(cudaMalloc(&p[i], bytes[i]));
    return cudaSuccess;
}

/* Device buffers, all or none. */
static cudaError_t alloc_all(void **p, const size_t *bytes, int n)
{
    for (int i = 0; i < n; i++) p[i] = NULL;
    const cudaError_t err = alloc_each(p, bytes, n);
    if (err != cudaSuccess) release_all(p, n);
    CUDA_CHECK(err);
    return cudaSuccess;
}

/* ---- DRAM copy ----------------------------------------------------------------- */

struct copy_launch {
    copy_kernel kernel;
    size_t tiles;
};

static cudaError_t launch_copy(const struct workload *w)
{
    const struct copy_launch *c = (const struct copy_launch *)w->how;
    c->kernel<<<w->grid, COPY_THREADS, 0, w->stream>>>((const int4 *)w->src, (int4 *)w->dst,
                                                       c->tiles);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

static cudaError_t launch_memcpy(const struct workload *w)
{
    CUDA_CHECK(cudaMemcpyAsync(w->dst, w->src, w->n, cudaMemcpyDeviceToDevice, w->stream));
    return cudaSuccess;
}

static cudaError_t resident_blocks(copy_kernel kernel, int *per_sm)
{
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(per_sm, (const void *)kernel,
                                                             COPY_THREADS, 0));
    return cudaSuccess;
}

/* Version v with a block per tile, then with one wave of blocks at each of
 * copy_wave_divisors. */
static void time_copy_version(const struct copy_version *v, struct workload *w, int sms,
                              struct ceiling_trials *t)
{
    const size_t elems = COPY_BYTES / sizeof(int4);
    const struct copy_launch c = {v->kernel, elems / ((size_t)COPY_THREADS * v->vec * v->unroll)};
    const double gigabytes = 2.0 * COPY_BYTES / 1e9;
    char name[72], config[sizeof t->trial[0].config];
    snprintf(name, sizeof name, "copy %d B x%d per thread, %s", 16 * v->vec, v->unroll,
             copy_policy_names[v->policy]);
    w->launch = launch_copy;
    w->how = &c;
    w->grid = (unsigned)c.tiles;
    snprintf(config, sizeof config, "%s, a block per tile", name);
    time_trial(w, gigabytes, CEILING_DRAM_COPY, config, t);
    int resident = 0;
    const cudaError_t err = resident_blocks(v->kernel, &resident);
    if (err != cudaSuccess) {
        snprintf(config, sizeof config, "%s, one wave", name);
        add_trial(t, CEILING_DRAM_COPY, config, 0, err);
        return;
    }
    for (size_t d = 0, last = 0; d < sizeof copy_wave_divisors / sizeof *copy_wave_divisors; d++) {
        const int per_sm = resident / copy_wave_divisors[d];
        if (per_sm < 1 || (size_t)per_sm == last) continue;
        last = (size_t)per_sm;
        snprintf(config, sizeof config, "%s, %d block%s/SM", name, per_sm, per_sm > 1 ? "s" : "");
        w->grid = (unsigned)(sms * per_sm);
        time_trial(w, gigabytes, CEILING_DRAM_COPY, config, t);
    }
}

/* Every copy configuration, src filled first. */
static cudaError_t time_copies(void *src, void *dst, cudaStream_t stream, struct ceiling_trials *t)
{
    int device = 0, sms = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    CUDA_CHECK(cudaMemsetAsync(src, 0x5A, COPY_BYTES, stream));
    struct workload w = {};
    w.stream = stream;
    w.src = src;
    w.dst = dst;
    for (int v = 0; v < COPY_VERSIONS; v++) time_copy_version(&copy_versions[v], &w, sms, t);
    w.launch = launch_memcpy;
    w.n = COPY_BYTES;
    time_trial(&w, 2.0 * COPY_BYTES / 1e9, CEILING_DRAM_COPY, "cudaMemcpyAsync device to device",
               t);
    return cudaSuccess;
}

static cudaError_t measure_dram_copy(cudaStream_t stream, struct ceiling_trials *t)
{
    void *buf[2];
    const size_t bytes[2] = {COPY_BYTES, COPY_BYTES};
    CUDA_CHECK(alloc_all(buf, bytes, 2));
    const cudaError_t err = time_copies(buf[0], buf[1], stream, t);
    const cudaError_t freed = release_all(buf, 2);
    CUDA_CHECK(err);
    CUDA_CHECK(freed);
    return cudaSuccess;
}

/* ---- L2 read ------------------------------------------------------------------- */

static cudaError_t launch_read_l2(const struct workload *w)
{
    read_l2<<<w->grid, 512, 0, w->stream>>>((const int4 *)w->src, w->n, L2_PASSES,
                                            (int *)w->dst);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

/* w's buffer filled, then read over and over. */
static cudaError_t time_l2_read(const struct workload *w, size_t bytes, struct ceiling_trials *t)
{
    CUDA_CHECK(cudaMemsetAsync((void *)w->src, 0x3C, bytes, w->stream));
    char config[sizeof t->trial[0].config];
    snprintf(config, sizeof config, "ld.global.cg over %zu KiB, 4 blocks/SM of 512 threads",
             bytes >> 10);
    time_trial(w, (double)L2_PASSES * bytes / 1e9, CEILING_L2_READ, config, t);
    return cudaSuccess;
}

static cudaError_t measure_l2_read(cudaStream_t stream, struct ceiling_trials *t)
{
    int device = 0, l2 = 0, sms = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    const size_t bytes = (size_t)l2 / 4 / sizeof(int4) * sizeof(int4);
    void *buf[2];
    const size_t sizes[2] = {bytes, sizeof(int)};
    CUDA_CHECK(alloc_all(buf, sizes, 2));
    struct workload w = {};
    w.stream = stream;
    w.launch = launch_read_l2;
    w.src = buf[0];
    w.dst = buf[1];
    w.n = bytes / sizeof(int4);
    w.grid = (unsigned)sms * 4;
    const cudaError_t err = time_l2_read(&w, bytes, t);
    const cudaError_t freed = release_all(buf, 2);
    CUDA_CHECK(err);
    CUDA_CHECK(freed);
    return cudaSuccess;
}

/* ---- tensor-core GEMM ---------------------------------------------------------- */

/* Column-major C [m x n] = op(A) B, op(A) = A [m x k], or the transpose of
 * A stored [k x m] (TN); B [k x n]. */
static const struct gemm_shape {
    int m, n, k, transpose_a;
} gemm_shapes[] = {
    {8192, 8192, 8192, 0}, {8192, 8192, 8192, 1}, {16384, 8192, 8192, 0}, {16384, 8192, 8192, 1},
};
#define GEMM_MAX_M 16384
#define GEMM_MAX_N 8192
#define GEMM_MAX_K 8192

/* The handles every GEMM uses, and the buffers of the largest shape. */
struct gemm_setup {
    cublasHandle_t blas;
    cublasLtHandle_t lt;
    cudaDataType_t type;
    void *a, *b, *c, *workspace;
};

/* A cuBLASLt GEMM of one shape, and the algorithm launch_lt runs. */
struct lt_gemm {
    const struct gemm_setup *setup;
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t a, b, c;
    const cublasLtMatmulAlgo_t *algo;
};

static cudaError_t launch_gemm_ex(const struct workload *w)
{
    const struct gemm_setup *g = (const struct gemm_setup *)w->how;
    const float alpha = 1.0f, beta = 0.0f;
    const int n = 8192;
    CUDA_CHECK(gemm_status_to_cuda(cublasGemmEx(
        g->blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, g->a, g->type, n, g->b, g->type, n,
        &beta, g->c, g->type, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)));
    return cudaSuccess;
}

static cudaError_t launch_lt(const struct workload *w)
{
    const struct lt_gemm *l = (const struct lt_gemm *)w->how;
    const struct gemm_setup *g = l->setup;
    const float alpha = 1.0f, beta = 0.0f;
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatmul(g->lt, l->desc, &alpha, g->a, l->a, g->b, l->b,
                                                  &beta, g->c, l->c, g->c, l->c, l->algo,
                                                  g->workspace, GEMM_WORKSPACE, w->stream)));
    return cudaSuccess;
}

static cudaError_t lt_describe(struct lt_gemm *l, const struct gemm_shape *s, cudaDataType_t type)
{
    const cublasOperation_t op_a = s->transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const uint64_t a_rows = s->transpose_a ? s->k : s->m, a_cols = s->transpose_a ? s->m : s->k;
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatmulDescCreate(&l->desc, CUBLAS_COMPUTE_32F,
                                                            CUDA_R_32F)));
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatmulDescSetAttribute(
        l->desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof op_a)));
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatrixLayoutCreate(&l->a, type, a_rows, a_cols,
                                                              (int64_t)a_rows)));
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatrixLayoutCreate(&l->b, type, s->k, s->n, s->k)));
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatrixLayoutCreate(&l->c, type, s->m, s->n, s->m)));
    return cudaSuccess;
}

static cudaError_t lt_release(struct lt_gemm *l)
{
    cublasStatus_t first = CUBLAS_STATUS_SUCCESS, s;
    cublasLtMatrixLayout_t layouts[3] = {l->a, l->b, l->c};
    for (int i = 0; i < 3; i++)
        if (layouts[i] && (s = cublasLtMatrixLayoutDestroy(layouts[i])) != CUBLAS_STATUS_SUCCESS &&
            first == CUBLAS_STATUS_SUCCESS)
            first = s;
    if (l->desc && (s = cublasLtMatmulDescDestroy(l->desc)) != CUBLAS_STATUS_SUCCESS &&
        first == CUBLAS_STATUS_SUCCESS)
        first = s;
    CUDA_CHECK(gemm_status_to_cuda(first));
    return cudaSuccess;
}

static cudaError_t lt_ask(const struct lt_gemm *l, cublasLtMatmulPreference_t pref,
                          cublasLtMatmulHeuristicResult_t *found, int *count)
{
    const uint64_t workspace = GEMM_WORKSPACE;
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof workspace)));
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatmulAlgoGetHeuristic(
        l->setup->lt, l->desc, l->a, l->b, l->c, l->c, pref, GEMM_ALGOS, found, count)));
    return cudaSuccess;
}

/* The first GEMM_ALGOS algorithms of cuBLASLt's heuristic for l. */
static cudaError_t lt_heuristic(const struct lt_gemm *l, cublasLtMatmulHeuristicResult_t *found,
                                int *count)
{
    cublasLtMatmulPreference_t pref;
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatmulPreferenceCreate(&pref)));
    const cudaError_t err = lt_ask(l, pref, found, count);
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatmulPreferenceDestroy(pref)));
    CUDA_CHECK(err);
    return cudaSuccess;
}

static cudaError_t lt_algo_id(const cublasLtMatmulAlgo_t *algo, int *id)
{
    CUDA_CHECK(gemm_status_to_cuda(cublasLtMatmulAlgoConfigGetAttribute(
        algo, CUBLASLT_ALGO_CONFIG_ID, id, sizeof *id, NULL)));
    return cudaSuccess;
}

/* Each algorithm of the heuristic for shape s, a trial each. */
static void time_lt_shape(const struct gemm_setup *g, const struct gemm_shape *s,
                          struct workload *w, enum ceiling_index ceiling,
                          struct ceiling_trials *t)
{
    struct lt_gemm l = {};
    l.setup = g;
    char shape[48], config[sizeof t->trial[0].config];
    snprintf(shape, sizeof shape, "cublasLt %dx%dx%d %cN", s->m, s->n, s->k,
             s->transpose_a ? 'T' : 'N');
    cublasLtMatmulHeuristicResult_t found[GEMM_ALGOS];
    int count = 0;
    cudaError_t err = lt_describe(&l, s, g->type);
    if (err == cudaSuccess) err = lt_heuristic(&l, found, &count);
    if (err != cudaSuccess) add_trial(t, ceiling, shape, 0, err);
    w->launch = launch_lt;
    w->how = &l;
    for (int i = 0; i < count && err == cudaSuccess; i++) {
        int id = -1;
        const cudaError_t named = lt_algo_id(&found[i].algo, &id);
        snprintf(config, sizeof config, "%s, heuristic's #%d (algo %d)", shape, i + 1, id);
        if (named != cudaSuccess || found[i].state != CUBLAS_STATUS_SUCCESS) {
            add_trial(t, ceiling, config, 0,
                      named != cudaSuccess ? named : gemm_status_to_cuda(found[i].state));
            continue;
        }
        l.algo = &found[i].algo;
        time_trial(w, 2.0 * s->m * s->n * (double)s->k / 1e12, ceiling, config, t);
    }
    const cudaError_t released = lt_release(&l);
    if (released != cudaSuccess) add_trial(t, ceiling, shape, 0, released);
}

/* A and B random, then every GEMM configuration. */
static cudaError_t time_gemms(const struct gemm_setup *g, cudaStream_t stream,
                              enum ceiling_index ceiling, struct ceiling_trials *t)
{
    const size_t elems[2] = {(size_t)GEMM_MAX_M * GEMM_MAX_K, (size_t)GEMM_MAX_K * GEMM_MAX_N};
    void *const dst[2] = {g->a, g->b};
    for (int i = 0; i < 2; i++) {
        const unsigned blocks = (unsigned)((elems[i] + 255) / 256);
        if (g->type == CUDA_R_16BF)
            fill_uniform<<<blocks, 256, 0, stream>>>((__nv_bfloat16 *)dst[i], elems[i],
                                                     0x1234u + i);
        else
            fill_uniform<<<blocks, 256, 0, stream>>>((__half *)dst[i], elems[i], 0x1234u + i);
        CUDA_CHECK_LAUNCH();
    }
    struct workload w = {};
    w.stream = stream;
    w.launch = launch_gemm_ex;
    w.how = g;
    time_trial(&w, 2.0 * 8192 * 8192 * 8192.0 / 1e12, ceiling,
               "cublasGemmEx 8192x8192x8192 NN, default algorithm", t);
    for (size_t s = 0; s < sizeof gemm_shapes / sizeof gemm_shapes[0]; s++)
        time_lt_shape(g, &gemm_shapes[s], &w, ceiling, t);
    return cudaSuccess;
}

/* Every GEMM configuration in `type` (bf16 or fp16) as a trial of `ceiling`. */
static cudaError_t measure_gemm(cudaStream_t stream, cublasHandle_t blas, cublasLtHandle_t lt,
                                cudaDataType_t type, enum ceiling_index ceiling,
                                struct ceiling_trials *t)
{
    struct gemm_setup g = {blas, lt, type, NULL, NULL, NULL, NULL};
    void *buf[4];
    const size_t bytes[4] = {(size_t)GEMM_MAX_M * GEMM_MAX_K * 2, (size_t)GEMM_MAX_K * GEMM_MAX_N * 2,
                             (size_t)GEMM_MAX_M * GEMM_MAX_N * 2, GEMM_WORKSPACE};
    CUDA_CHECK(alloc_all(buf, bytes, 4));
    g.a = buf[0];
    g.b = buf[1];
    g.c = buf[2];
    g.workspace = buf[3];
    const cudaError_t err = time_gemms(&g, stream, ceiling, t);
    const cudaError_t freed = release_all(buf, 4);
    CUDA_CHECK(err);
    CUDA_CHECK(freed);
    return cudaSuccess;
}

/* ---- fp32 FMA ------------------------------------------------------------------ */

static cudaError_t launch_ffma(const struct workload *w)
{
    ffma_chains<<<w->grid, 256, 0, w->stream>>>((float *)w->dst, FFMA_ITERS, 0.999f, 1e-3f);
    CUDA_CHECK_LAUNCH();
    return cudaSuccess;
}

static cudaError_t measure_fp32(cudaStream_t stream, struct ceiling_trials *t)
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
    const double threads = (double)sms * 8 * 256;
    time_trial(&w, 2.0 * FFMA_CHAINS * FFMA_ITERS * threads / 1e12, CEILING_FP32,
               "ffma, 8 chains per thread, 8 blocks/SM of 256 threads", t);
    CUDA_CHECK(release(sink));
    return cudaSuccess;
}

/* ---- every ceiling ------------------------------------------------------------- */

/* The stream and the handles every ceiling uses. */
struct handles {
    cudaStream_t stream;
    cublasHandle_t blas;
    cublasLtHandle_t lt;
};

/* Each ceiling on its own: one that fails leaves the others' figures. */
static cudaError_t measure_one(enum ceiling_index i, const struct handles *h,
                               struct ceiling_trials *t)
{
    switch (i) {
    case CEILING_DRAM_COPY: return measure_dram_copy(h->stream, t);
    case CEILING_L2_READ: return measure_l2_read(h->stream, t);
    case CEILING_BF16_TENSOR: return measure_gemm(h->stream, h->blas, h->lt, CUDA_R_16BF, i, t);
    case CEILING_FP16_TENSOR: return measure_gemm(h->stream, h->blas, h->lt, CUDA_R_16F, i, t);
    default: return measure_fp32(h->stream, t);
    }
}

static cudaError_t open_blas(struct handles *h)
{
    CUDA_CHECK(gemm_status_to_cuda(cublasCreate(&h->blas)));
    CUDA_CHECK(gemm_status_to_cuda(cublasSetStream(h->blas, h->stream)));
    CUDA_CHECK(gemm_status_to_cuda(cublasLtCreate(&h->lt)));
    return cudaSuccess;
}

static cudaError_t close_handles(struct handles *h)
{
    cudaError_t first = cudaSuccess, err;
    if (h->lt && (err = gemm_status_to_cuda(cublasLtDestroy(h->lt))) != cudaSuccess) first = err;
    if (h->blas && (err = gemm_status_to_cuda(cublasDestroy(h->blas))) != cudaSuccess &&
        first == cudaSuccess)
        first = err;
    if (h->stream && (err = cudaStreamDestroy(h->stream)) != cudaSuccess && first == cudaSuccess)
        first = err;
    CUDA_CHECK(first);
    return cudaSuccess;
}

static cudaError_t open_handles(struct handles *h)
{
    CUDA_CHECK(cudaStreamCreateWithFlags(&h->stream, cudaStreamNonBlocking));
    const cudaError_t err = open_blas(h);
    if (err != cudaSuccess) close_handles(h);
    CUDA_CHECK(err);
    return cudaSuccess;
}

int ceilings_measure(struct ceilings *c, struct ceiling_trials *trials)
{
    struct handles h = {};
    char why[sizeof trials->trial[0].error] = "";
    trials->count = 0;
    const cudaError_t open_err = open_handles(&h);
    if (open_err != cudaSuccess) cuda_check_describe(open_err, why, sizeof why);
    for (int i = 0; i < CEILINGS_COUNT; i++) {
        const enum ceiling_index id = (enum ceiling_index)i;
        /* A failure outside any one configuration: the handles, the buffers. */
        if (open_err != cudaSuccess) {
            ceilings_add_trial(trials, id, "", 0, why);
            continue;
        }
        const cudaError_t err = measure_one(id, &h, trials);
        if (err != cudaSuccess) add_trial(trials, id, "", 0, err);
    }
    /* The figures are in: a handle that will not close changes none of them. */
    if (open_err == cudaSuccess && close_handles(&h) != cudaSuccess) cuda_check_clear();
    return ceilings_settle(c, trials);
}
