/* cpu_util.c — the state, workspace layout and fp32 building blocks shared
 * by the CPU methods (cpu_util.h). */
#include "attn/cpu/cpu_util.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

/* ---- the operations every CPU method shares ---- */

const char *cpu_validate(const struct attn_method *m, const struct attn_problem *p,
                         const struct attn_params *a, char *why, size_t why_len)
{
    const char *err = attn_validate_common(m, p, a, why, why_len);
    if (err) return err;
    if (p->backend != ATTN_CPU) {
        snprintf(why, why_len, "backend=%s: this %s is the cpu backend's (need backend=cpu)",
                 attn_backend_name(p->backend), m->name);
        return why;
    }
    if (p->dtype != ATTN_FP32) {
        snprintf(why, why_len, "dtype=%s: the cpu backend supports fp32 only",
                 attn_dtype_name(p->dtype));
        return why;
    }
    return NULL;
}

int cpu_setup(const struct attn_method *m, void *state, const struct attn_problem *p,
              const struct attn_params *a, void *workspace)
{
    struct cpu_state *st = state;
    st->p = *p;
    st->a = *a;
    st->a.variant = attn_variant_of(m, a);
    st->threads = omp_get_max_threads();
    st->has_run = 0;
    st->workspace = workspace;
    return 0;
}

/* ---- the workspace ---- */

enum { CPU_ALIGN = 64 };

size_t cpu_size_mul(size_t x, size_t y)
{
    if (x != 0 && y > SIZE_MAX / x) return SIZE_MAX;
    return x * y;
}

static size_t size_add(size_t x, size_t y) { return x > SIZE_MAX - y ? SIZE_MAX : x + y; }

static size_t align_up(size_t x)
{
    return x > SIZE_MAX - (CPU_ALIGN - 1) ? SIZE_MAX : (x + CPU_ALIGN - 1) / CPU_ALIGN * CPU_ALIGN;
}

void *cpu_arena_take(struct cpu_arena *ar, size_t count, size_t elem_size)
{
    size_t offset = align_up(ar->used);
    ar->used = size_add(offset, cpu_size_mul(count, elem_size));
    return ar->base ? ar->base + offset : NULL;
}

size_t cpu_workspace_bytes(size_t shared_bytes, size_t thread_bytes)
{
    size_t threads = (size_t)omp_get_max_threads();
    return size_add(align_up(shared_bytes), cpu_size_mul(threads, align_up(thread_bytes)));
}

struct cpu_arena cpu_shared_arena(const struct cpu_state *st)
{
    return (struct cpu_arena){.base = st->workspace, .used = 0};
}

struct cpu_arena cpu_thread_arena(const struct cpu_state *st, size_t shared_bytes,
                                  size_t thread_bytes)
{
    size_t tid = (size_t)omp_get_thread_num();
    unsigned char *slice = st->workspace + align_up(shared_bytes) + tid * align_up(thread_bytes);
    return (struct cpu_arena){.base = slice, .used = 0};
}

/* ---- fp32 building blocks ---- */

void cpu_scores(const float *q, int64_t nq, const float *k, int64_t nk, int d, float scale,
                float *s)
{
    /* A block of query rows stays in L1 while each key row is read once for
     * the whole block. */
    for (int64_t i0 = 0; i0 < nq; i0 += CPU_ROW_BLOCK) {
        int64_t i1 = i0 + CPU_ROW_BLOCK < nq ? i0 + CPU_ROW_BLOCK : nq;
        for (int64_t j = 0; j < nk; j++)
            for (int64_t i = i0; i < i1; i++)
                s[i * nk + j] = scale * cpu_dot(q + i * d, k + j * d, d);
    }
}

void cpu_softmax(float *x, int64_t n)
{
    float max = -INFINITY;
    for (int64_t j = 0; j < n; j++) max = fmaxf(max, x[j]);
    float sum = 0;
    for (int64_t j = 0; j < n; j++) {
        x[j] = expf(x[j] - max);
        sum += x[j];
    }
    float inv = 1.0f / sum;
    for (int64_t j = 0; j < n; j++) x[j] *= inv;
}

void cpu_landmarks(const float *x, int64_t N, int d, int64_t m, float *out)
{
    for (int64_t j = 0; j < m; j++) {
        int64_t begin = attn_window_begin(j, N, m), end = attn_window_begin(j + 1, N, m);
        float *mean = out + j * d;
        memset(mean, 0, (size_t)d * sizeof(float));
        for (int64_t r = begin; r < end; r++) cpu_axpy(mean, 1.0f, x + r * d, d);
        cpu_scale(mean, 1.0f / (float)(end - begin), d);
    }
}

void cpu_matmul(const float *a, const float *b, float *c, int64_t n, int64_t p, int64_t q)
{
    for (int64_t i = 0; i < n; i++) {
        float *row = c + i * q;
        memset(row, 0, (size_t)q * sizeof(float));
        for (int64_t t = 0; t < p; t++) cpu_axpy(row, a[i * p + t], b + t * q, (int)q);
    }
}

/* Query rows per block and keys per block of cpu_attend(): a block of keys
 * and values (2 * 64 * d floats) is reused by all the block's queries. */
enum { ATTEND_QUERY_BLOCK = 32, ATTEND_KEY_BLOCK = 64 };

/* The sums over all keys (each row's weights and weighted values) are kept
 * in double, a key block's own 64 terms in float: a float sum of 2^20 weights
 * grows to where it moves in steps of 1/8 and rounds each term's variation
 * away (agent and nystrom were off by 3e-3 at N = 2^20, thirty times fp32's
 * bound). Layout: acc [query block, d] and row_sum [query block] as doubles
 * first (the arena aligns the scratch), then scores [query block, key block],
 * one row's block sum [d] and row_max [query block] as floats. */
int64_t cpu_attend_scratch_floats(int d)
{
    const int64_t doubles = (int64_t)ATTEND_QUERY_BLOCK * d + ATTEND_QUERY_BLOCK;
    return 2 * doubles + (int64_t)ATTEND_QUERY_BLOCK * ATTEND_KEY_BLOCK + d + ATTEND_QUERY_BLOCK;
}

void cpu_attend(const float *q, int64_t nq, const float *k, const float *v, int64_t nk, int d,
                float scale, float *o, float *scratch)
{
    double *acc = (double *)(void *)scratch;              /* [query block, d] */
    double *row_sum = acc + ATTEND_QUERY_BLOCK * d;        /* [query block] */
    float *s = (float *)(row_sum + ATTEND_QUERY_BLOCK);    /* [query block, key block] */
    float *block = s + ATTEND_QUERY_BLOCK * ATTEND_KEY_BLOCK; /* [d] */
    float *row_max = block + d;                            /* [query block] */

    for (int64_t i0 = 0; i0 < nq; i0 += ATTEND_QUERY_BLOCK) {
        int64_t rows = nq - i0 < ATTEND_QUERY_BLOCK ? nq - i0 : ATTEND_QUERY_BLOCK;
        for (int64_t r = 0; r < rows; r++) {
            row_max[r] = -INFINITY;
            row_sum[r] = 0;
        }
        for (int64_t e = 0; e < rows * d; e++) acc[e] = 0;

        for (int64_t j0 = 0; j0 < nk; j0 += ATTEND_KEY_BLOCK) {
            int64_t cols = nk - j0 < ATTEND_KEY_BLOCK ? nk - j0 : ATTEND_KEY_BLOCK;
            cpu_scores(q + i0 * d, rows, k + j0 * d, cols, d, scale, s);
            for (int64_t r = 0; r < rows; r++) {
                const float *sr = s + r * cols;
                double *acc_r = acc + r * d;
                float max = row_max[r];
                for (int64_t c = 0; c < cols; c++) max = fmaxf(max, sr[c]);
                /* Rescale what was summed under the old maximum. */
                const double correction = exp((double)row_max[r] - max);
                float block_sum = 0;
                memset(block, 0, (size_t)d * sizeof(float));
                for (int64_t c = 0; c < cols; c++) {
                    float w = expf(sr[c] - max);
                    block_sum += w;
                    cpu_axpy(block, w, v + (j0 + c) * d, d);
                }
                row_sum[r] = row_sum[r] * correction + block_sum;
                for (int c = 0; c < d; c++) acc_r[c] = acc_r[c] * correction + block[c];
                row_max[r] = max;
            }
        }

        for (int64_t r = 0; r < rows; r++) {
            float *out = o + (i0 + r) * d;
            for (int c = 0; c < d; c++) out[c] = (float)(acc[r * d + c] / row_sum[r]);
        }
    }
}

/* Index a ranks below index b: a lower score, or the same score at a higher
 * index (ties go to the lower index). */
static int ranks_below(const float *scores, int32_t a, int32_t b)
{
    return scores[a] < scores[b] || (scores[a] == scores[b] && a > b);
}

/* Restores the heap property below position i; the lowest-ranked index is
 * at the root. heap: [n] */
static void sift_down(const float *scores, int32_t *heap, int64_t n, int64_t i)
{
    for (;;) {
        int64_t lowest = i, left = 2 * i + 1, right = left + 1;
        if (left < n && ranks_below(scores, heap[left], heap[lowest])) lowest = left;
        if (right < n && ranks_below(scores, heap[right], heap[lowest])) lowest = right;
        if (lowest == i) return;
        int32_t t = heap[i];
        heap[i] = heap[lowest];
        heap[lowest] = t;
        i = lowest;
    }
}

void cpu_topk(const float *scores, int64_t n, int64_t k, int32_t *idx)
{
    for (int64_t j = 0; j < k; j++) idx[j] = (int32_t)j;
    for (int64_t j = k / 2 - 1; j >= 0; j--) sift_down(scores, idx, k, j);
    /* A later index never wins a tie against the heap's members: only a
     * strictly larger score replaces the lowest one. */
    for (int64_t j = k; j < n; j++) {
        if (scores[j] > scores[idx[0]]) {
            idx[0] = (int32_t)j;
            sift_down(scores, idx, k, 0);
        }
    }
    /* Heapsort: moving the lowest to the back leaves the best first. */
    for (int64_t end = k - 1; end > 0; end--) {
        int32_t t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        sift_down(scores, idx, end, 0);
    }
}
