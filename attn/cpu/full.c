/* full.c — exact softmax attention, O = softmax(Q Kᵀ s) V, on the CPU.
 *
 *   flash  blocked online softmax (cpu_attend): no score row is ever whole,
 *          scratch per thread is O(d).
 *   naive  the N x N scores of a batch-head materialized in the workspace,
 *          then softmax by rows and P V: scratch per thread grows as N², so
 *          a large N fails cleanly at the harness's allocation.
 */
#include <math.h>
#include <string.h>

#include "attn/cpu/cpu_util.h"
#include "attn/methods.h"
#include "attn/registry.h"

/* The variant is naive; NULL is the default, flash. */
static int is_naive(const struct attn_params *a)
{
    return a->variant && strcmp(a->variant, "naive") == 0;
}

/* The calling thread's scratch: naive [N,N] scores, flash cpu_attend's. */
static float *full_carve_thread(const struct attn_problem *p, const struct attn_params *a,
                                struct cpu_arena *ar)
{
    size_t floats = is_naive(a) ? cpu_size_mul((size_t)p->N, (size_t)p->N)
                                : (size_t)cpu_attend_scratch_floats(p->d);
    return cpu_arena_take(ar, floats, sizeof(float));
}

static size_t full_thread_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct cpu_arena measure = {0};
    full_carve_thread(p, a, &measure);
    return measure.used;
}

// q, k, v, o: [N,d]  scores: [N,N]
static void full_naive_head(const float *q, const float *k, const float *v, float *o, int64_t N,
                            int d, float scale, float *scores)
{
    cpu_scores(q, N, k, N, d, scale, scores);
    for (int64_t i = 0; i < N; i++) {
        float *p = scores + i * N, *out = o + i * d;
        cpu_softmax(p, N);
        memset(out, 0, (size_t)d * sizeof(float));
        for (int64_t j = 0; j < N; j++) cpu_axpy(out, p[j], v + j * d, d);
    }
}

static const char *full_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    return cpu_validate(&attn_cpu_full, p, a, why, why_len);
}

static size_t full_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    return cpu_workspace_bytes(0, full_thread_bytes(p, a));
}

static int full_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                      void *workspace, char *why, size_t why_len)
{
    return cpu_setup(&attn_cpu_full, state, p, a, workspace);
}

static int full_run(void *state, const struct attn_tensors *t, void *stream)
{
    const struct cpu_state *st = state;
    const struct attn_problem *p = &st->p;
    const int64_t N = p->N, head = N * p->d;
    const int d = p->d;
    const int naive = is_naive(&st->a);
    const float scale = 1.0f / sqrtf((float)d);
    const size_t thread_bytes = full_thread_bytes(p, &st->a);

#pragma omp parallel for num_threads(st->threads)
    for (int64_t bh = 0; bh < cpu_heads(p); bh++) {
        struct cpu_arena ar = cpu_thread_arena(st, 0, thread_bytes);
        float *scratch = full_carve_thread(p, &st->a, &ar);
        const float *q = (const float *)t->q + bh * head;
        const float *k = (const float *)t->k + bh * head;
        const float *v = (const float *)t->v + bh * head;
        float *o = (float *)t->o + bh * head;
        if (naive)
            full_naive_head(q, k, v, o, N, d, scale, scratch);
        else
            cpu_attend(q, N, k, v, N, d, scale, o, scratch);
    }
    return 0;
}

const struct attn_method attn_cpu_full = {
    ATTN_IDENTITY_FULL(attn_full_variants),
    .backend = ATTN_CPU,
    .state_size = sizeof(struct cpu_state),
    .validate = full_validate,
    .workspace_bytes = full_workspace_bytes,
    .setup = full_setup,
    .run = full_run,
};
