/* mita.c — MiTA attention (Wen et al. 2026) on the GPU, the seven steps of
 * docs/methods.md ("MiTA", "Step by step") for all batch-heads at once, one
 * launch (or two) per step:
 *
 *   1. Q̃ = landmarks(Q, m), fp32 (kernels/landmarks.h);
 *   2-4. probe, experts and shared values in one pass over K (and V):
 *      topk_select_softmax_values streams K in chunks past the fp32
 *      landmarks (tensor cores in bf16/fp16, the landmarks split hi + lo), keeps each landmark's k best keys and accumulates
 *      softmax(P s) V over the same scores, then merges the chunks
 *      (route_only: topk_select alone, no values); P is never stored. Up to
 *      N = 2432 (d = 64; 1408 at d = 128) one block holds all of its 16
 *      landmarks' scores instead, and up to 4864 (2816) all of its 8 where
 *      such blocks all run at once (few heads): one launch, no chunks;
 *   5. routing: mita_route (bf16/fp16, s_r <= 4: one tensor-core pass over Q),
 *      else topk_select with rows Q, keys Q̃ and k = s_r (ties to the lower
 *      expert either way);
 *   6. gather, only when params.gather names a gather version (attn/gathers.h;
 *      NULL or "fused" is the default, no step of its own): that version
 *      copies every expert's k key and value rows out of K and V into K_E
 *      and V_E, [B,H,m,k,d] in the dtype, in the step "gather", so that the
 *      profiler files its kernels (and their DRAM bytes, gather_dram_bytes)
 *      there;
 *   6-7. mita_attend: each query over [shared m entries ; its s_r·k routed
 *      entries] with one softmax, the experts' rows gathered in place — or,
 *      after step 6, read as contiguous rows of K_E and V_E, with the same
 *      output bit for bit (the (query, route) pairs are sorted by expert
 *      first, so that the rows are staged once per 32, 64 or 128 pairs; fp32
 *      with s_r > 1 reads them per query; up to 16384 pairs a head the sort
 *      is one block a head, one launch).
 *
 * Steps 2-4 and step 5 both need only Q̃. Where the probe is one launch
 * that leaves SMs idle (short N, few heads), the routing, and after it the
 * attention's sort of the routes (without a gather version), run beside it
 * on a stream of its own, forked after step 1 and joined before step 6 (the
 * graph keeps the fork as two branches), off the forward's critical path;
 * elsewhere they would only contend (measured: kernels/NOTES.md, "mita",
 * v33) and run in order. There the probe also rounds the shared block (Q̃,
 * V̂) to the dtype where the attention reads it, which otherwise takes a
 * launch of its own after the join.
 *
 * Workspace: Q̃ and V̂ (m·d fp32 per head), experts [B,H,m,k], routes
 * [B,H,N,s_r], K_E and V_E (with a gather version), and one scratch shared
 * by steps 2-4, 5, 6 and 6-7 where they run in that order: the selections'
 * candidate buffers, the gather version's scratch, then the attention's
 * counting sort and (s_r > 1) the routes' partial outputs. Where step 5
 * runs beside steps 2-4, the probe has a scratch of its own.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cuda_runtime.h>

#include "attn/attn_nvtx.h"
#include "attn/cuda/cuda_method.h"
#include "attn/cuda/cuda_methods.h"
#include "attn/gathers.h"
#include "kernels/cuda_check.h"
#include "kernels/landmarks.h"
#include "kernels/gathered_attention.h"
#include "kernels/mita_route.h"
#include "kernels/topk_select.h"
#include "attn/methods.h"

struct mita_buffers {
    float *landmarks;      /* Q̃: [B,H,m,d] */
    float *shared_values;  /* V̂: [B,H,m,d], shared variant only */
    int32_t *experts;      /* [B,H,m,k] */
    int32_t *routes;       /* [B,H,N,s_r] */
    void *ke, *ve;         /* K_E, V_E: [B,H,m,k,d] in the dtype; NULL when fused */
    void *probe_scratch;   /* steps 2-4's selections: `scratch` unless step 5 forks */
    void *scratch;         /* the routing's selection, the gather's, then the attention's sort */
    void *shared_keys, *shared_vals; /* where step 6-7 reads Q̃ and V̂ in the dtype, when
                                        the probe writes them (in `scratch`); else NULL */
};

struct mita_state {
    struct attn_problem p;
    struct attn_params a;
    int shared;            /* variant "shared": the first block of logits is there */
    const struct attn_gather_version *gather; /* step 6's version; NULL: fused */
    struct mita_buffers b;
    struct forward_graph graph; /* the steps' launches, replayed (cuda_method.h) */
    int fork_route;             /* step 5 beside steps 2-4: */
    cudaStream_t route_stream;  /* its branch, */
    cudaEvent_t forked, routed; /* which starts after step 1 and ends before step 6 */
    int has_run;
};

static int mita_is_shared(const struct attn_params *a)
{
    return !(a->variant && strcmp(a->variant, "route_only") == 0);
}

/* The gather version params.gather names (validate() found it); NULL for
 * the fused path. */
static const struct attn_gather_version *mita_gather_of(const struct attn_params *a)
{
    return attn_gather_is_fused(a->gather) ? NULL : attn_gather_find(a->gather);
}

/* Step 6's arguments: K, V and the buffers NULL while only sizing. */
static struct attn_gather_args mita_gather_args(const struct attn_problem *p,
                                                const struct attn_params *a, const void *K,
                                                const void *V, const struct mita_buffers *b)
{
    return (struct attn_gather_args){K, V, p->dtype, p->B * p->H, p->N, p->d, b->experts,
                                     a->m, a->k, b->ke, b->ve, b->scratch};
}

static int mita_routes_on_tensor_cores(const struct attn_problem *p, const struct attn_params *a)
{
    return mita_route_supported(p->dtype, p->B * p->H, p->d, a->m, a->s_r);
}

/* Whether step 5 runs beside steps 2-4 (the file's opening comment). */
static int mita_forks_route(const struct attn_problem *p, const struct attn_params *a)
{
    return topk_select_leaves_sms_free(ATTN_FP32, p->dtype, mita_is_shared(a), p->B * p->H,
                                       a->m, p->N, p->d, a->k);
}

static size_t mita_probe_scratch_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    const int heads = p->B * p->H;
    return mita_is_shared(a) ? topk_select_softmax_values_scratch_bytes(heads, a->m, p->N, p->d,
                                                                        p->dtype, a->k)
                             : topk_select_scratch_bytes(heads, a->m, p->N, p->d, ATTN_FP32,
                                                         p->dtype, a->k);
}

/* The scratch of steps 5, 6 and 6-7, which run one after the other. */
static size_t mita_later_scratch_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    const int heads = p->B * p->H;
    size_t route = mita_routes_on_tensor_cores(p, a)
                       ? 0
                       : topk_select_scratch_bytes(heads, p->N, a->m, p->d, p->dtype, ATTN_FP32,
                                                   a->s_r);
    size_t attend =
        mita_attend_scratch_bytes(heads, p->N, a->m, a->m, a->k, mita_is_shared(a), p->d,
                                  p->dtype, a->s_r);
    const struct attn_gather_version *g = mita_gather_of(a);
    const struct mita_buffers none = {0};
    const struct attn_gather_args sizes = mita_gather_args(p, a, NULL, NULL, &none);
    size_t gather = g && g->scratch_bytes ? g->scratch_bytes(&sizes) : 0;
    size_t most = route > gather ? route : gather;
    return most > attend ? most : attend;
}

static void mita_carve(const struct attn_problem *p, const struct attn_params *a,
                       struct workspace_carver *c, struct mita_buffers *b)
{
    const size_t heads = (size_t)p->B * p->H, md = heads * (size_t)a->m * p->d;
    b->landmarks = workspace_take(c, md * sizeof(float));
    b->shared_values = mita_is_shared(a) ? workspace_take(c, md * sizeof(float)) : NULL;
    b->experts = workspace_take(c, heads * (size_t)a->m * (size_t)a->k * sizeof(int32_t));
    b->routes = workspace_take(c, heads * (size_t)p->N * (size_t)a->s_r * sizeof(int32_t));
    const size_t expert_rows = cuda_size_mul(heads, cuda_size_mul(a->m, a->k));
    const size_t rows_bytes = cuda_size_mul(expert_rows, p->d * attn_dtype_size(p->dtype));
    b->ke = mita_gather_of(a) ? workspace_take(c, rows_bytes) : NULL;
    b->ve = mita_gather_of(a) ? workspace_take(c, rows_bytes) : NULL;
    const size_t probe = mita_probe_scratch_bytes(p, a), later = mita_later_scratch_bytes(p, a);
    if (mita_forks_route(p, a)) {
        b->probe_scratch = workspace_take(c, probe);
        b->scratch = workspace_take(c, later);
    } else {
        b->scratch = workspace_take(c, probe > later ? probe : later);
        b->probe_scratch = b->scratch;
    }
}

static const char *mita_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    const char *bad = cuda_validate(&attn_cuda_mita, p, a, why, why_len);
    if (bad) return bad;
    if (p->N > INT32_MAX || (int64_t)p->B * p->H > 65535) {
        snprintf(why, why_len, "N=%lld B·H=%lld: need N <= %d (int32 indices) and B·H <= 65535",
                 (long long)p->N, (long long)p->B * p->H, INT32_MAX);
        return why;
    }
    const int64_t max_k = topk_select_max_k(p->d, ATTN_FP32, p->dtype, mita_is_shared(a),
                                              TOPK_SELECT_SMEM_OPTIN_SM90);
    bad = cuda_validate_selection_size("k", a->k, max_k, p->d, why, why_len);
    if (bad) return bad;
    /* Routing selects each query's s_r experts the same way. */
    const int64_t max_sr = topk_select_max_k(p->d, p->dtype, ATTN_FP32, 0,
                                               TOPK_SELECT_SMEM_OPTIN_SM90);
    bad = cuda_validate_selection_size("s_r", a->s_r, max_sr, p->d, why, why_len);
    if (bad || attn_gather_is_fused(a->gather)) return bad;
    if (!attn_gather_find(a->gather)) {
        char known[512];
        snprintf(why, why_len, "gather=%.64s: no such gather version (known: %s)", a->gather,
                 attn_gather_names(known, sizeof known));
        return why;
    }
    /* The contract of every gather version (attn.h, struct attn_gather_args):
     * the kernels index a head's m·k rows with int32. */
    if (a->m * a->k > INT32_MAX) {
        snprintf(why, why_len, "gather=%s: m·k=%lld rows per head, the gather kernels take at "
                 "most %d (use gather=fused)", a->gather, (long long)(a->m * a->k), INT32_MAX);
        return why;
    }
    return NULL;
}

static size_t mita_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct workspace_carver c = {NULL, 0};
    struct mita_buffers b;
    mita_carve(p, a, &c, &b);
    return c.used;
}

static int mita_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                      void *workspace, char *why, size_t why_len)
{
    struct mita_state *st = state;
    st->fork_route = mita_forks_route(p, a);
    cudaError_t err = cudaSuccess;
    if (st->fork_route) {
        err = cudaStreamCreateWithFlags(&st->route_stream, cudaStreamNonBlocking);
        if (err == cudaSuccess) err = cudaEventCreateWithFlags(&st->forked, cudaEventDisableTiming);
        if (err == cudaSuccess) err = cudaEventCreateWithFlags(&st->routed, cudaEventDisableTiming);
    }
    if (err != cudaSuccess) {
        snprintf(why, why_len, "the routing's stream and events: %s", cudaGetErrorString(err));
        return -1;
    }
    struct workspace_carver c = {workspace, 0};
    mita_carve(p, a, &c, &st->b);
    st->p = *p;
    st->a = *a;
    st->a.variant = NULL; /* the caller's strings may go; `shared` and `gather` keep */
    st->a.gather = NULL;  /* what they said */
    st->shared = mita_is_shared(a);
    st->gather = mita_gather_of(a);
    st->b.shared_keys = st->b.shared_vals = NULL;
    /* Where the routing forks (step 5 beside the probe), the probe writes the shared block into
     * the attention's scratch, but only where the routing runs on the tensor cores: a routing
     * selection on the other branch would put its candidates in the same scratch meanwhile. */
    if (st->fork_route && st->shared && !st->gather && mita_routes_on_tensor_cores(p, a))
        mita_attend_shared_block(st->b.scratch, p->B * p->H, p->N, a->m, a->m, a->k, 1, p->d,
                                 p->dtype, a->s_r, &st->b.shared_keys, &st->b.shared_vals);
    return 0;
}

/* Step 5: each query's s_r experts. */
static cudaError_t mita_route_step(const struct mita_state *st, const struct attn_tensors *t,
                                   cudaStream_t stream)
{
    const struct attn_problem *p = &st->p;
    const struct attn_params *a = &st->a;
    const struct mita_buffers *b = &st->b;
    const int heads = p->B * p->H;
    cudaError_t err;
    attn_step_begin("route");
    if (mita_routes_on_tensor_cores(p, a))
        err = mita_route(t->q, p->dtype, b->landmarks, heads, p->N, p->d, a->m, a->s_r,
                         b->routes, stream);
    else
        err = topk_select(t->q, p->dtype, b->landmarks, ATTN_FP32, heads, p->N, a->m, p->d,
                          a->s_r, b->scratch, b->routes, stream);
    attn_step_end();
    return err;
}

/* Steps 6-7, or the part of them `part` names (gathered_attention.h): the
 * experts' rows are gathered in place by the attention (once per tile of 64
 * or 128 (query, route) pairs of an expert, after sorting them), or read
 * from K_E and V_E (no indices). */
static cudaError_t mita_attend_step(const struct mita_state *st, const struct attn_tensors *t,
                                    int part, cudaStream_t stream)
{
    const struct attn_problem *p = &st->p;
    const struct attn_params *a = &st->a;
    const struct mita_buffers *b = &st->b;
    const float s = 1.0f / sqrtf((float)p->d);
    const float s_sh = a->shared_scale == ATTN_SHARED_PAPER ? s : s * s;
    attn_step_begin("attend");
    cudaError_t err = mita_attend_part(
        part, t->q, st->gather ? b->ke : t->k, st->gather ? b->ve : t->v, p->dtype,
        p->B * p->H, p->N, p->d, st->shared ? b->landmarks : NULL, b->shared_values, a->m, s_sh,
        st->gather ? NULL : b->experts, a->m, a->k, b->routes, a->s_r, s, b->scratch, t->o,
        stream);
    attn_step_end();
    return err;
}

static cudaError_t mita_steps(const struct mita_state *st, const struct attn_tensors *t,
                              cudaStream_t stream)
{
    const struct attn_problem *p = &st->p;
    const struct attn_params *a = &st->a;
    const struct mita_buffers *b = &st->b;
    const int heads = p->B * p->H;
    const float s = 1.0f / sqrtf((float)p->d);

    attn_step_begin("landmarks");
    cudaError_t err = landmarks_forward(t->q, p->dtype, b->landmarks, p->B, p->H, p->N, p->d,
                                        a->m, stream);
    attn_step_end();
    if (err != cudaSuccess) return err;
    if (st->fork_route) { /* step 5 on its branch: it reads Q and Q̃ only */
        CUDA_CHECK(cudaEventRecord(st->forked, stream));
        CUDA_CHECK(cudaStreamWaitEvent(st->route_stream, st->forked, 0));
        CUDA_CHECK(mita_route_step(st, t, st->route_stream));
        /* The attention's sort reads the routes only; the gather's scratch
         * would overwrite it, so with a gather version it stays in step 6-7. */
        if (!st->gather)
            CUDA_CHECK(mita_attend_step(st, t, MITA_ATTEND_SORT, st->route_stream));
        CUDA_CHECK(cudaEventRecord(st->routed, st->route_stream));
    }
    /* Steps 2-4 share one pass over K: the probe's scores feed the experts'
     * selection and the compression together. */
    attn_step_begin("probe");
    if (st->shared)
        err = topk_select_softmax_values(b->landmarks, t->k, t->v, p->dtype, heads, a->m, p->N,
                                         p->d, a->k, s, b->probe_scratch, b->experts,
                                         b->shared_values, b->shared_keys, b->shared_vals,
                                         stream);
    else
        err = topk_select(b->landmarks, ATTN_FP32, t->k, p->dtype, heads, a->m, p->N, p->d, a->k,
                          b->probe_scratch, b->experts, stream);
    attn_step_end();
    if (err != cudaSuccess) return err;
    if (st->fork_route)
        CUDA_CHECK(cudaStreamWaitEvent(stream, st->routed, 0));
    else
        CUDA_CHECK(mita_route_step(st, t, stream));
    /* Step 6 with a gather version: K_E and V_E materialized. */
    if (st->gather) {
        const struct attn_gather_args g = mita_gather_args(p, a, t->k, t->v, b);
        attn_step_begin("gather");
        err = (cudaError_t)st->gather->launch(&g, stream);
        attn_step_end();
        if (err != cudaSuccess) return err;
    }
    const int rest = b->shared_keys ? MITA_ATTEND_REST_ROUNDED : MITA_ATTEND_REST;
    return mita_attend_step(st, t, st->fork_route && !st->gather ? rest : MITA_ATTEND_ALL,
                            stream);
}

static cudaError_t mita_forward(const void *state, const struct attn_tensors *t,
                                cudaStream_t stream)
{
    return mita_steps(state, t, stream);
}

static int mita_run(void *state, const struct attn_tensors *t, void *stream)
{
    struct mita_state *st = state;
    cudaError_t err = forward_graph_run(&st->graph, mita_forward, st, t, (cudaStream_t)stream);
    st->has_run = err == cudaSuccess;
    return (int)err;
}

static void mita_teardown(void *state)
{
    struct mita_state *st = state;
    forward_graph_release(&st->graph);
    if (st->forked) cudaEventDestroy(st->forked);
    if (st->routed) cudaEventDestroy(st->routed);
    if (st->route_stream) cudaStreamDestroy(st->route_stream);
}

static int mita_export_selection(void *state, struct attn_selection *out)
{
    const struct mita_state *st = state;
    if (!st->has_run || !out->keys || !out->routes) return -1;
    const size_t heads = (size_t)st->p.B * st->p.H;
    const size_t n_keys = heads * (size_t)st->a.m * (size_t)st->a.k;
    const size_t n_routes = heads * (size_t)st->p.N * (size_t)st->a.s_r;
    if (cudaDeviceSynchronize() != cudaSuccess ||
        cudaMemcpy(out->keys, st->b.experts, n_keys * sizeof(int32_t), cudaMemcpyDeviceToHost) !=
            cudaSuccess ||
        cudaMemcpy(out->routes, st->b.routes, n_routes * sizeof(int32_t),
                   cudaMemcpyDeviceToHost) != cudaSuccess)
        return -1;
    return 0;
}

const struct attn_method attn_cuda_mita = {
    ATTN_IDENTITY_MITA,
    .backend = ATTN_CUDA,
    .state_size = sizeof(struct mita_state),
    .validate = mita_validate,
    .workspace_bytes = mita_workspace_bytes,
    .setup = mita_setup,
    .run = mita_run,
    .teardown = mita_teardown,
    .export_selection = mita_export_selection,
};
