/* measure.c — measures one sweep point (see measure.h). */
#include "measure/measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git_rev.h"
#include "measure/load_inputs.h"
#include "measure/profile.h"
#include "measure/selection_stats.h"
#include "attn/method_call.h"
#include "attn/registry.h"
#include "measure/timeline.h"
#include "measure/timing.h"
#include "measure/verify.h"
#include "core/stats.h"
#include "core/clock.h"

/* Everything a point allocates, released in one place. */
struct point_memory {
    void *q, *k, *v, *o, *workspace, *state;
};

static void release_all(struct backend *b, struct point_memory *mem)
{
    void *device_buffers[] = {mem->q, mem->k, mem->v, mem->o, mem->workspace};
    for (size_t i = 0; i < sizeof device_buffers / sizeof *device_buffers; i++)
        if (device_buffers[i]) b->release(device_buffers[i]);
    free(mem->state);
}

/* MiTA's routing statistics from what the last run chose; after the timed
 * samples, never in them. A row of another method, or a selection that
 * cannot be read, keeps its columns empty. */
static void mita_selection_stats(const struct sweep_point *pt, const struct attn_method *m,
                                 void *state, struct result_row *row)
{
    const char *computes = attn_method_computes(m);
    if (!computes || strcmp(computes, "mita") != 0 || !attn_method_has_selection(m)) return;
    const struct attn_problem *p = &pt->problem;
    const int64_t heads = (int64_t)p->B * p->H, n_experts = pt->params.m, k = pt->params.k;
    const int s_r = pt->params.s_r;
    struct attn_selection sel = {
        malloc((size_t)heads * (size_t)n_experts * (size_t)k * sizeof(int32_t)),
        malloc((size_t)heads * (size_t)p->N * (size_t)s_r * sizeof(int32_t)),
    };
    struct selection_stats stats;
    if (sel.keys && sel.routes && attn_method_export_selection(m, state, &sel) == 0 &&
        selection_stats_compute(&sel, heads, p->N, n_experts, k, s_r, &stats) == 0) {
        row->has_selection_stats = 1;
        row->route_imbalance = stats.route_imbalance;
        row->expert_overlap = stats.expert_overlap;
    }
    free(sel.keys);
    free(sel.routes);
}

/* Runs the measurement; returns the status text ("ok" or why not) in
 * row->status, the samples in `res` and, with opt->verify, what the check
 * of the output found in `verified`. */
static void run_measurement(const struct sweep_point *pt, const struct attn_method *m,
                            struct backend *b, const struct device_info *device,
                            const struct measure_options *opt, struct result_row *row,
                            struct timing_result *res, struct verify_result *verified)
{
    char why[512] = "";
    struct point_memory mem = {0};
    const struct attn_problem *p = &pt->problem;
    struct attn_params params = point_params(pt);
    size_t tensor_bytes = (size_t)attn_tensor_elems(p) * attn_dtype_size(p->dtype);
    size_t workspace_bytes = attn_method_workspace_bytes(m, p, &params);

    mem.q = b->alloc(tensor_bytes);
    mem.k = mem.q ? b->alloc(tensor_bytes) : NULL;
    mem.v = mem.k ? b->alloc(tensor_bytes) : NULL;
    mem.o = mem.v ? b->alloc(tensor_bytes) : NULL;
    mem.workspace = mem.o ? b->alloc(workspace_bytes) : NULL;
    mem.state = calloc(1, m->state_size ? m->state_size : 1);
    if (!mem.workspace || !mem.state) {
        snprintf(row->status, sizeof row->status, "oom");
        release_all(b, &mem);
        return;
    }
    const enum load_inputs_status loaded =
        load_inputs(b, pt, (void *const[3]){mem.q, mem.k, mem.v}, why, sizeof why);
    int rc = loaded == LOAD_INPUTS_OK ? b->poison(b, mem.o, tensor_bytes) : 0;
    if (loaded != LOAD_INPUTS_OK || rc) {
        if (loaded == LOAD_INPUTS_INVALID)
            snprintf(row->status, sizeof row->status, "invalid:%s", why);
        else if (loaded == LOAD_INPUTS_FAILED)
            snprintf(row->status, sizeof row->status, "error:%s", why);
        else
            snprintf(row->status, sizeof row->status, "error:poisoning the output failed (%d)", rc);
        release_all(b, &mem);
        return;
    }
    struct attn_tensors t = {mem.q, mem.k, mem.v, mem.o};
    if (attn_method_setup(m, mem.state, p, &params, mem.workspace, why, sizeof why) != 0) {
        snprintf(row->status, sizeof row->status, "error:setup: %s", why);
    } else {
        char name[160];
        snprintf(name, sizeof name, "%s/%s/N=%lld", pt->method, pt->variant, (long long)p->N);
        rc = timing_take_samples(name, b, device, m, mem.state, &t, &opt->timing, res, why,
                                 sizeof why);
        if (rc) snprintf(row->status, sizeof row->status, "error:%s", why);
        else snprintf(row->status, sizeof row->status, "ok");
        /* What ran, after the timing (profile.h). */
        if (!rc && opt->kernel_names) rc = profile_kernel_names(b, m, mem.state, &t, row);
        /* Counters after the timing, never during it (profile.h). */
        if (!rc && opt->profile)
            profile_point(b, m, mem.state, &t, 4 * tensor_bytes + workspace_bytes, row);
        /* The output of the last run, after the samples too; its memory is
         * released before it returns. */
        if (!rc && opt->verify) verify_output(m, mem.state, p, &params, b, &t, verified);
        if (!rc) mita_selection_stats(pt, m, mem.state, row);
    }
    attn_method_teardown(m, mem.state);
    release_all(b, &mem);
}

/* The median of field `get` over the kept samples' readings. */
static double reading_median(const struct timing_result *res,
                             double (*get)(const struct gpu_reading *r))
{
    double x[STATS_MAX_SAMPLES];
    for (int i = 0; i < res->n; i++) x[i] = get(&res->readings[i]);
    return sample_median(x, res->n);
}

static double sm_mhz(const struct gpu_reading *r) { return r->sm_mhz; }
static double mem_mhz(const struct gpu_reading *r) { return r->mem_mhz; }
static double power_w(const struct gpu_reading *r) { return r->power_w; }

/* The row's figures from the samples. */
static void summarize(const struct timing_rules *rules, const struct timing_result *res,
                      struct result_row *row)
{
    struct sample_stats s;
    sample_stats_compute(res->ms, res->n, &s);
    row->reps = res->n;
    row->ms_median = s.median;
    row->ms_min = s.min;
    row->ms_max = s.max;
    row->ms_stddev = s.stddev;
    row->ms_p10 = s.p10;
    row->ms_p90 = s.p90;
    row->tflops = row->flops_model / (s.median * 1e-3) / 1e12;
    row->gbps = row->bytes_model / (s.median * 1e-3) / 1e9;
    size_t used = 0;
    row->samples_ms[0] = 0;
    for (int i = 0; i < res->n && used + 24 < sizeof row->samples_ms; i++)
        used += snprintf(row->samples_ms + used, sizeof row->samples_ms - used, "%s%.6g",
                         i ? ";" : "", res->ms[i]);
    for (int i = 0; i < res->n; i++) row->sample_ms[i] = res->ms[i];

    snprintf(row->timing, sizeof row->timing, "%s", timing_mode_name(rules->mode));
    row->replicas = res->replicas;
    row->noise_pct = res->noise_pct;
    snprintf(row->stop_reason, sizeof row->stop_reason, "%s", stop_reason_name(res->stop));
    row->throttled_samples = res->throttled;
    row->discarded_samples = res->discarded;
    snprintf(row->gpu_note, sizeof row->gpu_note, "%s", res->note);
    row->has_readings = res->has_readings;
    if (res->has_readings) {
        row->sm_clock_median_mhz = reading_median(res, sm_mhz);
        row->mem_clock_median_mhz = reading_median(res, mem_mhz);
        row->power_median_w = reading_median(res, power_w);
        row->temp_max_c = 0;
        for (int i = 0; i < res->n; i++) {
            const struct gpu_reading *r = &res->readings[i];
            if (r->temp_c > row->temp_max_c) row->temp_max_c = r->temp_c;
            row->sample_sm_mhz[i] = (float)r->sm_mhz;
            row->sample_power_w[i] = (float)r->power_w;
            row->sample_throttled[i] = (unsigned char)r->throttled;
        }
    }
    row->energy_j = res->energy_j;
    row->energy_from_counter = res->energy_from_counter;
    /* FLOP/s per watt = FLOPs per forward over joules per forward. */
    row->tflops_per_w = res->energy_j > 0 ? row->flops_model / res->energy_j / 1e12 : NAN;
}

/* The row's verification columns; a wrong output's or a failed check's
 * status (verify.h). */
static void record_verification(const struct verify_result *v, struct result_row *row)
{
    row->verify_error = v->error;
    row->verify_s = v->seconds;
    switch (v->outcome) {
    case VERIFY_OK: snprintf(row->verify, sizeof row->verify, "ok"); break;
    case VERIFY_WRONG:
        snprintf(row->verify, sizeof row->verify, "wrong");
        snprintf(row->status, sizeof row->status, "wrong:%s", v->detail);
        break;
    case VERIFY_NONE: snprintf(row->verify, sizeof row->verify, "none:%s", v->detail); break;
    case VERIFY_OOM: snprintf(row->verify, sizeof row->verify, "oom:%s", v->detail); break;
    case VERIFY_ERROR:
        snprintf(row->verify, sizeof row->verify, "error");
        snprintf(row->status, sizeof row->status, "error:verify: %s", v->detail);
        break;
    }
}

void measure_point(const struct sweep_point *pt, struct backend *b,
                   const struct device_info *device, const struct measure_options *opt,
                   struct result_row *row)
{
    char why[200];
    row->point = *pt;
    snprintf(row->device, sizeof row->device, "%s", device->name);
    snprintf(row->driver, sizeof row->driver, "%s", device->driver);
    snprintf(row->runtime, sizeof row->runtime, "%s", device->runtime);
    row->sm_clock_mhz = device->sm_clock_mhz;
    snprintf(row->git_rev, sizeof row->git_rev, "%s", ATTN_GIT_REV);
    utc_timestamp(row->timestamp, sizeof row->timestamp);
    row->reps = 0;

    const struct attn_method *m = attn_method_find(pt->method, pt->problem.backend);
    struct attn_params params = point_params(pt);
    if (!m) {
        snprintf(row->status, sizeof row->status, "invalid:no method '%s' on backend %s",
                 pt->method, attn_backend_name(pt->problem.backend));
        return;
    }
    const char *bad = attn_method_validate(m, &pt->problem, &params, why, sizeof why);
    if (bad) {
        snprintf(row->status, sizeof row->status, "invalid:%s", bad);
        return;
    }
    row->flops_model = attn_method_flops(m, &pt->problem, &params);
    row->bytes_model = attn_method_bytes(m, &pt->problem, &params);

    static struct timing_result res; /* large for the stack */
    struct verify_result verified;
    timeline_point_begin(pt, b->stream);
    run_measurement(pt, m, b, device, opt, row, &res, &verified);
    timeline_range_end();
    if (strcmp(row->status, "ok") != 0) return;
    summarize(&opt->timing, &res, row);
    if (opt->profile) profile_roofline(row, opt->ceilings);
    if (opt->verify) record_verification(&verified, row);
}
