/* nystrom.c — Nyström attention (Xiong et al. 2021) on the CPU:
 * O = F pinv(M) (G V) with F = softmax(Q K̃ᵀ s), M = softmax(Q̃ K̃ᵀ s),
 * G = softmax(Q̃ Kᵀ s). Evaluated right to left so that nothing N-sized is
 * materialized: G V and F W are attentions (cpu_attend) with
 * W = pinv(M) (G V); only the m x m matrices of the pinv iteration are whole.
 */
#include <math.h>
#include <string.h>

#include "attn/cpu/cpu_util.h"
#include "attn/methods.h"
#include "attn/registry.h"


struct nystrom_scratch {
    float *landmark_q, *landmark_k; /* Q̃, K̃: [m,d] */
    float *gv, *w;                  /* G V, pinv(M) G V: [m,d] */
    float *mm, *z, *x, *t, *u;      /* M, its pinv and the iteration's terms: [m,m] */
    float *attend;                  /* cpu_attend's scratch */
};

static void nystrom_carve_thread(const struct attn_problem *p, const struct attn_params *a,
                                 struct cpu_arena *ar, struct nystrom_scratch *s)
{
    size_t md = cpu_size_mul((size_t)a->m, (size_t)p->d);
    size_t mm = cpu_size_mul((size_t)a->m, (size_t)a->m);
    s->landmark_q = cpu_arena_take(ar, md, sizeof(float));
    s->landmark_k = cpu_arena_take(ar, md, sizeof(float));
    s->gv = cpu_arena_take(ar, md, sizeof(float));
    s->w = cpu_arena_take(ar, md, sizeof(float));
    s->mm = cpu_arena_take(ar, mm, sizeof(float));
    s->z = cpu_arena_take(ar, mm, sizeof(float));
    s->x = cpu_arena_take(ar, mm, sizeof(float));
    s->t = cpu_arena_take(ar, mm, sizeof(float));
    s->u = cpu_arena_take(ar, mm, sizeof(float));
    s->attend = cpu_arena_take(ar, (size_t)cpu_attend_scratch_floats(p->d), sizeof(float));
}

static size_t nystrom_thread_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    struct cpu_arena measure = {0};
    struct nystrom_scratch unused;
    nystrom_carve_thread(p, a, &measure, &unused);
    return measure.used;
}

// x: [n,n], replaced by c I - x
static void identity_minus(float c, float *x, int64_t n)
{
    for (int64_t i = 0; i < n * n; i++) x[i] = -x[i];
    for (int64_t i = 0; i < n; i++) x[i * n + i] += c;
}

/* The iteration of docs/methods.md ("nystrom"): Z₀ = Mᵀ / (max row sum ·
 * max column sum) of |M|, then Z ← ¼ Z (13I − MZ (15I − MZ (7I − MZ))).
 * mm, z: [m,m]  x, t, u: [m,m] scratch */
static void nystrom_pinv(const float *mm, float *z, float *x, float *t, float *u, int64_t m)
{
    float max_row = 0, max_col = 0;
    for (int64_t i = 0; i < m; i++) {
        float row = 0, col = 0;
        for (int64_t j = 0; j < m; j++) {
            row += fabsf(mm[i * m + j]);
            col += fabsf(mm[j * m + i]);
        }
        max_row = fmaxf(max_row, row);
        max_col = fmaxf(max_col, col);
    }
    float inv_norm = 1.0f / (max_row * max_col);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < m; j++) z[i * m + j] = mm[j * m + i] * inv_norm;

    for (int it = 0; it < ATTN_NYSTROM_PINV_ITERATIONS; it++) {
        cpu_matmul(mm, z, x, m, m, m); /* X = MZ */
        memcpy(t, x, (size_t)(m * m) * sizeof(float));
        identity_minus(7.0f, t, m);    /* T = 7I − X */
        cpu_matmul(x, t, u, m, m, m);
        identity_minus(15.0f, u, m);   /* U = 15I − X T */
        cpu_matmul(x, u, t, m, m, m);
        identity_minus(13.0f, t, m);   /* T = 13I − X U */
        cpu_matmul(z, t, u, m, m, m);
        for (int64_t i = 0; i < m * m; i++) z[i] = 0.25f * u[i];
    }
}

// q, k, v, o: [N,d]
static void nystrom_head(const float *q, const float *k, const float *v, float *o, int64_t N,
                         int d, int64_t m, const struct nystrom_scratch *s)
{
    const float scale = 1.0f / sqrtf((float)d);
    cpu_landmarks(q, N, d, m, s->landmark_q);
    cpu_landmarks(k, N, d, m, s->landmark_k);
    cpu_attend(s->landmark_q, m, k, v, N, d, scale, s->gv, s->attend);
    cpu_scores(s->landmark_q, m, s->landmark_k, m, d, scale, s->mm);
    for (int64_t i = 0; i < m; i++) cpu_softmax(s->mm + i * m, m);
    nystrom_pinv(s->mm, s->z, s->x, s->t, s->u, m);
    cpu_matmul(s->z, s->gv, s->w, m, m, d);
    cpu_attend(q, N, s->landmark_k, s->w, m, d, scale, o, s->attend);
}

static const char *nystrom_validate(const struct attn_problem *p, const struct attn_params *a,
                                    char *why, size_t why_len)
{
    return cpu_validate(&attn_cpu_nystrom, p, a, why, why_len);
}

static size_t nystrom_workspace_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    return cpu_workspace_bytes(0, nystrom_thread_bytes(p, a));
}

static int nystrom_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                         void *workspace, char *why, size_t why_len)
{
    return cpu_setup(&attn_cpu_nystrom, state, p, a, workspace);
}

static int nystrom_run(void *state, const struct attn_tensors *t, void *stream)
{
    const struct cpu_state *st = state;
    const struct attn_problem *p = &st->p;
    const int64_t head = p->N * p->d;
    const size_t thread_bytes = nystrom_thread_bytes(p, &st->a);

#pragma omp parallel for num_threads(st->threads)
    for (int64_t bh = 0; bh < cpu_heads(p); bh++) {
        struct cpu_arena ar = cpu_thread_arena(st, 0, thread_bytes);
        struct nystrom_scratch s;
        nystrom_carve_thread(p, &st->a, &ar, &s);
        nystrom_head((const float *)t->q + bh * head, (const float *)t->k + bh * head,
                     (const float *)t->v + bh * head, (float *)t->o + bh * head, p->N, p->d,
                     st->a.m, &s);
    }
    return 0;
}

const struct attn_method attn_cpu_nystrom = {
    ATTN_IDENTITY_NYSTROM,
    .backend = ATTN_CPU,
    .state_size = sizeof(struct cpu_state),
    .validate = nystrom_validate,
    .workspace_bytes = nystrom_workspace_bytes,
    .setup = nystrom_setup,
    .run = nystrom_run,
};
