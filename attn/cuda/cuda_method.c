/* cuda_method.c — see cuda_method.h. */
#include "attn/cuda/cuda_method.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attn/attn_nvtx.h"
#include "kernels/cuda_check.h"

#include "kernels/gemm.h"
#include "kernels/softmax.h"

const char *cuda_validate(const struct attn_method *m, const struct attn_problem *p,
                          const struct attn_params *a, char *why, size_t why_len)
{
    const char *bad = attn_validate_common(m, p, a, why, why_len);
    if (bad) return bad;
    if (p->d != 64 && p->d != 128) {
        snprintf(why, why_len, "d=%d: the cuda backend supports d = 64 or 128", p->d);
        return why;
    }
    return NULL;
}

static int device_cc; /* cuda_set_device_cc: one device a process */

void cuda_set_device_cc(int cc) { device_cc = cc; }

int cuda_device_cc(void) { return device_cc; }

const char *cuda_validate_selection_size(const char *name, int64_t value, int64_t max, int d,
                                         char *why, size_t why_len)
{
    if (value <= max) return NULL;
    snprintf(why, why_len, "%s=%lld: the candidate buffers hold at most %s=%lld at d=%d on sm_90",
             name, (long long)value, name, (long long)max, d);
    return why;
}

void *workspace_take(struct workspace_carver *c, size_t bytes)
{
    /* 256-byte alignment: what cudaMalloc gives, enough for any vector load. */
    size_t start = (c->used + 255) & ~(size_t)255;
    c->used = start + bytes;
    return c->base ? c->base + start : NULL;
}

float *workspace_take_floats(struct workspace_carver *c, size_t n)
{
    return workspace_take(c, cuda_size_mul(n, sizeof(float)));
}

void *workspace_take_dtype(struct workspace_carver *c, size_t n, enum attn_dtype dtype,
                           void *fp32_twin)
{
    if (dtype == ATTN_FP32) return fp32_twin;
    return workspace_take(c, cuda_size_mul(n, attn_dtype_size(dtype)));
}

size_t cuda_size_mul(size_t x, size_t y)
{
    const size_t cap = SIZE_MAX / 8;
    if (x != 0 && y > cap / x) return cap;
    return x * y;
}

int cuda_cublas_create(cublasHandle_t *handle, char *why, size_t why_len)
{
    cublasStatus_t s = cublasCreate(handle);
    if (s != CUBLAS_STATUS_SUCCESS) {
        *handle = NULL;
        snprintf(why, why_len, "cublasCreate: %s", cublasGetStatusString(s));
        return (int)gemm_status_to_cuda(s);
    }
    return 0;
}

cudaError_t cuda_cublas_bind(cublasHandle_t handle, void *stream, void *workspace)
{
    cublasStatus_t s = cublasSetStream(handle, (cudaStream_t)stream);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasSetWorkspace(handle, workspace, CUDA_CUBLAS_WORKSPACE_BYTES);
    return gemm_status_to_cuda(s);
}

void cuda_cublas_destroy(cublasHandle_t handle)
{
    if (handle) cublasDestroy(handle);
}

/* Whether `err` says the forward did what a capture does not allow (then it runs
 * directly from now on), not that it failed. */
static int capture_refused(cudaError_t err)
{
    return err == cudaErrorStreamCaptureUnsupported || err == cudaErrorStreamCaptureInvalidated ||
           err == cudaErrorStreamCaptureImplicit || err == cudaErrorStreamCaptureUnjoined ||
           err == cudaErrorStreamCaptureIsolation || err == cudaErrorStreamCaptureWrongThread;
}

/* Captures forward(state, t, stream) into g->exec. */
static cudaError_t graph_capture(struct forward_graph *g, cuda_forward_fn forward,
                                 const void *state, const struct attn_tensors *t,
                                 cudaStream_t stream)
{
    forward_graph_release(g);
    cudaGraph_t graph = NULL;
    CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    cudaError_t err = forward(state, t, stream);
    /* The capture ends whatever the forward returned, so that the stream is usable. */
    cudaError_t end = cudaStreamEndCapture(stream, &graph);
    if (err == cudaSuccess) err = end;
    if (err == cudaSuccess) err = cudaGraphInstantiate(&g->exec, graph, 0);
    if (graph) cudaGraphDestroy(graph);
    if (err != cudaSuccess) {
        g->exec = NULL;
        return err;
    }
    g->stream = stream;
    g->t = *t;
    return cudaSuccess;
}

cudaError_t forward_graph_run(struct forward_graph *g, cuda_forward_fn forward, const void *state,
                           const struct attn_tensors *t, cudaStream_t stream)
{
    enum cudaStreamCaptureStatus capturing;
    CUDA_CHECK(cudaStreamIsCapturing(stream, &capturing));
    if (g->direct || capturing != cudaStreamCaptureStatusNone || attn_steps_recorded())
        return forward(state, t, stream);
    if (!g->exec || g->stream != stream || memcmp(&g->t, t, sizeof *t) != 0) {
        cudaError_t err = graph_capture(g, forward, state, t, stream);
        if (capture_refused(err)) {
            (void)cudaGetLastError(); /* the refusal is not the forward's error */
            g->direct = 1;
            return forward(state, t, stream);
        }
        if (err != cudaSuccess) return err;
    }
    return cudaGraphLaunch(g->exec, stream);
}

void forward_graph_release(struct forward_graph *g)
{
    if (g->exec) cudaGraphExecDestroy(g->exec);
    g->exec = NULL;
}

void cuda_attention_carve(struct workspace_carver *c, const struct attn_problem *p,
                          const struct cuda_attention_step *steps, int n_steps,
                          struct cuda_attention *at)
{
    const int bh = p->B * p->H;
    size_t most = 0;
    at->fused = softmax_attention_fused_supported(p->d, (int)p->dtype);
    for (int i = 0; i < n_steps; i++) {
        size_t need = at->fused ? softmax_attention_fused_workspace_bytes(steps[i].nq, steps[i].nk,
                                                                          p->d, (int)p->dtype,
                                                                          steps[i].out_dtype, bh)
                                : cuda_size_mul(cuda_size_mul((size_t)bh, (size_t)steps[i].nq),
                                                (size_t)steps[i].nk);
        if (need > most) most = need;
    }
    at->fused_workspace = at->fused ? workspace_take(c, most) : NULL;
    at->scores = at->fused ? NULL : workspace_take_floats(c, most);
    at->probs = at->fused ? NULL : workspace_take_dtype(c, most, p->dtype, at->scores);
}

cudaError_t cuda_attend(const struct cuda_attention *at, cublasHandle_t handle,
                        const struct attn_problem *p, const void *q, int64_t nq, const void *k,
                        const void *v, int64_t nk, void *out, int out_dtype, cudaStream_t stream)
{
    const float scale = 1.0f / sqrtf((float)p->d);
    const int bh = p->B * p->H;
    if (at->fused)
        return softmax_attention_fused(q, nq, k, v, nk, p->d, (int)p->dtype, scale, out, out_dtype,
                                       at->fused_workspace, bh, stream);
    return softmax_attention(handle, q, nq, k, v, nk, p->d, (int)p->dtype, scale, out, out_dtype,
                             at->scores, at->probs, bh, stream);
}
