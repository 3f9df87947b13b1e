/* topk.c — per-query exact top-k attention on the CPU: S_i = q_i Kᵀ s,
 * T_i = topk(S_i, k), o_i = softmax(S_i[T_i]) V[T_i].
 *
 * Score rows are materialized CPU_ROW_BLOCK queries at a time (fp32,
 * unscaled, so that the selection sees q·k itself); each row's k best go
 * through a heap (cpu_topk). The chosen indices stay in the workspace,
 * [B,H,N,k], for export_selection().
 */
#include <math.h>
#include <string.h>

#include "attn/cpu/cpu_util.h"
#include "attn/methods.h"
#include "attn/registry.h"

/* The chosen keys of every batch-head: [B,H,N,k]. */
static int32_t *topk_carve_shared(const struct attn_problem *p, const struct attn_params *a,
                                  struct cpu_arena *ar)
{
    size_t rows = cpu_size_mul((size_t)cpu_heads(p), (size_t)p->N);
    return cpu_arena_take(ar, cpu_size_mul(rows, (size_t)a->k), sizeof(int32_t));
}

/* The calling thread's score rows: [CPU_ROW_BLOCK, N]. */
static float *topk_carve_thread(const struct attn_problem *p, struct cpu_arena *ar)
{
    return cpu_arena_take(ar, cpu_size_mul(CPU_ROW_BLOCK, (size_t)p->N), sizeof(float));
}

static size_t topk_shared_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct cpu_arena measure = {0};
    topk_carve_shared(p, a, &measure);
    return measure.used;
}

static size_t topk_thread_bytes(const struct attn_problem *p)
{
    struct cpu_arena measure = {0};
    topk_carve_thread(p, &measure);
    return measure.used;
}

/* softmax over the chosen scores, times the chosen values.
 * row: [N] unscaled scores  chosen: [k], best first  v: [N,d]  out: [d] */
static void topk_attend_chosen(const float *row, const int32_t *chosen, int64_t k,
                               const float *v, int d, float scale, float *out)
{
    const float best = row[chosen[0]];
    float sum = 0;
    memset(out, 0, (size_t)d * sizeof(float));
    for (int64_t t = 0; t < k; t++) {
        float w = expf((row[chosen[t]] - best) * scale);
        sum += w;
        cpu_axpy(out, w, v + (int64_t)chosen[t] * d, d);
    }
    cpu_scale(out, 1.0f / sum, d);
}

// q, k, v, o: [N,d]  keys: [N,k]  rows: [CPU_ROW_BLOCK, N]
static void topk_head(const float *q, const float *k, const float *v, float *o, int32_t *keys,
                      int64_t N, int d, int64_t kk, float *rows)
{
    const float scale = 1.0f / sqrtf((float)d);
    for (int64_t i0 = 0; i0 < N; i0 += CPU_ROW_BLOCK) {
        int64_t count = N - i0 < CPU_ROW_BLOCK ? N - i0 : CPU_ROW_BLOCK;
        cpu_scores(q + i0 * d, count, k, N, d, 1.0f, rows);
        for (int64_t r = 0; r < count; r++) {
            int64_t i = i0 + r;
            cpu_topk(rows + r * N, N, kk, keys + i * kk);
            topk_attend_chosen(rows + r * N, keys + i * kk, kk, v, d, scale, o + i * d);
        }
    }
}

static const char *topk_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    const char *err = cpu_validate(&attn_cpu_topk, p, a, why, why_len);
    return err ? err : attn_validate_int32_indices(p, why, why_len);
}

static size_t topk_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    return cpu_workspace_bytes(topk_shared_bytes(p, a), topk_thread_bytes(p));
}

static int topk_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                      void *workspace, char *why, size_t why_len)
{
    return cpu_setup(&attn_cpu_topk, state, p, a, workspace);
}

static int topk_run(void *state, const struct attn_tensors *t, void *stream)
{
    struct cpu_state *st = state;
    const struct attn_problem *p = &st->p;
    const int64_t N = p->N, head = N * p->d, kk = st->a.k;
    struct cpu_arena shared = cpu_shared_arena(st);
    int32_t *keys = topk_carve_shared(p, &st->a, &shared);
    const size_t thread_bytes = topk_thread_bytes(p);

#pragma omp parallel for num_threads(st->threads)
    for (int64_t bh = 0; bh < cpu_heads(p); bh++) {
        struct cpu_arena ar = cpu_thread_arena(st, shared.used, thread_bytes);
        float *rows = topk_carve_thread(p, &ar);
        topk_head((const float *)t->q + bh * head, (const float *)t->k + bh * head,
                  (const float *)t->v + bh * head, (float *)t->o + bh * head,
                  keys + bh * N * kk, N, p->d, kk, rows);
    }
    st->has_run = 1;
    return 0;
}

static int topk_export_selection(void *state, struct attn_selection *out)
{
    const struct cpu_state *st = state;
    if (!st->has_run || !out->keys) return -1;
    struct cpu_arena shared = cpu_shared_arena(st);
    const int32_t *keys = topk_carve_shared(&st->p, &st->a, &shared);
    int64_t count = cpu_heads(&st->p) * st->p.N * st->a.k;
    memcpy(out->keys, keys, (size_t)count * sizeof(int32_t));
    return 0;
}

const struct attn_method attn_cpu_topk = {
    ATTN_IDENTITY_TOPK,
    .backend = ATTN_CPU,
    .state_size = sizeof(struct cpu_state),
    .validate = topk_validate,
    .workspace_bytes = topk_workspace_bytes,
    .setup = topk_setup,
    .run = topk_run,
    .export_selection = topk_export_selection,
};
