/* agent.c — agent attention (Han et al. 2024, without agent bias or
 * depth-wise conv) on the GPU: A = landmarks(Q, m), V_A = softmax(A Kᵀ s) V,
 * O = softmax(Q Aᵀ s) V_A. The agents are window means in fp32, rounded to
 * the dtype to be operands next to K and Q. The two attentions are fused
 * tensor-core kernels for bf16/fp16 (the m agents over N keys split the keys
 * across blocks) and go through materialized fp32 scores and cuBLAS for
 * fp32, one after the other in one B·H·m·N-float buffer: memory O(N·m),
 * never O(N²).
 */
#include "attn/cuda/cuda_method.h"
#include "attn/cuda/cuda_methods.h"
#include "kernels/cuda_check.h"
#include "kernels/landmarks.h"
#include "attn/methods.h"
#include "kernels/softmax.h"

struct agent_state {
    struct attn_problem p;
    int64_t m;
    cublasHandle_t handle; /* materialized attention only */
    float *agents_fp32;    /* A: [B,H,m,d] */
    void *agents;          /* A in the dtype; == agents_fp32 for fp32 */
    void *agent_values;    /* V_A: [B,H,m,d] in the dtype */
    struct cuda_attention attention;
    void *cublas_workspace;
};

static size_t agent_carve(const struct attn_problem *p, const struct attn_params *a, void *base,
                          struct agent_state *st)
{
    struct workspace_carver c = {base, 0};
    const size_t md =
        cuda_size_mul(cuda_size_mul((size_t)p->B * (size_t)p->H, (size_t)a->m), (size_t)p->d);
    const struct cuda_attention_step steps[] = {{a->m, p->N, (int)p->dtype},
                                                {p->N, a->m, (int)p->dtype}};
    st->agents_fp32 = workspace_take_floats(&c, md);
    st->agents = workspace_take_dtype(&c, md, p->dtype, st->agents_fp32);
    st->agent_values = workspace_take(&c, cuda_size_mul(md, attn_dtype_size(p->dtype)));
    cuda_attention_carve(&c, p, steps, 2, &st->attention);
    st->cublas_workspace =
        st->attention.fused ? NULL : workspace_take(&c, CUDA_CUBLAS_WORKSPACE_BYTES);
    return c.used;
}

static const char *agent_validate(const struct attn_problem *p, const struct attn_params *a,
                                  char *why, size_t why_len)
{
    return cuda_validate(&attn_cuda_agent, p, a, why, why_len);
}

static size_t agent_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct agent_state measure;
    return agent_carve(p, a, NULL, &measure);
}

static int agent_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                       void *workspace, char *why, size_t why_len)
{
    struct agent_state *st = state;
    st->p = *p;
    st->m = a->m;
    agent_carve(p, a, workspace, st);
    return st->attention.fused ? 0 : cuda_cublas_create(&st->handle, why, why_len);
}

static cudaError_t agent_launch(const struct agent_state *st, const struct attn_tensors *t,
                                cudaStream_t stream)
{
    const struct attn_problem *p = &st->p;
    const int dtype = (int)p->dtype;
    if (st->handle) CUDA_CHECK(cuda_cublas_bind(st->handle, stream, st->cublas_workspace));
    CUDA_CHECK(
        landmarks_forward(t->q, dtype, st->agents_fp32, p->B, p->H, p->N, p->d, st->m, stream));
    if (dtype != ATTN_FP32)
        CUDA_CHECK(store_fp32_as(st->agents_fp32, st->agents, dtype,
                                 (int64_t)p->B * p->H * st->m * p->d, stream));
    /* V_A = softmax(A Kᵀ s) V: m query rows against all N keys. */
    CUDA_CHECK(cuda_attend(&st->attention, st->handle, p, st->agents, st->m, t->k, t->v, p->N,
                           st->agent_values, dtype, stream));
    /* O = softmax(Q Aᵀ s) V_A: N query rows against m agents. */
    return cuda_attend(&st->attention, st->handle, p, t->q, p->N, st->agents, st->agent_values,
                       st->m, t->o, dtype, stream);
}

static int agent_run(void *state, const struct attn_tensors *t, void *stream)
{
    return (int)agent_launch(state, t, (cudaStream_t)stream);
}

static void agent_teardown(void *state)
{
    struct agent_state *st = state;
    cuda_cublas_destroy(st->handle);
    st->handle = NULL;
}

const struct attn_method attn_cuda_agent = {
    ATTN_IDENTITY_AGENT,
    .backend = ATTN_CUDA,
    .state_size = sizeof(struct agent_state),
    .validate = agent_validate,
    .workspace_bytes = agent_workspace_bytes,
    .setup = agent_setup,
    .run = agent_run,
    .teardown = agent_teardown,
};
