/* mita.c — MiTA attention (Wen et al. 2026) on the CPU, the seven steps of
 * docs/methods.md ("MiTA", "Step by step") in fp32, one batch-head at a time:
 *
 *   1. landmark queries Q̃ = landmarks(Q, m);
 *   2-4. probe P = Q̃ Kᵀ, CPU_ROW_BLOCK rows at a time: each row gives its
 *      expert E_j = topk(P_j, k) (heap, unscaled fp32 scores) and its shared
 *      value V̂_j = softmax(P_j s) V (not for route_only, which has no use
 *      for it);
 *   5. routing: R_i = q_i Q̃ᵀ, the s_r best experts of each query;
 *   6. gather: read in place (params.gather NULL or "fused": the gather
 *      versions are CUDA kernels) — queries are taken grouped by their first
 *      expert (a counting sort), so that one expert's keys and values stay
 *      in cache while its queries use them;
 *   7. attention over [ q_i·q̃_j s_sh ]_j ++ [ q_i·k_t s ]_{t in E_{e_i}}.
 *
 * Experts [B,H,m,k] and routes [B,H,N,s_r] stay in the workspace for
 * export_selection().
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attn/cpu/cpu_util.h"
#include "attn/gathers.h"
#include "attn/methods.h"
#include "attn/registry.h"

/* One batch-head's sizes and scales. */
struct mita_config {
    int64_t N, m, k;
    int d, s_r;
    int shared;         /* variant shared: the first block of logits is there */
    float scale;        /* s = 1/sqrt(d) */
    float shared_scale; /* s_sh: s² (official) or s (paper) */
};

struct mita_selection {
    int32_t *experts;   /* [B,H,m,k] */
    int32_t *routes;    /* [B,H,N,s_r] */
};

struct mita_scratch {
    float *landmarks;       /* Q̃: [m,d] */
    float *shared_values;   /* V̂: [m,d] */
    float *probe;           /* rows of P: [CPU_ROW_BLOCK, N]; a row of R (m <= N) reuses it */
    float *logits;          /* one query's: [m + s_r k] */
    int32_t *order;         /* queries grouped by first expert: [N] */
    int32_t *expert_start;  /* counting sort offsets: [m + 1] */
};

static struct mita_config mita_config_of(const struct attn_problem *p,
                                         const struct attn_params *a)
{
    float s = 1.0f / sqrtf((float)p->d);
    return (struct mita_config){
        .N = p->N, .m = a->m, .k = a->k, .d = p->d, .s_r = a->s_r,
        .shared = !(a->variant && strcmp(a->variant, "route_only") == 0),
        .scale = s,
        .shared_scale = a->shared_scale == ATTN_SHARED_PAPER ? s : s * s,
    };
}

static void mita_carve_shared(const struct attn_problem *p, const struct attn_params *a,
                              struct cpu_arena *ar, struct mita_selection *sel)
{
    size_t heads = (size_t)cpu_heads(p);
    sel->experts = cpu_arena_take(ar, cpu_size_mul(heads, cpu_size_mul(a->m, a->k)),
                                  sizeof(int32_t));
    sel->routes = cpu_arena_take(ar, cpu_size_mul(heads, cpu_size_mul(p->N, a->s_r)),
                                 sizeof(int32_t));
}

static void mita_carve_thread(const struct attn_problem *p, const struct attn_params *a,
                              struct cpu_arena *ar, struct mita_scratch *s)
{
    size_t md = cpu_size_mul((size_t)a->m, (size_t)p->d);
    size_t probe = cpu_size_mul(CPU_ROW_BLOCK, (size_t)p->N);
    s->landmarks = cpu_arena_take(ar, md, sizeof(float));
    s->shared_values = cpu_arena_take(ar, md, sizeof(float));
    s->probe = cpu_arena_take(ar, probe, sizeof(float));
    s->logits = cpu_arena_take(ar, (size_t)a->m + cpu_size_mul(a->s_r, a->k), sizeof(float));
    s->order = cpu_arena_take(ar, (size_t)p->N, sizeof(int32_t));
    s->expert_start = cpu_arena_take(ar, (size_t)a->m + 1, sizeof(int32_t));
}

static size_t mita_shared_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct cpu_arena measure = {0};
    struct mita_selection unused;
    mita_carve_shared(p, a, &measure, &unused);
    return measure.used;
}

static size_t mita_thread_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct cpu_arena measure = {0};
    struct mita_scratch unused;
    mita_carve_thread(p, a, &measure, &unused);
    return measure.used;
}

/* Replaces an unscaled probe row by its softmax(row s) and returns that
 * row times V: the landmark's shared value.
 * row: [N]  v: [N,d]  out: [d] */
static void mita_compress_values(float *row, int64_t N, const float *v, int d, float scale,
                                 float *out)
{
    for (int64_t t = 0; t < N; t++) row[t] *= scale;
    cpu_softmax(row, N);
    memset(out, 0, (size_t)d * sizeof(float));
    for (int64_t t = 0; t < N; t++) cpu_axpy(out, row[t], v + t * d, d);
}

/* Steps 2-4. k, v: [N,d]  landmarks: [m,d]  experts: [m,k]  shared_values: [m,d] */
static void mita_probe_experts(const struct mita_config *c, const float *k, const float *v,
                               const float *landmarks, int32_t *experts, float *shared_values,
                               float *probe)
{
    for (int64_t j0 = 0; j0 < c->m; j0 += CPU_ROW_BLOCK) {
        int64_t count = c->m - j0 < CPU_ROW_BLOCK ? c->m - j0 : CPU_ROW_BLOCK;
        cpu_scores(landmarks + j0 * c->d, count, k, c->N, c->d, 1.0f, probe);
        for (int64_t r = 0; r < count; r++) {
            int64_t j = j0 + r;
            float *row = probe + r * c->N;
            cpu_topk(row, c->N, c->k, experts + j * c->k);
            if (c->shared)
                mita_compress_values(row, c->N, v, c->d, c->scale, shared_values + j * c->d);
        }
    }
}

/* Step 5: each query's s_r best experts by q_i·q̃_j, best first (s_r = 1:
 * the argmax, ties to the lower index).
 * q: [N,d]  landmarks: [m,d]  routes: [N,s_r]  row: [m] */
static void mita_route_queries(const struct mita_config *c, const float *q,
                               const float *landmarks, int32_t *routes, float *row)
{
    for (int64_t i = 0; i < c->N; i++) {
        cpu_scores(q + i * c->d, 1, landmarks, c->m, c->d, 1.0f, row);
        cpu_topk(row, c->m, c->s_r, routes + i * c->s_r);
    }
}

/* Counting sort of the queries on their first expert.
 * routes: [N,s_r]  expert_start: [m+1]  order: [N] */
static void mita_sort_by_expert(const struct mita_config *c, const int32_t *routes,
                                int32_t *expert_start, int32_t *order)
{
    memset(expert_start, 0, (size_t)(c->m + 1) * sizeof(int32_t));
    for (int64_t i = 0; i < c->N; i++) expert_start[routes[i * c->s_r] + 1]++;
    for (int64_t j = 0; j < c->m; j++) expert_start[j + 1] += expert_start[j];
    for (int64_t i = 0; i < c->N; i++) order[expert_start[routes[i * c->s_r]]++] = (int32_t)i;
}

/* Step 7 for one query: softmax over the shared block and the keys of its
 * routed experts (duplicates kept), times [V̂ ; V_E].
 * q: [d]  k, v: [N,d]  landmarks, shared_values: [m,d]  experts: [m,k]
 * route: [s_r]  logits: [m + s_r k]  out: [d] */
static void mita_attend_query(const struct mita_config *c, const float *q, const float *k,
                              const float *v, const float *landmarks,
                              const float *shared_values, const int32_t *experts,
                              const int32_t *route, float *logits, float *out)
{
    const int d = c->d;
    int64_t n = 0;
    if (c->shared)
        for (int64_t j = 0; j < c->m; j++)
            logits[n++] = c->shared_scale * cpu_dot(q, landmarks + j * d, d);
    for (int r = 0; r < c->s_r; r++) {
        const int32_t *expert = experts + route[r] * c->k;
        for (int64_t t = 0; t < c->k; t++)
            logits[n++] = c->scale * cpu_dot(q, k + (int64_t)expert[t] * d, d);
    }
    cpu_softmax(logits, n);

    memset(out, 0, (size_t)d * sizeof(float));
    n = 0;
    if (c->shared)
        for (int64_t j = 0; j < c->m; j++) cpu_axpy(out, logits[n++], shared_values + j * d, d);
    for (int r = 0; r < c->s_r; r++) {
        const int32_t *expert = experts + route[r] * c->k;
        for (int64_t t = 0; t < c->k; t++)
            cpu_axpy(out, logits[n++], v + (int64_t)expert[t] * d, d);
    }
}

// q, k, v, o: [N,d]  experts: [m,k]  routes: [N,s_r]
static void mita_head(const struct mita_config *c, const float *q, const float *k,
                      const float *v, float *o, int32_t *experts, int32_t *routes,
                      const struct mita_scratch *s)
{
    cpu_landmarks(q, c->N, c->d, c->m, s->landmarks);
    mita_probe_experts(c, k, v, s->landmarks, experts, s->shared_values, s->probe);
    mita_route_queries(c, q, s->landmarks, routes, s->probe);
    mita_sort_by_expert(c, routes, s->expert_start, s->order);
    for (int64_t n = 0; n < c->N; n++) {
        int64_t i = s->order[n];
        mita_attend_query(c, q + i * c->d, k, v, s->landmarks, s->shared_values, experts,
                          routes + i * c->s_r, s->logits, o + i * c->d);
    }
}

static const char *mita_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    const char *err = cpu_validate(&attn_cpu_mita, p, a, why, why_len);
    if (err) return err;
    if (!attn_gather_is_fused(a->gather)) {
        snprintf(why, why_len, "gather=%.64s: the CPU backend reads K_E and V_E in place; "
                 "gather versions are CUDA kernels (use gather=fused)", a->gather);
        return why;
    }
    return attn_validate_int32_indices(p, why, why_len);
}

static size_t mita_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    return cpu_workspace_bytes(mita_shared_bytes(p, a), mita_thread_bytes(p, a));
}

static int mita_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                      void *workspace, char *why, size_t why_len)
{
    return cpu_setup(&attn_cpu_mita, state, p, a, workspace);
}

static int mita_run(void *state, const struct attn_tensors *t, void *stream)
{
    struct cpu_state *st = state;
    const struct attn_problem *p = &st->p;
    const struct mita_config c = mita_config_of(p, &st->a);
    const int64_t head = p->N * p->d;
    struct cpu_arena shared = cpu_shared_arena(st);
    struct mita_selection sel;
    mita_carve_shared(p, &st->a, &shared, &sel);
    const size_t thread_bytes = mita_thread_bytes(p, &st->a);

#pragma omp parallel for num_threads(st->threads)
    for (int64_t bh = 0; bh < cpu_heads(p); bh++) {
        struct cpu_arena ar = cpu_thread_arena(st, shared.used, thread_bytes);
        struct mita_scratch s;
        mita_carve_thread(p, &st->a, &ar, &s);
        mita_head(&c, (const float *)t->q + bh * head, (const float *)t->k + bh * head,
                  (const float *)t->v + bh * head, (float *)t->o + bh * head,
                  sel.experts + bh * c.m * c.k, sel.routes + bh * c.N * c.s_r, &s);
    }
    st->has_run = 1;
    return 0;
}

static int mita_export_selection(void *state, struct attn_selection *out)
{
    const struct cpu_state *st = state;
    if (!st->has_run || !out->keys || !out->routes) return -1;
    struct cpu_arena shared = cpu_shared_arena(st);
    struct mita_selection sel;
    mita_carve_shared(&st->p, &st->a, &shared, &sel);
    int64_t heads = cpu_heads(&st->p);
    memcpy(out->keys, sel.experts, (size_t)(heads * st->a.m * st->a.k) * sizeof(int32_t));
    memcpy(out->routes, sel.routes, (size_t)(heads * st->p.N * st->a.s_r) * sizeof(int32_t));
    return 0;
}

const struct attn_method attn_cpu_mita = {
    ATTN_IDENTITY_MITA,
    .backend = ATTN_CPU,
    .state_size = sizeof(struct cpu_state),
    .validate = mita_validate,
    .workspace_bytes = mita_workspace_bytes,
    .setup = mita_setup,
    .run = mita_run,
    .export_selection = mita_export_selection,
};
