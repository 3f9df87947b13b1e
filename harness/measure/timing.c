/* timing.c — the measurement rules (see timing.h). */
#include "measure/timing.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attn/method_call.h"
#include "measure/gbench_shim.h"

const char *timing_mode_name(int mode)
{
    static const char *const names[TIMING_MODE_COUNT] = {"events", "graph"};
    return mode >= 0 && mode < TIMING_MODE_COUNT ? names[mode] : "?";
}

const char *stop_reason_name(enum stop_reason r)
{
    static const char *const names[] = {"budget", "max-samples", "noise", "time"};
    return names[r];
}

struct timing_rules timing_rules_for(enum attn_backend kind, int warmup, int reps,
                                     double max_noise_pct, int min_samples, int max_samples,
                                     double min_time_s, enum timing_mode mode,
                                     int discard_throttled)
{
    struct timing_rules r = {
        .warmup = warmup, .max_noise_pct = max_noise_pct, .min_samples = min_samples,
        .min_time_s = min_time_s, .cold = kind == ATTN_CUDA && mode == TIMING_EVENTS,
        .mode = mode, .discard_throttled = discard_throttled,
    };
    r.cap = timing_is_fixed(&r) ? reps : max_samples;
    return r;
}

int timing_is_fixed(const struct timing_rules *r)
{
    return !(r->max_noise_pct > 0) && !(r->min_time_s > 0);
}

/* What one sample needs, and where it goes. */
struct sampler {
    struct backend *b;
    const struct attn_method *m;
    void *state;
    const struct attn_tensors *t;
    const struct timing_rules *rules;
    int readings;                  /* NVML is open */
    struct timing_result *res;
};

/* One forward (events), or one replay of the graph, per forward. */
static int time_one(struct sampler *s, double *ms, char *why, size_t why_len)
{
    if (s->rules->mode == TIMING_GRAPH) {
        int rc = s->b->graph_replay(s->b, ms, why, why_len);
        *ms /= s->res->replicas;
        return rc;
    }
    int rc = s->rules->cold ? s->b->flush_cache(s->b, why, why_len) : 0;
    return rc ? rc : s->b->time_run(s->b, s->m, s->state, s->t, ms, why, why_len);
}

/* A sample for Google Benchmark: timed, read, kept or discarded. */
static int take_sample(void *ctx, double *ms, char *why, size_t why_len)
{
    struct sampler *s = ctx;
    int rc = time_one(s, ms, why, why_len);
    if (rc) return rc;
    struct timing_result *res = s->res;
    struct gpu_reading reading = {0};
    if (s->readings && nvml_read(&reading) != 0) {
        s->readings = 0;
        snprintf(res->note, sizeof res->note, "NVML stopped answering during the samples");
    }
    if (s->readings && reading.throttled && s->rules->discard_throttled) {
        res->discarded++;
        return 0;
    }
    if (res->n == STATS_MAX_SAMPLES) return 0;
    res->throttled += s->readings && reading.throttled;
    res->readings[res->n] = reading;
    res->ms[res->n++] = *ms;
    return 0;
}

static double sum(const double *x, int n)
{
    double total = 0;
    for (int i = 0; i < n; i++) total += x[i];
    return total;
}

/* The rule's verdict after a round: 1 and the reason when sampling stops. */
static int should_stop(const struct timing_rules *r, struct timing_result *res, int taken)
{
    res->noise_pct = sample_noise_pct(res->ms, res->n);
    const double seconds = sum(res->ms, res->n) * res->replicas * 1e-3;
    const int enough = res->n >= r->min_samples && seconds >= r->min_time_s;
    if (res->n >= r->cap || taken >= 2 * STATS_MAX_SAMPLES) {
        res->stop = r->capped_by_budget ? STOP_BUDGET : STOP_MAX_SAMPLES;
        return 1;
    }
    if (timing_is_fixed(r)) return 0;
    if (r->max_noise_pct > 0) {
        if (enough && res->noise_pct <= r->max_noise_pct) {
            res->stop = STOP_NOISE;
            return 1;
        }
        return 0;
    }
    if (enough) res->stop = STOP_TIME;
    return enough;
}

/* The next round's size: all of a fixed count at once; else the minimum
 * first, then a quarter more each round, so that the rule is checked often
 * while few samples are in and rarely once many are. */
static int round_size(const struct timing_rules *r, const struct timing_result *res)
{
    const int left = r->cap - res->n;
    int size = timing_is_fixed(r) ? left : res->n == 0 ? r->min_samples : res->n / 4;
    if (size < 1) size = 1;
    return size < left ? size : left;
}

/* R forwards per graph sample, from the warm-up's time of one forward. */
static int graph_replicas(double one_ms)
{
    if (!(one_ms > 0)) return TIMING_GRAPH_MAX_REPLICAS;
    double r = ceil(TIMING_GRAPH_SAMPLE_MS / one_ms);
    return r < 1 ? 1 : r > TIMING_GRAPH_MAX_REPLICAS ? TIMING_GRAPH_MAX_REPLICAS : (int)r;
}

double timing_energy_from_counter(uint64_t mj_before, uint64_t mj_after, double count)
{
    return (double)(mj_after - mj_before) * 1e-3 / count;
}

double timing_energy_from_power(double power_w, double ms) { return power_w * ms * 1e-3; }

/* Energy per forward: the counter over forwards back to back, else the
 * median power times the median time. */
static void measure_energy(struct sampler *s, char *why, size_t why_len)
{
    struct timing_result *res = s->res;
    res->energy_j = NAN;
    if (!s->readings || res->n == 0) return;
    const double median_ms = sample_median(res->ms, res->n);
    uint64_t before, after;
    double seconds = 0;
    double count = ceil(TIMING_ENERGY_S / (median_ms * 1e-3));
    if (count > 100000) count = 100000;
    if (nvml_energy_mj(&before) == 0 &&
        s->b->run_many(s->b, s->m, s->state, s->t, (int)count, &seconds, why, why_len) == 0 &&
        nvml_energy_mj(&after) == 0 && after > before) {
        res->energy_j = timing_energy_from_counter(before, after, count);
        res->energy_from_counter = 1;
        return;
    }
    double power[STATS_MAX_SAMPLES];
    for (int i = 0; i < res->n; i++) power[i] = res->readings[i].power_w;
    res->energy_j = timing_energy_from_power(sample_median(power, res->n), median_ms);
}

int timing_take_samples(const char *name, struct backend *b, const struct device_info *device,
                        const struct attn_method *m, void *state,
                        const struct attn_tensors *t, const struct timing_rules *rules,
                        struct timing_result *res, char *why, size_t why_len)
{
    memset(res, 0, sizeof *res);
    res->replicas = 1;
    res->energy_j = NAN;
    struct sampler s = {b, m, state, t, rules, 0, res};
    s.readings = nvml_open(device->pci_bus_id, res->note, sizeof res->note) == 0;

    /* Warm-up, by events (its times size the graph). */
    double warm_ms = 0;
    int rc = 0;
    for (int i = 0; i < rules->warmup && !rc; i++) {
        rc = rules->cold ? b->flush_cache(b, why, why_len) : 0;
        if (!rc) rc = b->time_run(b, m, state, t, &warm_ms, why, why_len);
    }
    if (!rc) rc = b->sync(b, why, why_len);
    if (!rc && rules->mode == TIMING_GRAPH) {
        if (!b->graph_capture) {
            snprintf(why, why_len, "timing graph needs CUDA graphs: the %s backend has none",
                     attn_backend_name(b->kind));
            return -1;
        }
        if (warm_ms <= 0) rc = b->time_run(b, m, state, t, &warm_ms, why, why_len);
        res->replicas = graph_replicas(warm_ms);
        if (!rc) rc = b->graph_capture(b, m, state, t, res->replicas, why, why_len);
    }
    int taken = 0;
    while (!rc) {
        const int size = round_size(rules, res);
        const int before = res->n + res->discarded;
        double unused[STATS_MAX_SAMPLES];
        rc = gbench_measure(name, size, take_sample, &s, unused, why, why_len);
        taken += res->n + res->discarded - before;
        if (!rc && should_stop(rules, res, taken)) break;
    }
    if (rules->mode == TIMING_GRAPH && b->graph_release) b->graph_release(b);
    if (!rc) rc = b->sync(b, why, why_len);
    if (!rc && res->n == 0) {
        snprintf(why, why_len, "every one of %d samples was taken while the GPU throttled "
                               "(--discard-throttled left them all out)", res->discarded);
        rc = -1;
    }
    res->has_readings = s.readings;
    if (!rc) measure_energy(&s, why, why_len);
    return rc;
}
