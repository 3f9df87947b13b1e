/* backend_cpu.c — tensors in host memory, runs timed with the monotonic clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "attn/method_call.h"
#include "measure/backend.h"
#include "core/clock.h"
#include "core/inputs.h"

/* "cpu: <model name> (N threads)" from /proc/cpuinfo. */
static void cpu_describe(char *out, size_t len)
{
    char model[96] = "unknown model";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) == 0 && colon) {
                snprintf(model, sizeof model, "%s", colon + 2);
                model[strcspn(model, "\n")] = 0;
                break;
            }
        }
        fclose(f);
    }
    snprintf(out, len, "cpu: %s (%d threads)", model, omp_get_max_threads());
}

static int cpu_init(struct backend *b, struct device_info *info, char *why, size_t why_len)
{
    memset(info, 0, sizeof *info);
    cpu_describe(info->name, sizeof info->name);
    return 0;
}

static void *cpu_alloc(size_t bytes) { return bytes ? malloc(bytes) : malloc(1); }
static void cpu_release(void *p) { free(p); }

static int cpu_fill_inputs(struct backend *b, void *dst, const struct attn_problem *p,
                           enum attn_inputs kind, int which)
{
    inputs_fill_host(dst, p, kind, which);
    return 0;
}

static int cpu_poison(struct backend *b, void *dst, size_t bytes)
{
    memset(dst, 0xFF, bytes);
    return 0;
}

static int cpu_copy_to_host(struct backend *b, void *host, const void *src, size_t bytes)
{
    memcpy(host, src, bytes);
    return 0;
}

static int cpu_copy_from_host(struct backend *b, void *dst, const void *host, size_t bytes)
{
    memcpy(dst, host, bytes);
    return 0;
}

/* The CPU's caches are small beside a point's tensors: nothing to flush. */
static int cpu_flush_cache(struct backend *b, char *why, size_t why_len) { return 0; }

static int cpu_time_run(struct backend *b, const struct attn_method *m, void *state,
                        const struct attn_tensors *t, double *ms, char *why, size_t why_len)
{
    double start = monotonic_seconds();
    int rc = attn_method_run(m, state, t, NULL);
    *ms = (monotonic_seconds() - start) * 1e3;
    if (rc) snprintf(why, why_len, "%s run() returned %d", m->name, rc);
    return rc;
}

static int cpu_run_many(struct backend *b, const struct attn_method *m, void *state,
                        const struct attn_tensors *t, int count, double *seconds, char *why,
                        size_t why_len)
{
    double start = monotonic_seconds();
    for (int i = 0; i < count; i++) {
        int rc = attn_method_run(m, state, t, NULL);
        if (rc) {
            snprintf(why, why_len, "%s run() returned %d", m->name, rc);
            return rc;
        }
    }
    *seconds = monotonic_seconds() - start;
    return 0;
}

static int cpu_sync(struct backend *b, char *why, size_t why_len) { return 0; }
static void cpu_shutdown(struct backend *b) {}

struct backend backend_cpu = {
    .kind = ATTN_CPU,
    .init = cpu_init,
    .alloc = cpu_alloc,
    .release = cpu_release,
    .fill_inputs = cpu_fill_inputs,
    .poison = cpu_poison,
    .copy_to_host = cpu_copy_to_host,
    .copy_from_host = cpu_copy_from_host,
    .flush_cache = cpu_flush_cache,
    .time_run = cpu_time_run,
    .run_many = cpu_run_many,
    .sync = cpu_sync,
    .shutdown = cpu_shutdown,
};
