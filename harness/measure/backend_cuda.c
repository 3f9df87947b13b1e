/* backend_cuda.c — tensors in device memory (cudaMalloc only), runs timed
 * with CUDA events on the harness's own stream, and the L2 cache flushed on
 * request (measure/timing.h flushes before each timed run: cold figures). */
#include <stdio.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "attn/cuda/cuda_method.h"
#include "attn/method_call.h"
#include "measure/backend.h"
#include "core/clock.h"
#include "kernels/cuda_check.h"
#include "kernels/inputs_fill.h"

/* State of the one CUDA backend of a process. */
static struct {
    cudaEvent_t start, stop;
    void *l2_scratch;      /* written before each timed run to evict L2 */
    size_t l2_scratch_bytes;
    cudaGraphExec_t graph; /* graph timing's, while one is captured */
} cuda;

/* Each operation's CUDA calls are a function that returns the first error
 * (CUDA_CHECK, kernels/cuda_check.h); the operation reports it through
 * `why`, with the file, line and call where it failed. */

static void version_text(int v, char *out, size_t len)
{
    snprintf(out, len, "%d.%d", v / 1000, (v % 1000) / 10);
}

static cudaError_t init_device(struct device_info *info, cudaStream_t *stream, int *count)
{
    int device = 0, v = 0, clock_khz = 0, l2_bytes = 0;
    CUDA_CHECK(cudaGetDeviceCount(count));
    if (*count < 1) return cudaSuccess;
    CUDA_CHECK(cudaGetDevice(&device));
    struct cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    snprintf(info->name, sizeof info->name, "%.127s", prop.name);
    cuda_set_device_cc(10 * prop.major + prop.minor); /* for validate() (attn/cuda/cuda_method.h) */
    CUDA_CHECK(cudaDriverGetVersion(&v));
    version_text(v, info->driver, sizeof info->driver);
    CUDA_CHECK(cudaRuntimeGetVersion(&v));
    version_text(v, info->runtime, sizeof info->runtime);
    /* cudaDevAttrClockRate is the rated SM clock; the card may boost above it. */
    CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
    info->sm_clock_mhz = clock_khz / 1000;
    CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));
    CUDA_CHECK(cudaDeviceGetPCIBusId(info->pci_bus_id, (int)sizeof info->pci_bus_id, device));
    CUDA_CHECK(cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking));
    CUDA_CHECK(cudaEventCreate(&cuda.start));
    CUDA_CHECK(cudaEventCreate(&cuda.stop));
    cuda.l2_scratch_bytes = 2 * (size_t)l2_bytes;
    CUDA_CHECK(cudaMalloc(&cuda.l2_scratch, cuda.l2_scratch_bytes));
    return cudaSuccess;
}

static int cuda_init(struct backend *b, struct device_info *info, char *why, size_t why_len)
{
    memset(info, 0, sizeof *info);
    cudaStream_t stream = NULL;
    int count = 0;
    cudaError_t err = init_device(info, &stream, &count);
    b->stream = stream;
    if (err != cudaSuccess) return cuda_check_describe(err, why, why_len);
    if (count < 1) {
        snprintf(why, why_len, "no CUDA device");
        return -1;
    }
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

static int cuda_fill_inputs(struct backend *b, void *dst, const struct attn_problem *p,
                            enum attn_inputs kind, int which)
{
    return (int)attn_inputs_fill_device(dst, (int)p->dtype, (int)kind, p->seed, which,
                                        attn_tensor_elems(p), p->N, p->d,
                                        (cudaStream_t)b->stream);
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

static int cuda_copy_from_host(struct backend *b, void *dst, const void *host, size_t bytes)
{
    cudaError_t err = cudaMemcpyAsync(dst, host, bytes, cudaMemcpyHostToDevice,
                                      (cudaStream_t)b->stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize((cudaStream_t)b->stream);
    return (int)err;
}

static int cuda_flush_cache(struct backend *b, char *why, size_t why_len)
{
    cudaError_t err =
        cudaMemsetAsync(cuda.l2_scratch, 0, cuda.l2_scratch_bytes, (cudaStream_t)b->stream);
    return cuda_check_describe(err, why, why_len);
}

/* The method's own error, with where its kernels' checks saw it. */
static int run_failed(const struct attn_method *m, int run_rc, char *why, size_t why_len)
{
    char where[400];
    cuda_check_describe((cudaError_t)run_rc, where, sizeof where);
    snprintf(why, why_len, "%s run(): %s", m->name, where);
    return run_rc;
}

/* Events around the run; `run_rc` is the method's own return. */
static cudaError_t timed_run(const struct attn_method *m, void *state,
                             const struct attn_tensors *t, cudaStream_t stream, int *run_rc,
                             double *ms)
{
    CUDA_CHECK(cudaEventRecord(cuda.start, stream));
    *run_rc = attn_method_run(m, state, t, stream);
    if (*run_rc) return cudaSuccess;
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaEventRecord(cuda.stop, stream));
    CUDA_CHECK(cudaEventSynchronize(cuda.stop));
    float elapsed = 0;
    CUDA_CHECK(cudaEventElapsedTime(&elapsed, cuda.start, cuda.stop));
    *ms = elapsed;
    return cudaSuccess;
}

static int cuda_time_run(struct backend *b, const struct attn_method *m, void *state,
                         const struct attn_tensors *t, double *ms, char *why, size_t why_len)
{
    int run_rc = 0;
    cudaError_t err = timed_run(m, state, t, (cudaStream_t)b->stream, &run_rc, ms);
    if (run_rc) return run_failed(m, run_rc, why, why_len);
    return cuda_check_describe(err, why, why_len);
}

static cudaError_t run_back_to_back(const struct attn_method *m, void *state,
                                    const struct attn_tensors *t, cudaStream_t stream, int count,
                                    int *run_rc)
{
    for (int i = 0; i < count && !*run_rc; i++) *run_rc = attn_method_run(m, state, t, stream);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaStreamSynchronize(stream));
    return cudaSuccess;
}

static int cuda_run_many(struct backend *b, const struct attn_method *m, void *state,
                         const struct attn_tensors *t, int count, double *seconds, char *why,
                         size_t why_len)
{
    int run_rc = 0;
    const double start = monotonic_seconds();
    cudaError_t err = run_back_to_back(m, state, t, (cudaStream_t)b->stream, count, &run_rc);
    *seconds = monotonic_seconds() - start;
    if (run_rc) return run_failed(m, run_rc, why, why_len);
    return cuda_check_describe(err, why, why_len);
}

/* `replicas` forwards captured on the stream into one executable graph. */
static cudaError_t capture(const struct attn_method *m, void *state, const struct attn_tensors *t,
                           cudaStream_t stream, int replicas, int *run_rc)
{
    cudaGraph_t graph = NULL;
    CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < replicas && !*run_rc; i++) *run_rc = attn_method_run(m, state, t, stream);
    const cudaError_t ended = cudaStreamEndCapture(stream, &graph);
    if (*run_rc) {
        if (graph) cudaGraphDestroy(graph);
        return cudaSuccess;
    }
    CUDA_CHECK(ended);
    const cudaError_t made = cudaGraphInstantiate(&cuda.graph, graph, 0);
    cudaGraphDestroy(graph);
    CUDA_CHECK(made);
    return cudaSuccess;
}

static int cuda_graph_capture(struct backend *b, const struct attn_method *m, void *state,
                              const struct attn_tensors *t, int replicas, char *why,
                              size_t why_len)
{
    int run_rc = 0;
    cudaError_t err = capture(m, state, t, (cudaStream_t)b->stream, replicas, &run_rc);
    if (run_rc) return run_failed(m, run_rc, why, why_len);
    if (err != cudaSuccess) {
        char where[400];
        cuda_check_describe(err, where, sizeof where);
        snprintf(why, why_len, "%s cannot be captured in a CUDA graph: %s", m->name, where);
        return (int)err;
    }
    return 0;
}

static cudaError_t replay(cudaStream_t stream, double *ms)
{
    CUDA_CHECK(cudaEventRecord(cuda.start, stream));
    CUDA_CHECK(cudaGraphLaunch(cuda.graph, stream));
    CUDA_CHECK(cudaEventRecord(cuda.stop, stream));
    CUDA_CHECK(cudaEventSynchronize(cuda.stop));
    float elapsed = 0;
    CUDA_CHECK(cudaEventElapsedTime(&elapsed, cuda.start, cuda.stop));
    *ms = elapsed;
    return cudaSuccess;
}

static int cuda_graph_replay(struct backend *b, double *ms, char *why, size_t why_len)
{
    return cuda_check_describe(replay((cudaStream_t)b->stream, ms), why, why_len);
}

static void cuda_graph_release(struct backend *b)
{
    if (cuda.graph) cudaGraphExecDestroy(cuda.graph);
    cuda.graph = NULL;
}

static cudaError_t synchronize(cudaStream_t stream)
{
    CUDA_CHECK(cudaStreamSynchronize(stream));
    CUDA_CHECK(cudaGetLastError());
    return cudaSuccess;
}

static int cuda_sync(struct backend *b, char *why, size_t why_len)
{
    return cuda_check_describe(synchronize((cudaStream_t)b->stream), why, why_len);
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
    .fill_inputs = cuda_fill_inputs,
    .poison = cuda_poison,
    .copy_to_host = cuda_copy_to_host,
    .copy_from_host = cuda_copy_from_host,
    .flush_cache = cuda_flush_cache,
    .time_run = cuda_time_run,
    .run_many = cuda_run_many,
    .graph_capture = cuda_graph_capture,
    .graph_replay = cuda_graph_replay,
    .graph_release = cuda_graph_release,
    .sync = cuda_sync,
    .shutdown = cuda_shutdown,
};
