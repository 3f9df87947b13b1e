/* local_window.c — an example attnbench plugin: sliding-window attention on
 * the CPU, built as a shared object and loaded with
 *
 *     attnbench run --plugin build/attn/examples/libattn_local_window.so \
 *                   --methods local_window --backend cpu
 *
 * Query i attends to keys [i - k, i + k] (clamped to the sequence), so with
 * k = N it is full attention: the plugin test checks exactly that. It is
 * deliberately plain fp32 C: the point is the shape of a plugin — one static
 * struct attn_method, one exported entry function — not speed.
 */
#include <math.h>
#include <stdio.h>

#include "attn.h"

static const char *local_validate(const struct attn_problem *p, const struct attn_params *a,
                                  char *why, size_t why_len);

static size_t local_workspace(const struct attn_problem *p, const struct attn_params *a)
{
    (void)a;
    return 0;
}

static int local_run(void *state, const struct attn_tensors *t, void *stream);

/* The run needs the shape; setup keeps a copy in the harness-owned state. */
struct local_state {
    struct attn_problem p;
    int64_t k;
};

static int local_setup(void *state, const struct attn_problem *p, const struct attn_params *a,
                       void *workspace, char *why, size_t why_len)
{
    struct local_state *s = state;
    s->p = *p;
    s->k = a->k;
    return 0;
}

/* 2·d FLOPs per score and per output accumulation, for (2k+1) keys at most. */
static double local_flops(const struct attn_problem *p, const struct attn_params *a)
{
    int64_t window = 2 * a->k + 1 < p->N ? 2 * a->k + 1 : p->N;
    return 4.0 * p->B * p->H * (double)p->N * (double)window * p->d;
}

static double local_bytes(const struct attn_problem *p, const struct attn_params *a)
{
    return 4.0 * p->B * p->H * (double)p->N * p->d * attn_dtype_size(p->dtype);
}

static const char *const no_variants[] = {NULL};

static const struct attn_method local_window_method = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "local_window",
    .description = "example plugin: sliding-window attention, keys [i-k, i+k] (CPU, fp32)",
    .variants = no_variants,
    .backend = ATTN_CPU,
    .uses = ATTN_USES_K,
    .state_size = sizeof(struct local_state),
    .validate = local_validate,
    .workspace_bytes = local_workspace,
    .setup = local_setup,
    .run = local_run,
    .flops = local_flops,
    .bytes = local_bytes,
    /* Sliding-window attention is none of attnbench's definitions (it is
     * full attention only at k = N): `check` and `run --verify` have
     * nothing to hold it to, and say so. A method that computes one sets
     * its name here ("full", "mita", ...). */
    .computes = NULL,
};

static const char *local_validate(const struct attn_problem *p, const struct attn_params *a,
                                  char *why, size_t why_len)
{
    const char *bad = attn_validate_common(&local_window_method, p, a, why, why_len);
    if (bad) return bad;
    if (p->dtype != ATTN_FP32) {
        snprintf(why, why_len, "dtype=%s: local_window runs in fp32 only", attn_dtype_name(p->dtype));
        return why;
    }
    return NULL;
}

// q, k, v, o: [B,H,N,d] fp32
static int local_run(void *state, const struct attn_tensors *t, void *stream)
{
    const struct local_state *s = state;
    const int64_t N = s->p.N, d = s->p.d;
    const float scale = 1.0f / sqrtf((float)d);
    for (int64_t bh = 0; bh < (int64_t)s->p.B * s->p.H; bh++) {
        const float *q = (const float *)t->q + bh * N * d;
        const float *k = (const float *)t->k + bh * N * d;
        const float *v = (const float *)t->v + bh * N * d;
        float *o = (float *)t->o + bh * N * d;
        for (int64_t i = 0; i < N; i++) {
            int64_t lo = i - s->k < 0 ? 0 : i - s->k;
            int64_t hi = i + s->k >= N ? N - 1 : i + s->k;
            /* Online softmax over the window: one pass, no score buffer. */
            float running_max = -INFINITY, denom = 0.0f;
            float *oi = o + i * d;
            for (int64_t c = 0; c < d; c++) oi[c] = 0.0f;
            for (int64_t j = lo; j <= hi; j++) {
                float score = 0.0f;
                for (int64_t c = 0; c < d; c++) score += q[i * d + c] * k[j * d + c];
                score *= scale;
                float new_max = score > running_max ? score : running_max;
                float rescale = expf(running_max - new_max), w = expf(score - new_max);
                denom = denom * rescale + w;
                for (int64_t c = 0; c < d; c++) oi[c] = oi[c] * rescale + w * v[j * d + c];
                running_max = new_max;
            }
            for (int64_t c = 0; c < d; c++) oi[c] /= denom;
        }
    }
    return 0;
}

static const struct attn_method *const plugin_methods[] = {&local_window_method, NULL};

static const struct attn_plugin plugin = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "local_window example",
    .methods = plugin_methods,
};

const struct attn_plugin *attnbench_plugin(void) { return &plugin; }
