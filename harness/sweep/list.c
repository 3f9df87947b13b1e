/* list.c — `attnbench list` (see list.h). Points print every axis of
 * core/axes.h, '-' where the method does not use it. */
#include "sweep/list.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attn/gathers.h"
#include "attn/registry.h"
#include "config.h"
#include "core/axes.h"
#include "measure/backend.h"

/* The width of list_method()'s variants column for `m`: its variants,
 * comma-separated. */
static int variants_width(const struct attn_method *m)
{
    int len = 0;
    for (const char *const *v = m->variants; v && *v; v++) len += (int)strlen(*v) + 1;
    return len - 1;
}

void list_method(FILE *f, const struct attn_method *m, int width)
{
    /* A plugin's variants may not fit: the column is cut, never overrun. */
    char variants[256] = "-";
    size_t used = 0;
    for (const char *const *v = m->variants; v && *v && used < sizeof variants; v++)
        used += snprintf(variants + used, sizeof variants - used, "%s%s", used ? "," : "", *v);
    char params[64] = "";
    used = 0;
    for (int a = 0; a < AXIS_COUNT && used < sizeof params; a++)
        if (AXES[a].uses && (m->uses & AXES[a].uses))
            used += snprintf(params + used, sizeof params - used, "%s%s", used ? " " : "",
                             AXES[a].key);
    fprintf(f, "  %-14s %-5s %-*s %-22s %s\n", m->name, attn_backend_name(m->backend), width,
            variants, params[0] ? params : "-", m->description ? m->description : "-");
}

void list_methods(FILE *f)
{
    fprintf(f, "methods (name, backend, variants: the first is the default; parameters):\n");
    int width = 17; /* the variants column: as wide as the longest list */
    for (const struct attn_method *const *m = attn_method_all(); *m; m++)
        if (variants_width(*m) > width) width = variants_width(*m);
    for (const struct attn_method *const *m = attn_method_all(); *m; m++) list_method(f, *m, width);
}

void list_gathers(FILE *f)
{
    fprintf(f, "gather versions (mita's gather on cuda; the gather method's variants, with "
               "copy):\n");
    fprintf(f, "  %-14s %s\n", "fused", "mita's default: K_E and V_E read in place by the "
                                        "attention, no step of their own");
    for (const struct attn_gather_version *const *g = attn_gather_all(); *g; g++)
        fprintf(f, "  %-14s %s\n", (*g)->name, (*g)->description ? (*g)->description : "-");
}

void list_suites(FILE *f)
{
    char dir[600];
    const char *env = getenv("ATTNBENCH_SUITES");
    snprintf(dir, sizeof dir, "%s", env ? env : ATTN_SOURCE_DIR "/suites");
    fprintf(f, "suites (in %s):\n", dir);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(f, "  (cannot open: %s)\n", strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 7 || strcmp(e->d_name + len - 6, ".suite") != 0) continue;
        char path[1200], err[1024];
        struct suite s;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (suite_parse_file(path, &s, err, sizeof err) == 0)
            fprintf(f, "  %-12s %s\n", s.name, s.description);
        else
            fprintf(f, "  %-12s (broken: %s)\n", e->d_name, err);
    }
    closedir(d);
}

void list_devices(FILE *f)
{
    fprintf(f, "devices:\n");
    struct device_info info;
    char why[256];
    struct backend *cpu = backend_get(ATTN_CPU);
    if (cpu->init(cpu, &info, why, sizeof why) == 0) fprintf(f, "  cpu   %s\n", info.name);
    if (!backend_get(ATTN_CUDA)) fprintf(f, "  cuda  (not built: no nvcc when configured)\n");
    else if (!backend_cuda_available()) fprintf(f, "  cuda  (no usable GPU here)\n");
    else fprintf(f, "  cuda  available (attnbench run --backend cuda)\n");
}

/* A column wide enough for the axis's name and its usual values; named
 * values (dtype) to the left. */
static int axis_width(const struct axis *a)
{
    int w = a->is_x ? 8 : (int)strlen(a->column) > 4 ? (int)strlen(a->column) : 4;
    return a->name_of ? -w : w;
}

static void point_header(FILE *f)
{
    fprintf(f, "  %-14s %-16s", "method", "variant");
    for (int a = 0; a < AXIS_COUNT; a++) fprintf(f, " %*s", axis_width(&AXES[a]), AXES[a].column);
}

static void point_cells(FILE *f, const struct sweep_point *p)
{
    fprintf(f, "  %-14s %-16s", p->method, p->variant[0] ? p->variant : "-");
    for (int a = 0; a < AXIS_COUNT; a++) {
        char cell[32];
        axis_format(&AXES[a], p, cell, sizeof cell);
        fprintf(f, " %*s", axis_width(&AXES[a]), cell[0] ? cell : "-");
    }
}

int list_expansion(FILE *f, const struct suite *s)
{
    struct sweep_point *pts;
    long n = suite_expand(s, &pts);
    if (n < 0) {
        fprintf(stderr, "attnbench: out of memory expanding suite %s\n", s->name);
        return 2;
    }
    fprintf(f, "suite %s: %ld points before deduplication\n", s->name, n);
    point_header(f);
    fputc('\n', f);
    for (long i = 0; i < n; i++) {
        point_cells(f, &pts[i]);
        fputc('\n', f);
    }
    free(pts);
    return 0;
}

int list_plan(FILE *f, const struct suite *s, enum attn_backend backend, struct shard_spec shard)
{
    struct sweep_plan plan;
    double total = 0, shard_total = 0;
    if (sweep_plan_build(s, backend, &plan) != 0) {
        fprintf(stderr, "attnbench: out of memory expanding suite %s\n", s->name);
        return 2;
    }
    for (long i = 0; i < plan.count; i++) total += plan.cost_s[i];
    long all = plan.count;
    if (sweep_plan_keep_shard(&plan, shard) != 0) {
        fprintf(stderr, "attnbench: out of memory\n");
        sweep_plan_free(&plan);
        return 2;
    }
    char shard_text[24];
    shard_format(shard, shard_text, sizeof shard_text);
    fprintf(f, "suite %s on %s (suite_hash %s), shard %s: %ld of %ld points\n", s->name,
            attn_backend_name(backend), plan.suite_hash, shard_text, plan.count, all);
    point_header(f);
    fprintf(f, " %12s\n", "est_seconds");
    for (long i = 0; i < plan.count; i++) {
        point_cells(f, &plan.points[i]);
        fprintf(f, " %12.3f\n", plan.cost_s[i]);
        shard_total += plan.cost_s[i];
    }
    fprintf(f, "estimated %.1f s for these points, %.1f s for the whole suite (nominal rates: for "
               "balancing shards, not a forecast)\n", shard_total, total);
    sweep_plan_free(&plan);
    return 0;
}
