/* cuda_method.h — what the CUDA methods' host code (attn/cuda/) shares:
 * validation against the backend's limits, carving the harness's workspace,
 * the cuBLAS handle of the methods that run GEMMs, and the softmax attention
 * step of agent and nystrom. Definitions in cuda_method.c. */
#ifndef ATTN_CUDA_CUDA_METHOD_H
#define ATTN_CUDA_CUDA_METHOD_H

#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "attn.h"

/* attn_validate_common, then the CUDA backend's own limits: d ∈ {64, 128}.
 * NULL or a message in `why`. */
const char *cuda_validate(const struct attn_method *m, const struct attn_problem *p,
                          const struct attn_params *a, char *why, size_t why_len);

/* The device, for validate(), which must not touch it: a sweep runner
 * validates points before it forks the workers that run them, and a process
 * that has initialized CUDA cannot pass it on to a forked child. The
 * harness's CUDA backend, once it has opened a device, gives its compute
 * capability (major·10 + minor) to cuda_set_device_cc; cuda_device_cc()
 * returns it, 0 in a process that has not opened one, where validate()
 * accepts what only the device could refuse (the worker, which has, decides
 * again). */
void cuda_set_device_cc(int cc);
int cuda_device_cc(void);

/* topk's and mita's selections keep their candidates in shared memory:
 * NULL when `value`, the size of a selection (parameter `name`: k, s_r),
 * is at most `max` (topk_select_max_k at head dimension d on sm_90), else
 * a message in `why`. */
const char *cuda_validate_selection_size(const char *name, int64_t value, int64_t max, int d,
                                         char *why, size_t why_len);

/* ---- the workspace --------------------------------------------------------
 * Carves aligned pieces out of the harness-allocated workspace, in order.
 * Methods compute their workspace_bytes with the same calls on a NULL base,
 * so that the size and the layout cannot disagree:
 *     struct workspace_carver c = {base, 0};
 *     float *scores = workspace_take(&c, n * sizeof(float));
 *     ... c.used is the total. */
struct workspace_carver {
    char *base;     /* NULL while only measuring */
    size_t used;
};
void *workspace_take(struct workspace_carver *c, size_t bytes);

/* `n` floats of the workspace. */
float *workspace_take_floats(struct workspace_carver *c, size_t n);

/* `n` elements of `dtype`; for fp32 the fp32 buffer `fp32_twin` itself, so
 * that a value kept in fp32 and rounded to the dtype is stored once. */
void *workspace_take_dtype(struct workspace_carver *c, size_t n, enum attn_dtype dtype,
                           void *fp32_twin);

/* x·y, saturating at SIZE_MAX/8: a workspace of a few such pieces still
 * sums without wrapping, so a shape too large for the device asks for an
 * impossible size and fails at the harness's cudaMalloc (`oom`). */
size_t cuda_size_mul(size_t x, size_t y);

/* ---- cuBLAS ---------------------------------------------------------------
 * The handle of the methods that run GEMMs (full:naive, and agent and
 * nystrom for fp32): created in setup(), bound to the harness's stream and to
 * a piece of the method's workspace in run(), so that cuBLAS allocates no
 * device memory of its own (attn.h). */

/* cuBLAS's workspace: NVIDIA's recommendation for Hopper (split-K GEMMs
 * such as the m×d = (m×N)(N×d) products of agent and nystrom use it). */
enum { CUDA_CUBLAS_WORKSPACE_BYTES = 32 << 20 };

/* 0, or non-zero with a message in `why`. */
int cuda_cublas_create(cublasHandle_t *handle, char *why, size_t why_len);

/* cublasSetStream resets the workspace to cuBLAS's own pool, hence both,
 * in this order, before every run. */
cudaError_t cuda_cublas_bind(cublasHandle_t handle, void *stream, void *workspace);

/* NULL is allowed (a method that never created one). */
void cuda_cublas_destroy(cublasHandle_t handle);

/* ---- CUDA graphs -----------------------------------------------------------
 * At short N a forward of several launches costs a launch gap each (MiTA at
 * N = 2^10 is five or six launches, at long N up to twelve). Such a method replays its
 * launches as one CUDA graph: captured at its first run on a set of tensors
 * and a stream, replayed while they stay, captured again when they change.
 * It launches them directly instead where the stream is being captured
 * already (the harness's --timing graph captures whole forwards), where a
 * profiler files launches by step (attn_steps_recorded), and after a forward
 * that cannot be captured (a call that waits on the host, say). */
struct forward_graph {
    cudaGraphExec_t exec;   /* NULL until the first capture */
    cudaStream_t stream;    /* what it was captured on, */
    struct attn_tensors t;  /* and with */
    int direct;             /* the forward could not be captured: launch directly */
};

/* The forward: enqueues every launch of one run on `stream`, nothing else. */
typedef cudaError_t (*cuda_forward_fn)(const void *state, const struct attn_tensors *t,
                                       cudaStream_t stream);

/* forward(state, t, stream), through the graph `g` (zeroed before the first call). */
cudaError_t forward_graph_run(struct forward_graph *g, cuda_forward_fn forward, const void *state,
                           const struct attn_tensors *t, cudaStream_t stream);

/* Frees the graph; `g` can be run again (it captures anew). */
void forward_graph_release(struct forward_graph *g);

/* ---- softmax attention steps ----------------------------------------------
 * One softmax attention step of agent or nystrom, softmax(s q kᵀ) v over
 * B·H problems of nq queries and nk keys, and how it runs: fused in one
 * tensor-core kernel for bf16/fp16 (kernels/softmax.cu), else through
 * materialized fp32 scores and cuBLAS. The steps of a method run one after
 * the other and share one piece of the workspace, sized for the largest. */
struct cuda_attention_step {
    int64_t nq, nk;
    int out_dtype;
};
struct cuda_attention {
    int fused;
    void *fused_workspace; /* fused: the partial results of split keys */
    float *scores;         /* materialized: [B·H, nq, nk] fp32 */
    void *probs;           /* the same in the dtype; == scores for fp32 */
};

/* Takes the piece for `n_steps` steps from `c` and says in `at` how they run. */
void cuda_attention_carve(struct workspace_carver *c, const struct attn_problem *p,
                          const struct cuda_attention_step *steps, int n_steps,
                          struct cuda_attention *at);

/* q: [B·H, nq, d]  k, v: [B·H, nk, d]  out: [B·H, nq, d] in out_dtype.
 * `handle` (bound to `stream`) is used by the materialized path only. */
cudaError_t cuda_attend(const struct cuda_attention *at, cublasHandle_t handle,
                        const struct attn_problem *p, const void *q, int64_t nq, const void *k,
                        const void *v, int64_t nk, void *out, int out_dtype, cudaStream_t stream);

#endif
