/* profile.c — the profiling pass, its sums, the roofline columns and the
 * steps file (see profile.h). */
#include "measure/profile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "attn/method_call.h"
#include "config.h"
#include "measure/timeline.h"

#if HAVE_CUPTI
#include <cuda_runtime_api.h>

#include "measure/profiler.h"
#endif

/* Appends "; text" (or text) to the row's note. */
static void note(struct result_row *row, const char *fmt, ...)
{
    size_t used = strlen(row->profile_note);
    if (used && used + 2 < sizeof row->profile_note) {
        memcpy(row->profile_note + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(row->profile_note + used, sizeof row->profile_note - used, fmt, ap);
    va_end(ap);
}

#if HAVE_CUPTI

struct profiled_run {
    struct backend *b;
    const struct attn_method *m;
    void *state;
    const struct attn_tensors *t;
};

static int run_and_wait(void *ctx, char *why, size_t why_len)
{
    struct profiled_run *r = ctx;
    int rc = attn_method_run(r->m, r->state, r->t, r->b->stream);
    if (rc) {
        snprintf(why, why_len, "%s run(): %s", r->m->name, cudaGetErrorName((cudaError_t)rc));
        return rc;
    }
    return r->b->sync(r->b, why, why_len);
}

/* The (step, kernel) entry of `k` in row->steps, added when new; the last
 * entry takes every kernel beyond RESULT_MAX_STEPS pairs. */
static struct profile_step *step_entry(struct result_row *row, const struct profiler_kernel *k)
{
    for (int i = 0; i < row->step_count; i++)
        if (!strcmp(row->steps[i].step, k->step) && !strcmp(row->steps[i].kernel, k->name))
            return &row->steps[i];
    if (row->step_count == RESULT_MAX_STEPS) {
        struct profile_step *last = &row->steps[RESULT_MAX_STEPS - 1];
        snprintf(last->step, sizeof last->step, "(more)");
        snprintf(last->kernel, sizeof last->kernel, "(more kernels)");
        return last;
    }
    struct profile_step *s = &row->steps[row->step_count++];
    snprintf(s->step, sizeof s->step, "%s", k->step);
    snprintf(s->kernel, sizeof s->kernel, "%s", k->name);
    return s;
}

/* The sums of a point, and of each of its (step, kernel) pairs. */
static void sum_kernels(const struct profiler_result *res, struct result_row *row)
{
    int flops_known = res->count > 0;
    for (int i = 0; i < res->count; i++) {
        const struct profiler_kernel *k = &res->kernels[i];
        row->dram_read_bytes += k->dram_read_bytes;
        row->dram_write_bytes += k->dram_write_bytes;
        row->l2_bytes += k->l2_bytes;
        row->kernel_ms += k->ms;
        row->flops_measured += k->flops;
        flops_known &= !isnan(k->flops);
        /* The gather step (MiTA's step 6; docs/methods.md, "Step names"):
         * by its step, or by a kernel named after it where the method names
         * no steps. */
        if (strstr(k->step, "gather") || strstr(k->name, "gather"))
            row->gather_dram_bytes += k->dram_read_bytes + k->dram_write_bytes;
        struct profile_step *s = step_entry(row, k);
        s->launches++;
        s->dram_read_bytes += k->dram_read_bytes;
        s->dram_write_bytes += k->dram_write_bytes;
        s->l2_bytes += k->l2_bytes;
        s->kernel_ms += k->ms;
        s->flops += k->flops; /* NAN stays NAN: no FLOP counters */
    }
    row->has_counters = 1;
    row->has_flops_measured = flops_known;
}

void profile_point(struct backend *b, const struct attn_method *m, void *state,
                   const struct attn_tensors *t, size_t working_set_bytes,
                   struct result_row *row)
{
    if (b->kind != ATTN_CUDA) {
        note(row, "no hardware counters on the %s backend", attn_backend_name(b->kind));
        return;
    }
    char why[256];
    if (profiler_open(why, sizeof why) != 0) {
        note(row, "counters unavailable: %s", why);
        return;
    }
    struct profiled_run run = {b, m, state, t};
    struct profiler_result res;
    timeline_range_begin("profile");
    int rc = profiler_measure(run_and_wait, &run, &res, why, sizeof why);
    timeline_range_end();
    /* Once per process: what CUPTI's set-up and a profiled run cost here. */
    static int costs_said;
    if (!costs_said) {
        char costs[512];
        profiler_costs(costs, sizeof costs);
        fprintf(stderr, "attnbench: --profile: CUPTI %s\n", costs);
        costs_said = 1;
    }
    if (rc) {
        note(row, "counters unavailable: %s", why);
        return;
    }
    sum_kernels(&res, row);
    if (res.note[0]) note(row, "%s", res.note);
    profiler_result_free(&res);
    /* CUDA 13.0's profiler does not flush L2 between its replay passes: what
     * fits in L2 is partly read from there, and counted short in DRAM. */
    const size_t l2 = profiler_l2_bytes();
    if (l2 && working_set_bytes < 2 * l2)
        note(row, "dram may read low: working set %.1f MB < 2x L2 (%.0f MB)",
             working_set_bytes / 1e6, l2 / 1e6);
}

int profile_kernel_names(struct backend *b, const struct attn_method *m, void *state,
                         const struct attn_tensors *t, struct result_row *row)
{
    row->kernels[0] = '\0';
    if (b->kind != ATTN_CUDA) return 0;
    struct profiled_run run = {b, m, state, t};
    char why[256];
    int run_failed;
    if (profiler_launch_names(run_and_wait, &run, row->kernels, sizeof row->kernels, &run_failed,
                              why, sizeof why) == 0)
        return 0;
    if (run_failed) {
        snprintf(row->status, sizeof row->status, "error:the run naming its kernels: %.200s", why);
        return -1;
    }
    static int said;
    if (!said++)
        fprintf(stderr, "attnbench: the kernels column stays empty: %s\n", why);
    return 0;
}

#else

int profile_kernel_names(struct backend *b, const struct attn_method *m, void *state,
                         const struct attn_tensors *t, struct result_row *row)
{
    (void)b;
    (void)m;
    (void)state;
    (void)t;
    row->kernels[0] = '\0';
    return 0;
}

void profile_point(struct backend *b, const struct attn_method *m, void *state,
                   const struct attn_tensors *t, size_t working_set_bytes,
                   struct result_row *row)
{
    (void)m;
    (void)state;
    (void)t;
    (void)working_set_bytes;
    if (b->kind != ATTN_CUDA)
        note(row, "no hardware counters on the %s backend", attn_backend_name(b->kind));
    else
        note(row, "no hardware counters: this build has no CUPTI (rebuild with -Dcupti=enabled "
                  "and CUPTI from the CUDA toolkit)");
}

#endif

void profile_roofline(struct result_row *row, const struct ceilings *c)
{
    const double bytes = row->dram_read_bytes + row->dram_write_bytes;
    if (!row->has_counters || strcmp(row->status, "ok") != 0) return;
    if (!(bytes > 0) || !(row->ms_median > 0)) {
        note(row, "no roofline: no DRAM bytes measured");
        return;
    }
    double flops = row->flops_measured;
    if (!row->has_flops_measured) {
        flops = row->flops_model;
        note(row, "roofline from the FLOP model");
    }
    row->intensity = flops / bytes;
    row->achieved_tflops = flops / (row->ms_median * 1e-3) / 1e12;
    row->has_intensity = 1;
    if (!c) {
        note(row, "no roof: give --ceilings FILE (from attnbench ceilings)");
        return;
    }
    if (strcmp(c->device, row->device) != 0) {
        note(row, "no roof: the ceilings are of '%s', not this device", c->device);
        return;
    }
    const double peak = ceilings_peak_tflops(c, row->point.problem.dtype);
    const double memory_roof = row->intensity * c->dram_copy_gbps / 1e3; /* TFLOP/s */
    const double roof = memory_roof < peak ? memory_roof : peak;
    if (!(roof > 0)) {
        note(row, "no roof: no FLOPs counted");
        return;
    }
    row->roof_fraction = row->achieved_tflops / roof;
    row->has_roof = 1;
}
