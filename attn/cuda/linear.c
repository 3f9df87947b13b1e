/* linear.c — linear attention (Katharopoulos et al. 2020, non-causal) on the
 * GPU: φ(x) = elu(x) + 1, S = Σ_j φ(k_j) v_jᵀ, z = Σ_j φ(k_j),
 * o_i = φ(q_i)ᵀ S / (φ(q_i)ᵀ z + 1e-6), by the kernels of
 * kernels/linear_attn.cu. The workspace holds the split-N partial sums of
 * (S, z): O(B·H·d²) whatever N.
 */
#include "attn/cuda/cuda_method.h"
#include "attn/cuda/cuda_methods.h"
#include "kernels/linear_attn.h"
#include "attn/methods.h"

struct linear_state {
    struct attn_problem p;
    void *scratch; /* linear_attn_workspace_bytes() */
};

static size_t linear_carve(const struct attn_problem *p, void *base, struct linear_state *st)
{
    struct workspace_carver c = {base, 0};
    st->scratch =
        workspace_take(&c, linear_attn_workspace_bytes(p->B, p->H, p->N, p->d, (int)p->dtype));
    return c.used;
}

static const char *linear_validate(const struct attn_problem *p, const struct attn_params *a,
                                   char *why, size_t why_len)
{
    return cuda_validate(&attn_cuda_linear, p, a, why, why_len);
}

static size_t linear_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    (void)a;
    struct linear_state measure;
    return linear_carve(p, NULL, &measure);
}

static int linear_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                        void *workspace, char *why, size_t why_len)
{
    (void)a, (void)why, (void)why_len;
    struct linear_state *st = state;
    st->p = *p;
    linear_carve(p, workspace, st);
    return 0;
}

static int linear_run(void *state, const struct attn_tensors *t, void *stream)
{
    const struct linear_state *st = state;
    const struct attn_problem *p = &st->p;
    return (int)linear_attn_forward(t->q, t->k, t->v, t->o, p->B, p->H, p->N, p->d, (int)p->dtype,
                                    st->scratch, (cudaStream_t)stream);
}

const struct attn_method attn_cuda_linear = {
    ATTN_IDENTITY_LINEAR,
    .backend = ATTN_CUDA,
    .state_size = sizeof(struct linear_state),
    .validate = linear_validate,
    .workspace_bytes = linear_workspace_bytes,
    .setup = linear_setup,
    .run = linear_run,
};
