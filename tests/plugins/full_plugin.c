/* full_plugin.c — full attention as a user's plugin writes it (cpu, fp32),
 * declaring `computes = "full"` so that `attnbench check` and `run --verify`
 * hold it to that definition. Built twice, by a build flag:
 *   (none)        plain_full: O = softmax(Q Kᵀ / sqrt(d)) V
 *   WRONG_SCALE   wrong_full: the same without the 1/sqrt(d), a plausible
 *                 slip that both checks must report
 */
#include <math.h>
#include <stdio.h>

#include "attn.h"

#ifdef WRONG_SCALE
#define METHOD_NAME "wrong_full"
#define SCALE(d) 1.0f
#else
#define METHOD_NAME "plain_full"
#define SCALE(d) (1.0f / sqrtf((float)(d)))
#endif

struct full_state {
    struct attn_problem p;
    float *weights;        /* the workspace: one row of N */
};

static const struct attn_method method;

static const char *full_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    if (p->backend != ATTN_CPU || p->dtype != ATTN_FP32) {
        snprintf(why, why_len, "%s runs on the cpu backend in fp32 only", METHOD_NAME);
        return why;
    }
    return attn_validate_common(&method, p, a, why, why_len);
}

static size_t full_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    return (size_t)p->N * sizeof(float);
}

static int full_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                      void *workspace, char *why, size_t why_len)
{
    struct full_state *st = state;
    st->p = *p;
    st->weights = workspace;
    return 0;
}

// q, k, v, o: [B,H,N,d]
static int full_run(void *state, const struct attn_tensors *t, void *stream)
{
    const struct full_state *st = state;
    const int64_t N = st->p.N, heads = (int64_t)st->p.B * st->p.H;
    const int d = st->p.d;
    const float scale = SCALE(d);
    float *w = st->weights;
    for (int64_t bh = 0; bh < heads; bh++) {
        const float *q = (const float *)t->q + bh * N * d, *k = (const float *)t->k + bh * N * d;
        const float *v = (const float *)t->v + bh * N * d;
        float *o = (float *)t->o + bh * N * d;
        for (int64_t i = 0; i < N; i++) {
            float max = -INFINITY, sum = 0;
            for (int64_t j = 0; j < N; j++) {
                float s = 0;
                for (int c = 0; c < d; c++) s += q[i * d + c] * k[j * d + c];
                w[j] = s * scale;
                max = fmaxf(max, w[j]);
            }
            for (int64_t j = 0; j < N; j++) sum += w[j] = expf(w[j] - max);
            for (int c = 0; c < d; c++) {
                float acc = 0;
                for (int64_t j = 0; j < N; j++) acc += w[j] * v[j * d + c];
                o[i * d + c] = acc / sum;
            }
        }
    }
    return 0;
}

static double full_flops(const struct attn_problem *p, const struct attn_params *a)
{
    return 4.0 * p->B * p->H * (double)p->N * (double)p->N * p->d;
}

static double full_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    return 4.0 * (double)attn_tensor_elems(p) * attn_dtype_size(p->dtype);
}

static const struct attn_method method = {
    .abi_version = ATTN_ABI_VERSION,
    .name = METHOD_NAME,
    .description = "full attention, a plugin's (cpu, fp32)",
    .backend = ATTN_CPU,
    .state_size = sizeof(struct full_state),
    .validate = full_validate,
    .workspace_bytes = full_workspace_bytes,
    .setup = full_setup,
    .run = full_run,
    .flops = full_flops,
    .bytes = full_bytes,
    .computes = "full",
};

static const struct attn_method *const methods[] = {&method, NULL};

static const struct attn_plugin plugin = {
    .abi_version = ATTN_ABI_VERSION,
    .name = METHOD_NAME,
    .methods = methods,
};

const struct attn_plugin *attnbench_plugin(void) { return &plugin; }
