/* measure.c — measures one sweep point (see measure.h). */
#include "measure/measure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git_rev.h"
#include "measure/profile.h"
#include "attn/method_call.h"
#include "attn/registry.h"
#include "measure/timeline.h"
#include "measure/timing.h"
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

/* Runs the measurement; returns the status text ("ok" or why not) in
 * row->status and the samples in `samples`. */
static void run_measurement(const struct sweep_point *pt, const struct attn_method *m,
                            struct backend *b, const struct measure_options *opt,
                            struct result_row *row, double *samples)
{
    char why[200] = "";
    struct point_memory mem = {0};
    const struct attn_problem *p = &pt->problem;
    struct attn_params params = pt->params;
    params.variant = pt->variant[0] ? pt->variant : NULL;
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
    int rc = 0;
    for (int which = 0; which < 3 && !rc; which++)
        rc = b->fill_random(b, which == 0 ? mem.q : which == 1 ? mem.k : mem.v, p->dtype, p->seed,
                            which, attn_tensor_elems(p));
    if (!rc) rc = b->poison(b, mem.o, tensor_bytes);
    if (rc) {
        snprintf(row->status, sizeof row->status, "error:filling inputs failed (%d)", rc);
        release_all(b, &mem);
        return;
    }
    struct attn_tensors t = {mem.q, mem.k, mem.v, mem.o};
    if (attn_method_setup(m, mem.state, p, &params, mem.workspace, why, sizeof why) != 0) {
        snprintf(row->status, sizeof row->status, "error:setup: %s", why);
    } else {
        char name[160];
        snprintf(name, sizeof name, "%s/%s/N=%lld", pt->method, pt->variant, (long long)p->N);
        rc = timing_take_samples(name, b, m, mem.state, &t, &opt->timing, samples, why,
                                 sizeof why);
        if (rc) snprintf(row->status, sizeof row->status, "error:%s", why);
        else snprintf(row->status, sizeof row->status, "ok");
        /* Counters after the timing, never during it (profile.h). */
        if (!rc && opt->profile)
            profile_point(b, m, mem.state, &t, 4 * tensor_bytes + workspace_bytes, row);
    }
    attn_method_teardown(m, mem.state);
    release_all(b, &mem);
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
    struct attn_params params = pt->params;
    params.variant = pt->variant[0] ? pt->variant : NULL;
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

    double samples[STATS_MAX_SAMPLES];
    timeline_point_begin(pt, b->stream);
    run_measurement(pt, m, b, opt, row, samples);
    timeline_range_end();
    if (strcmp(row->status, "ok") != 0) return;

    struct sample_stats s;
    sample_stats_compute(samples, opt->timing.samples, &s);
    row->reps = opt->timing.samples;
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
    for (int i = 0; i < opt->timing.samples && used + 24 < sizeof row->samples_ms; i++)
        used += snprintf(row->samples_ms + used, sizeof row->samples_ms - used, "%s%.6g",
                         i ? ";" : "", samples[i]);
    if (opt->profile) profile_roofline(row, opt->ceilings);
}
