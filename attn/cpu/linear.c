/* linear.c — linear attention (Katharopoulos et al. 2020, non-causal) on
 * the CPU: φ(x) = elu(x) + 1, S = Σ_j φ(k_j) v_jᵀ (d x d), z = Σ_j φ(k_j),
 * o_i = φ(q_i)ᵀ S / (φ(q_i)ᵀ z + 1e-6). Two passes over the rows; scratch
 * per thread is d² + 2d floats and d² + d doubles, whatever N.
 *
 * S and z are summed in float over blocks of LINEAR_KEY_BLOCK keys and the
 * blocks in double: a float sum over 2^20 keys rounds away most of each
 * key's part once the sum is large (an error near fp32's bound at N = 2^20).
 */
#include <math.h>
#include <string.h>

#include "attn/cpu/cpu_util.h"
#include "attn/methods.h"
#include "attn/registry.h"

enum { LINEAR_KEY_BLOCK = 256 };

struct linear_scratch {
    float *kv;          /* S: [d,d], of one key block, then the whole */
    float *ksum;        /* z: [d], likewise */
    float *phi;         /* φ of one row: [d] */
    double *kv_total;   /* S over the blocks so far: [d,d] */
    double *ksum_total; /* z likewise: [d] */
};

static void linear_carve_thread(const struct attn_problem *p, struct cpu_arena *ar,
                                struct linear_scratch *s)
{
    size_t d = (size_t)p->d;
    s->kv = cpu_arena_take(ar, d * d, sizeof(float));
    s->ksum = cpu_arena_take(ar, d, sizeof(float));
    s->phi = cpu_arena_take(ar, d, sizeof(float));
    s->kv_total = cpu_arena_take(ar, d * d, sizeof(double));
    s->ksum_total = cpu_arena_take(ar, d, sizeof(double));
}

static size_t linear_thread_bytes(const struct attn_problem *p)
{
    struct cpu_arena measure = {0};
    struct linear_scratch unused;
    linear_carve_thread(p, &measure, &unused);
    return measure.used;
}

// x: [d]  phi: [d] = elu(x) + 1
static void linear_feature_map(const float *x, float *phi, int d)
{
    for (int c = 0; c < d; c++) phi[c] = x[c] > 0 ? x[c] + 1.0f : expf(x[c]);
}

// q, k, v, o: [N,d]
static void linear_head(const float *q, const float *k, const float *v, float *o, int64_t N,
                        int d, const struct linear_scratch *s)
{
    const int64_t dd = (int64_t)d * d;
    for (int64_t e = 0; e < dd; e++) s->kv_total[e] = 0;
    for (int c = 0; c < d; c++) s->ksum_total[c] = 0;
    for (int64_t j0 = 0; j0 < N; j0 += LINEAR_KEY_BLOCK) {
        const int64_t j1 = N - j0 < LINEAR_KEY_BLOCK ? N : j0 + LINEAR_KEY_BLOCK;
        memset(s->kv, 0, (size_t)dd * sizeof(float));
        memset(s->ksum, 0, (size_t)d * sizeof(float));
        for (int64_t j = j0; j < j1; j++) {
            linear_feature_map(k + j * d, s->phi, d);
            cpu_axpy(s->ksum, 1.0f, s->phi, d);
            for (int a = 0; a < d; a++) cpu_axpy(s->kv + a * d, s->phi[a], v + j * d, d);
        }
        for (int64_t e = 0; e < dd; e++) s->kv_total[e] += s->kv[e];
        for (int c = 0; c < d; c++) s->ksum_total[c] += s->ksum[c];
    }
    for (int64_t e = 0; e < dd; e++) s->kv[e] = (float)s->kv_total[e];
    for (int c = 0; c < d; c++) s->ksum[c] = (float)s->ksum_total[c];
    for (int64_t i = 0; i < N; i++) {
        float *out = o + i * d;
        linear_feature_map(q + i * d, s->phi, d);
        memset(out, 0, (size_t)d * sizeof(float));
        for (int a = 0; a < d; a++) cpu_axpy(out, s->phi[a], s->kv + a * d, d);
        cpu_scale(out, 1.0f / (cpu_dot(s->phi, s->ksum, d) + 1e-6f), d);
    }
}

static const char *linear_validate(const struct attn_problem *p, const struct attn_params *a,
                                   char *why, size_t why_len)
{
    return cpu_validate(&attn_cpu_linear, p, a, why, why_len);
}

static size_t linear_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    return cpu_workspace_bytes(0, linear_thread_bytes(p));
}

static int linear_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                        void *workspace, char *why, size_t why_len)
{
    return cpu_setup(&attn_cpu_linear, state, p, a, workspace);
}

static int linear_run(void *state, const struct attn_tensors *t, void *stream)
{
    const struct cpu_state *st = state;
    const struct attn_problem *p = &st->p;
    const int64_t head = p->N * p->d;
    const size_t thread_bytes = linear_thread_bytes(p);

#pragma omp parallel for num_threads(st->threads)
    for (int64_t bh = 0; bh < cpu_heads(p); bh++) {
        struct cpu_arena ar = cpu_thread_arena(st, 0, thread_bytes);
        struct linear_scratch s;
        linear_carve_thread(p, &ar, &s);
        linear_head((const float *)t->q + bh * head, (const float *)t->k + bh * head,
                    (const float *)t->v + bh * head, (float *)t->o + bh * head, p->N, p->d, &s);
    }
    return 0;
}

const struct attn_method attn_cpu_linear = {
    ATTN_IDENTITY_LINEAR,
    .backend = ATTN_CPU,
    .state_size = sizeof(struct cpu_state),
    .validate = linear_validate,
    .workspace_bytes = linear_workspace_bytes,
    .setup = linear_setup,
    .run = linear_run,
};
