/* main.c — the attnbench command line.
 *
 *   attnbench run [SUITE] [flags]   sweep a suite, one CSV row per point
 *   attnbench list [SUITE]          methods, suites, devices (or a suite's points)
 *   attnbench check [flags]         every selected method against the reference
 *
 * Usage errors exit 2 with a message that names the flag or value at fault.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>

#include "backend.h"
#include "check.h"
#include "config.h"
#include "git_rev.h"
#include "registry.h"
#include "runner.h"
#include "suite.h"

static void usage(FILE *f)
{
    fprintf(f,
        "attnbench %s (%s) — benchmarks of efficient attention\n"
        "\n"
        "usage:\n"
        "  attnbench run [SUITE] [flags]   run a sweep (SUITE: a name in suites/ or a path;\n"
        "                                  default: the quick suite)\n"
        "  attnbench list [SUITE]          methods, suites and devices; with SUITE, its points\n"
        "  attnbench check [flags]         check methods against the double-precision reference\n"
        "  attnbench help                  this text\n"
        "\n"
        "sweep axes (override the suite; lists '64,128', doubling ranges '2^10..2^14'):\n"
        "  --methods LIST   e.g. full,full:naive,mita,mita:route_only\n"
        "  --seqlen LIST    --B LIST  --H LIST  --d LIST  --dtype fp32|fp16|bf16[,...]\n"
        "  --m LIST  --k LIST  --s_r LIST  --shared-scale official|paper\n"
        "settings:\n"
        "  --backend cpu|cuda   default: cuda when a GPU is present, else cpu\n"
        "  --reps N  --warmup N  --budget SECONDS  --seed N\n"
        "  --out FILE       results CSV (default: SUITE-BACKEND.csv)\n"
        "  --resume         skip points already in --out\n"
        "  --no-isolate     run points in this process (for debuggers and profilers)\n"
        "  --quiet          no table on stdout\n"
        "  --plugin SO      load methods from a shared object (repeatable)\n",
        ATTN_VERSION, ATTN_GIT_REV);
}

/* Flags that set a suite key, with the key's name. */
static const struct {
    const char *flag, *key;
} axis_flags[] = {
    {"--methods", "methods"}, {"--seqlen", "seqlen"}, {"--B", "B"},
    {"--H", "H"},             {"--d", "d"},           {"--dtype", "dtype"},
    {"--m", "m"},             {"--k", "k"},           {"--s_r", "s_r"},
    {"--s-r", "s_r"},         {"--shared-scale", "shared_scale"},
    {"--backend", "backend"}, {"--reps", "reps"},     {"--warmup", "warmup"},
    {"--budget", "budget"},   {"--seed", "seed"},
};

struct cli {
    struct suite suite;
    struct run_options run;
    const char *suite_arg;
    char default_out[256];
    /* Overrides are applied after the suite file is read. */
    const char *override_key[64], *override_value[64];
    int override_count;
};

static int load_plugin(const char *path)
{
    char why[1024];
    if (attn_plugin_load(path, why, sizeof why) == 0) return 0;
    fprintf(stderr, "attnbench: %s\n", why);
    return -1;
}

/* Parses flags common to run, list and check. Returns 0, or 2 on a usage
 * error (already reported). */
static int parse_flags(int argc, char **argv, struct cli *c)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *key = NULL;
        for (size_t f = 0; f < sizeof axis_flags / sizeof *axis_flags; f++)
            if (strcmp(a, axis_flags[f].flag) == 0) key = axis_flags[f].key;
        int has_value = key || !strcmp(a, "--out") || !strcmp(a, "--plugin");
        if (has_value && i + 1 >= argc) {
            fprintf(stderr, "attnbench: %s needs a value\n", a);
            return 2;
        }
        if (key) {
            if (c->override_count == 64) {
                fprintf(stderr, "attnbench: too many flags\n");
                return 2;
            }
            c->override_key[c->override_count] = key;
            c->override_value[c->override_count++] = argv[++i];
        } else if (!strcmp(a, "--out")) {
            c->run.out_path = argv[++i];
        } else if (!strcmp(a, "--plugin")) {
            if (load_plugin(argv[++i])) return 2;
        } else if (!strcmp(a, "--resume")) {
            c->run.resume = 1;
        } else if (!strcmp(a, "--no-isolate")) {
            c->run.isolate = 0;
        } else if (!strcmp(a, "--quiet")) {
            c->run.quiet = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "attnbench: unknown flag '%s' (see attnbench help)\n", a);
            return 2;
        } else if (!c->suite_arg) {
            c->suite_arg = a;
        } else {
            fprintf(stderr, "attnbench: unexpected argument '%s' (one suite at a time)\n", a);
            return 2;
        }
    }
    return 0;
}

/* Reads the suite named on the command line (or the quick suite), then
 * applies the flag overrides. 0 or 2. */
static int load_suite(struct cli *c, const char *fallback)
{
    char err[1024], path[512];
    const char *name = c->suite_arg ? c->suite_arg : fallback;
    suite_init_defaults(&c->suite);
    if (name) {
        if (suite_find(name, path, sizeof path) != 0) {
            fprintf(stderr, "attnbench: no suite '%s' (not a file, and no %s.suite in "
                            "$ATTNBENCH_SUITES or %s/suites)\n", name, name, ATTN_SOURCE_DIR);
            return 2;
        }
        if (suite_parse_file(path, &c->suite, err, sizeof err) != 0) {
            fprintf(stderr, "attnbench: %s\n", err);
            return 2;
        }
    }
    for (int i = 0; i < c->override_count; i++)
        if (suite_set(&c->suite, c->override_key[i], c->override_value[i], err, sizeof err)) {
            fprintf(stderr, "attnbench: %s\n", err);
            return 2;
        }
    return 0;
}

static int cmd_run(struct cli *c)
{
    int rc = load_suite(c, "quick");
    if (rc) return rc;
    if (!c->run.out_path) {
        snprintf(c->default_out, sizeof c->default_out, "%s-%s.csv", c->suite.name,
                 attn_backend_name(runner_pick_backend(&c->suite)));
        c->run.out_path = c->default_out;
    }
    return runner_run(&c->suite, &c->run);
}

static void list_methods(void)
{
    printf("methods (name, backend, variants: the first is the default; parameters):\n");
    for (const struct attn_method *const *m = attn_method_all(); *m; m++) {
        char variants[128] = "-";
        size_t used = 0;
        for (const char *const *v = (*m)->variants; v && *v; v++)
            used += snprintf(variants + used, sizeof variants - used, "%s%s", used ? "," : "", *v);
        char params[64];
        snprintf(params, sizeof params, "%s%s%s%s", (*m)->uses & ATTN_USES_M ? "m " : "",
                 (*m)->uses & ATTN_USES_K ? "k " : "", (*m)->uses & ATTN_USES_S_R ? "s_r " : "",
                 (*m)->uses & ATTN_USES_SHARED_SCALE ? "shared_scale" : "");
        printf("  %-14s %-5s %-17s %-22s %s\n", (*m)->name, attn_backend_name((*m)->backend),
               variants, params[0] ? params : "-", (*m)->description);
    }
}

static void list_suites(void)
{
    char dir[600];
    const char *env = getenv("ATTNBENCH_SUITES");
    snprintf(dir, sizeof dir, "%s", env ? env : ATTN_SOURCE_DIR "/suites");
    printf("suites (in %s):\n", dir);
    DIR *d = opendir(dir);
    if (!d) {
        printf("  (cannot open: %s)\n", strerror(errno));
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
            printf("  %-12s %s\n", s.name, s.description);
        else
            printf("  %-12s (broken: %s)\n", e->d_name, err);
    }
    closedir(d);
}

static void list_devices(void)
{
    printf("devices:\n");
    struct device_info info;
    char why[256];
    struct backend *cpu = backend_get(ATTN_CPU);
    if (cpu->init(cpu, &info, why, sizeof why) == 0) printf("  cpu   %s\n", info.name);
    if (!backend_get(ATTN_CUDA)) printf("  cuda  (not built: no nvcc when configured)\n");
    else if (!backend_cuda_available()) printf("  cuda  (no usable GPU here)\n");
    else printf("  cuda  available (attnbench run --backend cuda)\n");
}

static int cmd_list(struct cli *c)
{
    if (c->suite_arg) {
        int rc = load_suite(c, NULL);
        if (rc) return rc;
        struct sweep_point *pts;
        long n = suite_expand(&c->suite, &pts);
        printf("suite %s: %ld points before deduplication\n", c->suite.name, n);
        for (long i = 0; i < n; i++)
            printf("  %-12s %-10s %-4s B=%d H=%d N=%" PRId64 " d=%d m=%" PRId64 " k=%" PRId64
                   " s_r=%d\n", pts[i].method, pts[i].variant[0] ? pts[i].variant : "-",
                   attn_dtype_name(pts[i].problem.dtype), pts[i].problem.B, pts[i].problem.H,
                   pts[i].problem.N, pts[i].problem.d, pts[i].params.m, pts[i].params.k,
                   pts[i].params.s_r);
        free(pts);
        return 0;
    }
    list_methods();
    list_suites();
    list_devices();
    return 0;
}

/* check: the methods of --methods (default: all built-in ones of the
 * backend), the dtypes of --dtype (default: fp32 on the CPU, all three on
 * the GPU), d from --d (default 64). */
static int cmd_check(struct cli *c)
{
    int rc = load_suite(c, NULL);
    if (rc) return rc;
    int methods_given = 0, dtypes_given = 0;
    for (int i = 0; i < c->override_count; i++) {
        methods_given |= !strcmp(c->override_key[i], "methods");
        dtypes_given |= !strcmp(c->override_key[i], "dtype");
    }
    enum attn_backend kind = runner_pick_backend(&c->suite);
    struct backend *b = backend_get(kind);
    struct device_info info;
    char why[512];
    if (!b || (kind == ATTN_CUDA && !backend_cuda_available())) {
        fprintf(stderr, "attnbench: backend %s is not usable here\n", attn_backend_name(kind));
        return 2;
    }
    if (b->init(b, &info, why, sizeof why)) {
        fprintf(stderr, "attnbench: %s: %s\n", attn_backend_name(kind), why);
        return 2;
    }
    enum attn_dtype all_dtypes[] = {ATTN_FP32, ATTN_FP16, ATTN_BF16};
    const enum attn_dtype *dtypes = dtypes_given ? c->suite.dtypes : all_dtypes;
    int n_dtypes = dtypes_given ? c->suite.dtype_count : kind == ATTN_CPU ? 1 : 3;
    uint64_t seed = (uint64_t)time(NULL);
    for (int i = 0; i < c->override_count; i++)
        if (!strcmp(c->override_key[i], "seed")) seed = c->suite.seed;
    printf("check on %s (%s), seed %" PRIu64 "\n", attn_backend_name(kind), info.name, seed);

    int passed = 0, failed = 0;
    for (const struct attn_method *const *m = attn_method_all(); *m; m++) {
        if ((*m)->backend != kind) continue;
        int wanted = !methods_given;
        for (int i = 0; i < c->suite.method_count; i++)
            wanted |= methods_given && !strcmp(c->suite.methods[i].name, (*m)->name);
        if (!wanted) continue;
        struct sweep_point cases[64];
        for (int di = 0; di < c->suite.d.count; di++) {
            int n = check_cases(*m, dtypes, n_dtypes, (int)c->suite.d.values[di], cases, 64);
            for (int i = 0; i < n; i++) {
                struct check_result r;
                cases[i].problem.seed += seed;
                check_point(&cases[i], b, &r);
                const struct sweep_point *p = &cases[i];
                printf("%-4s %-12s %-10s %-4s B=%d H=%d N=%-4" PRId64 " d=%-3d m=%-3" PRId64
                       " k=%-3" PRId64 " s_r=%d  err=%.2e (bound %.0e)%s%s\n",
                       r.passed ? "ok" : "FAIL", p->method, p->variant[0] ? p->variant : "-",
                       attn_dtype_name(p->problem.dtype), p->problem.B, p->problem.H,
                       p->problem.N, p->problem.d, p->params.m, p->params.k, p->params.s_r,
                       r.rel_error, r.bound, r.passed ? "" : "  ", r.message);
                r.passed ? passed++ : failed++;
            }
        }
    }
    b->shutdown(b);
    printf("%d passed, %d failed\n", passed, failed);
    if (failed) fprintf(stderr, "attnbench check: %d FAILED\n", failed);
    if (passed + failed == 0) {
        fprintf(stderr, "attnbench check: no method selected on %s\n", attn_backend_name(kind));
        return 2;
    }
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    static struct cli c;
    c.run.isolate = 1;
    int rc = parse_flags(argc - 2, argv + 2, &c);
    if (rc) return rc;
    if (!strcmp(argv[1], "run")) return cmd_run(&c);
    if (!strcmp(argv[1], "list")) return cmd_list(&c);
    if (!strcmp(argv[1], "check")) return cmd_check(&c);
    fprintf(stderr, "attnbench: unknown command '%s' (run, list, check, help)\n", argv[1]);
    return 2;
}
