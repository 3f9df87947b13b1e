/* timing.c — the measurement rules (see timing.h). */
#include "measure/timing.h"

#include "measure/gbench_shim.h"

struct timing_rules timing_rules_for(enum attn_backend kind, int warmup, int samples)
{
    return (struct timing_rules){.warmup = warmup, .samples = samples, .cold = kind == ATTN_CUDA};
}

/* What one timed sample needs. */
struct sample_context {
    struct backend *b;
    const struct attn_method *m;
    void *state;
    const struct attn_tensors *t;
    int cold;
};

static int take_sample(void *ctx, double *ms, char *why, size_t why_len)
{
    struct sample_context *c = ctx;
    int rc = c->cold ? c->b->flush_cache(c->b, why, why_len) : 0;
    return rc ? rc : c->b->time_run(c->b, c->m, c->state, c->t, ms, why, why_len);
}

int timing_take_samples(const char *name, struct backend *b, const struct attn_method *m,
                        void *state, const struct attn_tensors *t,
                        const struct timing_rules *rules, double *samples_ms, char *why,
                        size_t why_len)
{
    struct sample_context ctx = {b, m, state, t, rules->cold};
    int rc = 0;
    double ms;
    for (int i = 0; i < rules->warmup && !rc; i++) rc = take_sample(&ctx, &ms, why, why_len);
    if (!rc) rc = b->sync(b, why, why_len);
    if (!rc)
        rc = gbench_measure(name, rules->samples, take_sample, &ctx, samples_ms, why, why_len);
    if (!rc) rc = b->sync(b, why, why_len);
    return rc;
}
