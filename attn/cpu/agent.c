/* agent.c — agent attention (Han et al. 2024, without agent bias or
 * depth-wise conv) on the CPU: A = landmarks(Q, m), V_A = softmax(A Kᵀ s) V,
 * O = softmax(Q Aᵀ s) V_A. Both softmaxes go through cpu_attend, so no
 * score matrix is materialized.
 */
#include <math.h>

#include "attn/cpu/cpu_util.h"
#include "attn/methods.h"
#include "attn/registry.h"

struct agent_scratch {
    float *agents;       /* A: [m,d] */
    float *agent_values; /* V_A: [m,d] */
    float *attend;       /* cpu_attend's scratch */
};

static void agent_carve_thread(const struct attn_problem *p, const struct attn_params *a,
                               struct cpu_arena *ar, struct agent_scratch *s)
{
    size_t md = cpu_size_mul((size_t)a->m, (size_t)p->d);
    s->agents = cpu_arena_take(ar, md, sizeof(float));
    s->agent_values = cpu_arena_take(ar, md, sizeof(float));
    s->attend = cpu_arena_take(ar, (size_t)cpu_attend_scratch_floats(p->d), sizeof(float));
}

static size_t agent_thread_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct cpu_arena measure = {0};
    struct agent_scratch unused;
    agent_carve_thread(p, a, &measure, &unused);
    return measure.used;
}

// q, k, v, o: [N,d]
static void agent_head(const float *q, const float *k, const float *v, float *o, int64_t N,
                       int d, int64_t m, const struct agent_scratch *s)
{
    const float scale = 1.0f / sqrtf((float)d);
    cpu_landmarks(q, N, d, m, s->agents);
    cpu_attend(s->agents, m, k, v, N, d, scale, s->agent_values, s->attend);
    cpu_attend(q, N, s->agents, s->agent_values, m, d, scale, o, s->attend);
}

static const char *agent_validate(const struct attn_problem *p, const struct attn_params *a,
                                  char *why, size_t why_len)
{
    return cpu_validate(&attn_cpu_agent, p, a, why, why_len);
}

static size_t agent_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    return cpu_workspace_bytes(0, agent_thread_bytes(p, a));
}

static int agent_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                       void *workspace, char *why, size_t why_len)
{
    return cpu_setup(&attn_cpu_agent, state, p, a, workspace);
}

static int agent_run(void *state, const struct attn_tensors *t, void *stream)
{
    const struct cpu_state *st = state;
    const struct attn_problem *p = &st->p;
    const int64_t head = p->N * p->d;
    const size_t thread_bytes = agent_thread_bytes(p, &st->a);

#pragma omp parallel for num_threads(st->threads)
    for (int64_t bh = 0; bh < cpu_heads(p); bh++) {
        struct cpu_arena ar = cpu_thread_arena(st, 0, thread_bytes);
        struct agent_scratch s;
        agent_carve_thread(p, &st->a, &ar, &s);
        agent_head((const float *)t->q + bh * head, (const float *)t->k + bh * head,
                   (const float *)t->v + bh * head, (float *)t->o + bh * head, p->N, p->d,
                   st->a.m, &s);
    }
    return 0;
}

const struct attn_method attn_cpu_agent = {
    ATTN_IDENTITY_AGENT,
    .backend = ATTN_CPU,
    .state_size = sizeof(struct cpu_state),
    .validate = agent_validate,
    .workspace_bytes = agent_workspace_bytes,
    .setup = agent_setup,
    .run = agent_run,
};
