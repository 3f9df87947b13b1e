/* cpu_util.h — what the CPU methods in attn/cpu/ share: their state, the
 * layout of the workspace, the checks of what the CPU backend supports, and
 * the fp32 building blocks the methods are written from.
 *
 * Every building block works on one batch-head; the methods run them in an
 * OpenMP loop over batch x head. Per-thread scratch is carved from the
 * harness's workspace, which workspace_bytes() sizes for
 * omp_get_max_threads(): setup() records that count and run() never uses
 * more threads than it, so the harness must not raise the thread count
 * between workspace_bytes() and setup().
 */
#ifndef ATTN_CPU_UTIL_H
#define ATTN_CPU_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "attn.h"

/* What setup() keeps. `a.variant` is resolved to the method's own string,
 * so that the caller's string may go away after setup. */
struct cpu_state {
    struct attn_problem p;
    struct attn_params a;
    int threads;               /* per-thread scratch slices in the workspace */
    int has_run;               /* export_selection() needs a finished run */
    unsigned char *workspace;
};

/* ---- the operations every CPU method shares ---- */

/* attn_validate_common(), then what the CPU backend supports: host memory
 * and fp32. */
const char *cpu_validate(const struct attn_method *m, const struct attn_problem *p,
                         const struct attn_params *a, char *why, size_t why_len);

/* Fills a struct cpu_state for method `m`. Never fails. */
int cpu_setup(const struct attn_method *m, void *state, const struct attn_problem *p,
              const struct attn_params *a, void *workspace);


/* B * H: the length of every method's parallel loop. */
static inline int64_t cpu_heads(const struct attn_problem *p) { return (int64_t)p->B * p->H; }

/* ---- the workspace: a shared part, then one slice per thread ---- */

/* A bump allocator over a piece of the workspace. With base == NULL it only
 * measures, so that workspace_bytes() and run() share one layout. Sizes
 * saturate at SIZE_MAX instead of wrapping, so an impossible size fails in
 * the harness's malloc, cleanly. Every piece is 64-byte aligned. */
struct cpu_arena {
    unsigned char *base;
    size_t used;
};

size_t cpu_size_mul(size_t x, size_t y);
void *cpu_arena_take(struct cpu_arena *ar, size_t count, size_t elem_size);

/* Total bytes for a shared part and omp_get_max_threads() thread slices. */
size_t cpu_workspace_bytes(size_t shared_bytes, size_t thread_bytes);

/* The arena over the shared part / over the calling thread's slice. */
struct cpu_arena cpu_shared_arena(const struct cpu_state *st);
struct cpu_arena cpu_thread_arena(const struct cpu_state *st, size_t shared_bytes,
                                  size_t thread_bytes);

/* ---- fp32 building blocks ---- */

/* x·y with eight partial sums: the compiler can vectorize it without
 * reassociating a single sum, which it may not do for floats. */
static inline float cpu_dot(const float *x, const float *y, int d)
{
    float lane[8] = {0};
    int c = 0;
    for (; c + 8 <= d; c += 8)
        for (int l = 0; l < 8; l++) lane[l] += x[c + l] * y[c + l];
    float sum = 0;
    for (; c < d; c++) sum += x[c] * y[c];
    for (int l = 0; l < 8; l++) sum += lane[l];
    return sum;
}

/* y += a x */
static inline void cpu_axpy(float *y, float a, const float *x, int d)
{
    for (int c = 0; c < d; c++) y[c] += a * x[c];
}

/* y *= a */
static inline void cpu_scale(float *y, float a, int d)
{
    for (int c = 0; c < d; c++) y[c] *= a;
}

/* Rows of queries that share one pass over the keys in cpu_scores(), and
 * score rows that topk and the mita probe materialize at a time. */
enum { CPU_ROW_BLOCK = 16 };

// q: [nq,d]  k: [nk,d]  s: [nq,nk] = scale · q kᵀ
void cpu_scores(const float *q, int64_t nq, const float *k, int64_t nk, int d, float scale,
                float *s);

// x: [n], replaced by softmax(x)
void cpu_softmax(float *x, int64_t n);

// x: [N,d]  out: [m,d], the window means landmarks(x, m) (docs/methods.md, "Landmarks")
void cpu_landmarks(const float *x, int64_t N, int d, int64_t m, float *out);

// a: [n,p]  b: [p,q]  c: [n,q] = a b
void cpu_matmul(const float *a, const float *b, float *c, int64_t n, int64_t p, int64_t q);

/* softmax(q kᵀ scale) v by blocks of keys with an online softmax, so that
 * no score row is ever whole: the flash-attention schedule on a CPU.
 * q: [nq,d]  k, v: [nk,d]  o: [nq,d]
 * scratch: cpu_attend_scratch_floats(d) floats, 8-byte aligned (an arena's) */
int64_t cpu_attend_scratch_floats(int d);
void cpu_attend(const float *q, int64_t nq, const float *k, const float *v, int64_t nk, int d,
                float scale, float *o, float *scratch);

/* The k largest scores, best first; ties go to the lower index. A min-heap
 * of k candidates over one pass, then heapsort of those k only.
 * scores: [n]  idx: [k] */
void cpu_topk(const float *scores, int64_t n, int64_t k, int32_t *idx);

#endif
