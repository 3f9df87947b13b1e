/* backend_cuda.c — tensors in device memory (cudaMalloc only), runs timed
 * with CUDA events on the harness's own stream, and the L2 cache flushed on
 * request (measure/timing.h flushes before each timed run: cold figures). */
#include <stdio.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "attn/method_call.h"
#include "measure/backend.h"
#include "kernels/random_fill.h"

/* State of the one CUDA backend of a process. */
static struct {
    cudaEvent_t start, stop;
    void *l2_scratch;      /* written before each timed run to evict L2 */
    size_t l2_scratch_bytes;
} cuda;

/* Formats a CUDA error with the call that failed; returns non-zero. */
static int cuda_fail(cudaError_t err, const char *what, char *why, size_t why_len)
{
    snprintf(why, why_len, "%s: %s (%s)", what, cudaGetErrorName(err), cudaGetErrorString(err));
    return (int)err;
}

#define CUDA_TRY(call)                                                   \
    do {                                                                 \
        cudaError_t err_ = (call);                                       \
        if (err_ != cudaSuccess) return cuda_fail(err_, #call, why, why_len); \
    } while (0)

static void version_text(int v, char *out, size_t len)
{
    snprintf(out, len, "%d.%d", v / 1000, (v % 1000) / 10);
}

static int cuda_init(struct backend *b, struct device_info *info, char *why, size_t why_len)
{
    memset(info, 0, sizeof *info);
    int count = 0, device = 0, v = 0, clock_khz = 0, l2_bytes = 0;
    CUDA_TRY(cudaGetDeviceCount(&count));
    if (count < 1) {
        snprintf(why, why_len, "no CUDA device");
        return -1;
    }
    CUDA_TRY(cudaGetDevice(&device));
    struct cudaDeviceProp prop;
    CUDA_TRY(cudaGetDeviceProperties(&prop, device));
    snprintf(info->name, sizeof info->name, "%.127s", prop.name);
    CUDA_TRY(cudaDriverGetVersion(&v));
    version_text(v, info->driver, sizeof info->driver);
    CUDA_TRY(cudaRuntimeGetVersion(&v));
    version_text(v, info->runtime, sizeof info->runtime);
    /* cudaDevAttrClockRate is the rated SM clock; the card may boost above it. */
    CUDA_TRY(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
    info->sm_clock_mhz = clock_khz / 1000;
    CUDA_TRY(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));

    cudaStream_t stream;
    CUDA_TRY(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    b->stream = stream;
    CUDA_TRY(cudaEventCreate(&cuda.start));
    CUDA_TRY(cudaEventCreate(&cuda.stop));
    cuda.l2_scratch_bytes = 2 * (size_t)l2_bytes;
    CUDA_TRY(cudaMalloc(&cuda.l2_scratch, cuda.l2_scratch_bytes));
    return 0;
}

static void *cuda_alloc(size_t bytes)
{
    void *p = NULL;
    if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) {
        cudaGetLastError(); /* an allocation failure is not sticky: clear it */
        return NULL;
    }
    return p;
}

static void cuda_release(void *p) { cudaFree(p); }

static int cuda_fill_random(struct backend *b, void *dst, enum attn_dtype dtype, uint64_t seed,
                            int which, int64_t n)
{
    return (int)attn_random_fill_device(dst, (int)dtype, seed, which, n, (cudaStream_t)b->stream);
}

static int cuda_poison(struct backend *b, void *dst, size_t bytes)
{
    return (int)cudaMemsetAsync(dst, 0xFF, bytes, (cudaStream_t)b->stream);
}

static int cuda_copy_to_host(struct backend *b, void *host, const void *src, size_t bytes)
{
    cudaError_t err = cudaMemcpyAsync(host, src, bytes, cudaMemcpyDeviceToHost,
                                      (cudaStream_t)b->stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize((cudaStream_t)b->stream);
    return (int)err;
}

static int cuda_flush_cache(struct backend *b, char *why, size_t why_len)
{
    CUDA_TRY(cudaMemsetAsync(cuda.l2_scratch, 0, cuda.l2_scratch_bytes, (cudaStream_t)b->stream));
    return 0;
}

static int cuda_time_run(struct backend *b, const struct attn_method *m, void *state,
                         const struct attn_tensors *t, double *ms, char *why, size_t why_len)
{
    cudaStream_t stream = (cudaStream_t)b->stream;
    CUDA_TRY(cudaEventRecord(cuda.start, stream));
    int rc = attn_method_run(m, state, t, stream);
    if (rc) {
        snprintf(why, why_len, "%s run(): %s", m->name, cudaGetErrorName((cudaError_t)rc));
        return rc;
    }
    CUDA_TRY(cudaGetLastError());
    CUDA_TRY(cudaEventRecord(cuda.stop, stream));
    CUDA_TRY(cudaEventSynchronize(cuda.stop));
    float elapsed = 0;
    CUDA_TRY(cudaEventElapsedTime(&elapsed, cuda.start, cuda.stop));
    *ms = elapsed;
    return 0;
}

static int cuda_sync(struct backend *b, char *why, size_t why_len)
{
    CUDA_TRY(cudaStreamSynchronize((cudaStream_t)b->stream));
    CUDA_TRY(cudaGetLastError());
    return 0;
}

static void cuda_shutdown(struct backend *b)
{
    cudaFree(cuda.l2_scratch);
    cudaEventDestroy(cuda.start);
    cudaEventDestroy(cuda.stop);
    cudaStreamDestroy((cudaStream_t)b->stream);
}

struct backend backend_cuda = {
    .kind = ATTN_CUDA,
    .init = cuda_init,
    .alloc = cuda_alloc,
    .release = cuda_release,
    .fill_random = cuda_fill_random,
    .poison = cuda_poison,
    .copy_to_host = cuda_copy_to_host,
    .flush_cache = cuda_flush_cache,
    .time_run = cuda_time_run,
    .sync = cuda_sync,
    .shutdown = cuda_shutdown,
};
