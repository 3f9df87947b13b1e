/* main.c — the attnbench command line.
 *
 *   attnbench run [SUITE] [flags]   sweep a suite, one CSV row per point
 *   attnbench list [SUITE]          methods, suites, devices (or a suite's points)
 *   attnbench check [flags]         every selected method against the reference
 *   attnbench plot RESULTS.csv...   the paper figures of results files (plot.h)
 *   attnbench merge OUT IN...       join the results files of a sweep's shards (merge.h)
 *   attnbench compare BASE NEW      run against run, point by point (compare.h)
 *   attnbench slurm [SUITE]         a sweep as a Slurm job array (slurm.h)
 *   attnbench ceilings              this device's measured ceilings (ceilings.h)
 *   attnbench inputs                one point's Q, K, V as a safetensors file
 *   attnbench COMMAND --help        that command's usage (usage.h); --version
 *
 * Usage errors exit 2 with a message that names the flag or value at fault.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "measure/backend.h"
#include "measure/ceilings.h"
#include "measure/load_inputs.h"
#include "inputs/tensor_file.h"
#include "check/check.h"
#include "results/compare.h"
#include "config.h"
#include "git_rev.h"
#include "sweep/interrupt.h"
#include "sweep/merge.h"
#include "sweep/multi_gpu.h"
#include "plot/plot.h"
#include "attn/method_call.h"
#include "attn/registry.h"
#include "sweep/runner.h"
#include "sweep/shard.h"
#include "sweep/list.h"
#include "sweep/slurm.h"
#include "sweep/suite.h"
#include "usage.h"

struct cli {
    const char *command;
    struct suite suite;
    struct run_options run;
    const char *suite_arg;
    char default_out[256];
    /* Overrides are applied after the suite file is read. */
    const char *override_key[64], *override_value[64];
    int override_count;
    const char *plugins[64];   /* as given, for `slurm` to pass on */
    int plugin_count;
    const char *gpus;          /* run --gpus */
    int list_points;           /* list --points */
    struct slurm_options slurm;
};

/* Flags of one command only, with a value (1) or without (0). */
static const struct {
    const char *flag, *command;
    int has_value;
} command_flags[] = {
    {"--shard", "run", 1},     {"--shard", "list", 1},      {"--gpus", "run", 1},
    {"--points", "list", 0},   {"--shards", "slurm", 1},    {"--partition", "slurm", 1},
    {"--gpus-per-task", "slurm", 1}, {"--time", "slurm", 1}, {"--account", "slurm", 1},
    {"--dir", "slurm", 1},
    {"--profile", "run", 0},   {"--ceilings", "run", 1},   {"--discard-throttled", "run", 0},
    {"--json", "run", 1},      {"--force", "run", 0},       {"--verify", "run", 0},
    {"--verify", "slurm", 0},  {"--profile", "slurm", 0},   {"--ceilings", "slurm", 1},
};

/* Sets a command's own flag. 0, or 2 on a bad value (reported). */
static int set_command_flag(struct cli *c, const char *flag, const char *value)
{
    char err[256];
    char *end = NULL;
    if (!strcmp(flag, "--shard")) {
        if (shard_parse(value, &c->run.shard, err, sizeof err) == 0) return 0;
        fprintf(stderr, "attnbench: --shard: %s\n", err);
        return 2;
    }
    if (!strcmp(flag, "--profile")) c->run.profile = 1;
    else if (!strcmp(flag, "--verify")) c->run.verify = 1;
    else if (!strcmp(flag, "--force")) c->run.force = 1;
    else if (!strcmp(flag, "--discard-throttled")) c->run.discard_throttled = 1;
    else if (!strcmp(flag, "--json")) c->run.json_path = value;
    else if (!strcmp(flag, "--ceilings")) c->run.ceilings_path = value;
    else if (!strcmp(flag, "--gpus")) c->gpus = value;
    else if (!strcmp(flag, "--points")) c->list_points = 1;
    else if (!strcmp(flag, "--partition")) c->slurm.partition = value;
    else if (!strcmp(flag, "--time")) c->slurm.time_limit = value;
    else if (!strcmp(flag, "--account")) c->slurm.account = value;
    else if (!strcmp(flag, "--dir")) c->slurm.dir = value;
    else {
        long v = strtol(value, &end, 10);
        if (*end || end == value || v < 0 || v > SHARD_MAX) {
            fprintf(stderr, "attnbench: %s '%s': need a whole number from 0 to %d\n", flag,
                    value, SHARD_MAX);
            return 2;
        }
        if (!strcmp(flag, "--shards")) c->slurm.shards = (int)v;
        else c->slurm.gpus_per_task = (int)v;
    }
    return 0;
}

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
        int own = -1; /* index in command_flags of a flag of this command */
        char owners[64] = "";
        for (size_t f = 0; f < sizeof command_flags / sizeof *command_flags; f++) {
            if (strcmp(a, command_flags[f].flag) != 0) continue;
            size_t used = strlen(owners);
            snprintf(owners + used, sizeof owners - used, "%s'attnbench %s'", used ? ", " : "",
                     command_flags[f].command);
            if (!strcmp(command_flags[f].command, c->command)) own = (int)f;
        }
        if (owners[0] && own < 0) {
            fprintf(stderr, "attnbench: %s is a flag of %s, not of '%s'\n", a, owners,
                    c->command);
            return 2;
        }
        /* A command's own flag comes before a suite key of its name: `run --verify` takes no
         * value, where the suite file says `verify yes`. */
        const char *key = own >= 0 ? NULL : suite_flag_key(a);
        int has_value = key || !strcmp(a, "--out") || !strcmp(a, "--plugin");
        if (own >= 0) has_value = command_flags[own].has_value;
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
        } else if (own >= 0) {
            if (set_command_flag(c, a, has_value ? argv[++i] : NULL)) return 2;
        } else if (!strcmp(a, "--plugin")) {
            if (c->plugin_count == 64) {
                fprintf(stderr, "attnbench: more than 64 plugins\n");
                return 2;
            }
            if (load_plugin(argv[i + 1])) return 2;
            c->plugins[c->plugin_count++] = argv[++i];
        } else if (!strcmp(a, "--resume")) {
            c->run.resume = 1;
        } else if (!strcmp(a, "--no-isolate")) {
            c->run.isolate = 0;
        } else if (!strcmp(a, "--quiet")) {
            c->run.quiet = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "attnbench: unknown flag '%s' (see attnbench %s --help)\n", a,
                    c->command);
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

/* Reads the suite named on the command line — without one, the built-in
 * defaults, a suite called "default" (suite_init_defaults): a run of the
 * defaults and flags is no run of the quick suite, nor written to its file —
 * then applies the flag overrides. 0 or 2. */
static int load_suite(struct cli *c)
{
    char err[1024], path[512];
    const char *name = c->suite_arg;
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
    if (c->override_count && suite_check(&c->suite, err, sizeof err)) {
        fprintf(stderr, "attnbench: with the flags given: %s\n", err);
        return 2;
    }
    return 0;
}

/* --ceilings without --profile, which run and slurm refuse alike: 1 after saying so (as
 * `who`), else 0. */
static int ceilings_without_profile(const struct cli *c, const char *who)
{
    if (!c->run.ceilings_path || c->run.profile) return 0;
    fprintf(stderr, "%s: --ceilings needs --profile (the roofline columns divide by the DRAM "
                    "bytes it measures)\n", who);
    return 1;
}

static int cmd_run(struct cli *c)
{
    int rc = load_suite(c);
    if (rc) return rc;
    if (!c->run.out_path) {
        /* A shard's own file: shards sharing a folder must not share a file. */
        char shard[32] = "";
        if (c->run.shard.count > 1)
            snprintf(shard, sizeof shard, "-shard%dof%d", c->run.shard.index, c->run.shard.count);
        snprintf(c->default_out, sizeof c->default_out, "%s-%s%s.csv", c->suite.name,
                 attn_backend_name(runner_pick_backend(&c->suite)), shard);
        c->run.out_path = c->default_out;
    }
    if (c->run.resume && c->run.force) {
        fprintf(stderr, "attnbench: --resume continues --out and --force starts it afresh: give "
                        "one of them\n");
        return 2;
    }
    if (ceilings_without_profile(c, "attnbench")) return 2;
    if (c->gpus && c->run.json_path) {
        fprintf(stderr, "attnbench: --json is not written by run --gpus (its workers write "
                        "one CSV each, merged into --out); run without --json, or per GPU\n");
        return 2;
    }
    if (c->gpus) return multi_gpu_run(&c->suite, &c->run, c->gpus);
    return runner_run(&c->suite, &c->run);
}

static int cmd_list(struct cli *c)
{
    if (c->list_points || c->run.shard.count > 1) {
        int rc = load_suite(c);
        return rc ? rc : list_plan(stdout, &c->suite, runner_pick_backend(&c->suite),
                                   c->run.shard);
    }
    if (c->suite_arg) {
        int rc = load_suite(c);
        return rc ? rc : list_expansion(stdout, &c->suite);
    }
    list_methods(stdout);
    list_gathers(stdout);
    list_suites(stdout);
    list_devices(stdout);
    return 0;
}

/* check: the methods of --methods (default: all built-in ones of the
 * backend), the dtypes of --dtype (default: fp32 on the CPU, all three on
 * the GPU), d from --d (default 64). */
static int cmd_check(struct cli *c)
{
    int rc = load_suite(c);
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
    enum attn_dtype dtypes[] = {ATTN_FP32, ATTN_FP16, ATTN_BF16};
    int n_dtypes = kind == ATTN_CPU ? 1 : 3;
    if (dtypes_given) {
        const struct suite_values *given = &c->suite.axes[AXIS_DTYPE];
        for (n_dtypes = 0; n_dtypes < given->count; n_dtypes++)
            dtypes[n_dtypes] = (enum attn_dtype)given->values[n_dtypes];
    }
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
        if (methods_given && !attn_method_computes(*m))
            printf("skip %s: it computes no definition (attn.h's computes), nothing to check it "
                   "against\n", (*m)->name);
        struct sweep_point cases[64];
        const struct suite_values *ds = &c->suite.axes[AXIS_D];
        for (int di = 0; di < ds->count; di++) {
            int n = check_cases(*m, dtypes, n_dtypes, (int)ds->values[di], cases, 64);
            for (int i = 0; i < n; i++) {
                struct check_result r;
                cases[i].problem.seed += seed;
                check_point(&cases[i], b, &r);
                const struct sweep_point *p = &cases[i];
                printf("%-4s %-12s %-10s %-4s %-9s B=%d H=%d N=%-4" PRId64 " d=%-3d m=%-3" PRId64
                       " k=%-3" PRId64 " s_r=%d  err=%.2e (bound %.0e)%s%s\n",
                       r.passed ? "ok" : "FAIL", p->method, p->variant[0] ? p->variant : "-",
                       attn_dtype_name(p->problem.dtype), p->inputs, p->problem.B, p->problem.H,
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

/* merge OUT IN... [--suite SUITE] [axis flags] [--plugin SO]: the files are
 * the positional arguments; the flags name the suite to check them against. */
static int cmd_merge(int argc, char **argv, struct cli *c)
{
    const char *files[256];
    char *flags[256];
    int nfiles = 0, nflags = 0;
    const char *suite = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int takes_value =
            !strcmp(a, "--suite") || !strcmp(a, "--plugin") || suite_flag_key(a) != NULL;
        if (a[0] == '-' && !takes_value) {
            fprintf(stderr, "attnbench merge: unknown flag '%s' (--suite SUITE, the sweep's axis "
                            "flags, --plugin SO)\n", a);
            return 2;
        }
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "attnbench merge: %s needs a value\n", a);
            return 2;
        }
        if (nfiles == 256 || nflags > 253) {
            fprintf(stderr, "attnbench merge: too many arguments\n");
            return 2;
        }
        if (!strcmp(a, "--suite")) suite = argv[++i];
        else if (!takes_value) files[nfiles++] = a;
        else {
            flags[nflags++] = argv[i];
            flags[nflags++] = argv[++i];
        }
    }
    if (suite) flags[nflags++] = (char *)suite; /* parse_flags takes it as the suite */
    int rc = parse_flags(nflags, flags, c);
    if (rc) return rc;
    if (nfiles < 2) {
        fprintf(stderr, "attnbench merge: need OUT.csv and at least one input "
                        "(attnbench merge OUT.csv IN.csv...)\n");
        return 2;
    }
    if (!suite && c->override_count) {
        fprintf(stderr, "attnbench merge: axis flags describe a suite: give it with --suite\n");
        return 2;
    }
    if (suite && (rc = load_suite(c)) != 0) return rc;
    struct merge_options mo = {
        .out_path = files[0], .inputs = files + 1, .input_count = nfiles - 1,
        .suite = suite ? &c->suite : NULL,
    };
    return merge_files(&mo, stderr);
}

/* "5%", "5" (both five percent) or "0.5%" as a fraction; -1 when bad. */
static double parse_percent(const char *text)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || (*end && strcmp(end, "%") != 0) || !(v >= 0) || v > 1e6) return -1;
    return v / 100;
}

/* compare BASE NEW [--threshold P] [--min-effect P] [--alpha A] [--allow-unjudged] */
static int cmd_compare(int argc, char **argv)
{
    struct compare_options opt = {.alpha = 0.05, .min_effect = 0.02, .threshold = -1};
    const char *files[2];
    int nfiles = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            if (nfiles == 2) {
                fprintf(stderr, "attnbench compare: unexpected argument '%s' (two files: BASE.csv "
                                "NEW.csv)\n", a);
                return 2;
            }
            files[nfiles++] = a;
            continue;
        }
        if (!strcmp(a, "--allow-unjudged")) {
            opt.allow_unjudged = 1;
            continue;
        }
        int known = !strcmp(a, "--threshold") || !strcmp(a, "--min-effect") ||
                    !strcmp(a, "--alpha");
        if (!known) {
            fprintf(stderr, "attnbench compare: unknown flag '%s' (--threshold, --min-effect, "
                            "--alpha, --allow-unjudged)\n", a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "attnbench compare: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--alpha")) {
            char *end;
            opt.alpha = strtod(v, &end);
            if (end == v || *end || !(opt.alpha > 0 && opt.alpha < 1)) {
                fprintf(stderr, "attnbench compare: --alpha '%s': need a level between 0 and 1, "
                                "e.g. 0.05\n", v);
                return 2;
            }
            continue;
        }
        double pct = parse_percent(v);
        if (pct < 0) {
            fprintf(stderr, "attnbench compare: %s '%s': need a percentage such as 5%%\n", a, v);
            return 2;
        }
        if (!strcmp(a, "--threshold")) opt.threshold = pct;
        else opt.min_effect = pct;
    }
    if (nfiles != 2) {
        fprintf(stderr, "attnbench compare: need two files (attnbench compare BASE.csv "
                        "NEW.csv)\n");
        return 2;
    }
    if (opt.allow_unjudged && opt.threshold < 0) {
        fprintf(stderr, "attnbench compare: --allow-unjudged lets unjudged points pass the "
                        "gate: give the gate too (--threshold P)\n");
        return 2;
    }
    opt.base_path = files[0];
    opt.new_path = files[1];
    return compare_files(&opt, stdout, stderr);
}

/* slurm [SUITE] [flags]: the job's folder, named after the suite unless --dir. */
static int cmd_slurm(struct cli *c)
{
    int rc = load_suite(c);
    if (rc) return rc;
    char dir[SUITE_NAME_LEN + 8], err[1200];
    if (!c->slurm.dir) {
        snprintf(dir, sizeof dir, "%s-slurm", c->suite.name);
        c->slurm.dir = dir;
    }
    c->slurm.plugins = c->plugins;
    c->slurm.plugin_count = c->plugin_count;
    c->slurm.verify = c->run.verify;
    c->slurm.profile = c->run.profile;
    c->slurm.ceilings = c->run.ceilings_path;
    if (ceilings_without_profile(c, "attnbench slurm")) return 2;
    if (slurm_write_job(&c->suite, &c->slurm, stdout, err, sizeof err) != 0) {
        fprintf(stderr, "attnbench slurm: %s\n", err);
        return 2;
    }
    return 0;
}

/* ceilings [--backend cpu|cuda] [--out FILE]: measures the device's
 * ceilings (ceilings.h): the GPU's where there is one, else the CPU's. Each
 * configuration tried goes to stderr (but with --quiet), the ceilings to
 * stdout. */
static void print_trials(const struct ceiling_trials *t)
{
    for (int k = 0; k < t->count; k++) {
        const struct ceiling_trial *r = &t->trial[k];
        if (r->error[0])
            fprintf(stderr, "  %-19s %10s %-7s %s: %s\n", ceilings_name(r->ceiling), "-", "",
                    r->config[0] ? r->config : "(setup)", r->error);
        else
            fprintf(stderr, "  %-19s %10.5g %-7s %s\n", ceilings_name(r->ceiling), r->value,
                    ceilings_unit(r->ceiling), r->config);
    }
}

static int measure_ceilings(enum attn_backend kind, struct ceilings *c, struct ceiling_trials *t)
{
#if HAVE_CUDA
    if (kind == ATTN_CUDA) return ceilings_measure(c, t);
#endif
    return ceilings_measure_cpu(c, t);
}

static int cmd_ceilings(struct cli *c)
{
    const char *path = c->run.out_path ? c->run.out_path : "ceilings.csv";
    for (int i = 0; i < c->override_count; i++)
        if (strcmp(c->override_key[i], "backend") != 0) {
            fprintf(stderr, "attnbench ceilings: --%s is not a flag of ceilings (it takes "
                            "--backend cpu|cuda and --out FILE)\n", c->override_key[i]);
            return 2;
        }
    int rc = load_suite(c);
    if (rc) return rc;
    const enum attn_backend kind = runner_pick_backend(&c->suite);
    struct backend *b = backend_get(kind);
    if (!b) {
        fprintf(stderr, "attnbench ceilings: this build has no CUDA backend (rebuild with nvcc on "
                        "PATH, meson option -Dcuda=enabled)\n");
        return 2;
    }
    if (kind == ATTN_CUDA && !backend_cuda_available()) {
        fprintf(stderr, "attnbench ceilings: no usable CUDA device here (--backend cpu measures "
                        "the CPU)\n");
        return 2;
    }
    if (!c->suite.backend_set && kind == ATTN_CPU)
        fprintf(stderr, "attnbench ceilings: no usable CUDA device here: measuring the CPU "
                        "(--backend cpu)\n");
    struct device_info info;
    char why[1024];
    if (b->init(b, &info, why, sizeof why)) {
        fprintf(stderr, "attnbench ceilings: %s: %s\n", attn_backend_name(kind), why);
        return 2;
    }
    static struct ceilings measured;
    static struct ceiling_trials trials;
    snprintf(measured.device, sizeof measured.device, "%s", info.name);
    fprintf(stderr, "attnbench ceilings: measuring %s\n", info.name);
    /* A ceiling that fails is a row that says why; the others are kept. */
    const int failed = measure_ceilings(kind, &measured, &trials);
    b->shutdown(b);
    if (!c->run.quiet) print_trials(&trials);
    if (ceilings_write(path, &measured, &info, ATTN_GIT_REV, why, sizeof why) != 0) {
        fprintf(stderr, "attnbench ceilings: %s\n", why);
        return 2;
    }
    int rows = 0;
    for (int i = 0; i < CEILINGS_COUNT; i++) {
        const enum ceiling_index id = (enum ceiling_index)i;
        if (!ceilings_apply(id, measured.device)) continue;
        rows++;
        if (!strcmp(measured.status[i], "ok"))
            printf("%-19s %10.5g %-7s %s\n", ceilings_name(id), *ceilings_value(&measured, id),
                   ceilings_unit(id), measured.config[i]);
        else
            printf("%-19s %10s %-7s %s\n", ceilings_name(id), "-", "", measured.status[i]);
    }
    printf("-> %s\n", path);
    if (failed) fprintf(stderr, "attnbench ceilings: %d of %d not measured\n", failed, rows);
    return failed ? 1 : 0;
}

/* inputs: the Q, K and V of one point (its shape, dtype, seed and inputs)
 * as a safetensors file, exactly what `run` feeds the methods. */
static int cmd_inputs(struct cli *c)
{
    static const char *const allowed[] = {"B", "H", "seqlen", "d", "dtype", "seed", "inputs"};
    for (int i = 0; i < c->override_count; i++) {
        int ok = 0;
        for (size_t a = 0; a < sizeof allowed / sizeof *allowed; a++)
            ok |= !strcmp(c->override_key[i], allowed[a]);
        if (!ok) {
            fprintf(stderr, "attnbench inputs: --%s is not a flag of inputs (it takes --B, --H, "
                            "--seqlen, --d, --dtype, --seed, --inputs and --out FILE)\n",
                    c->override_key[i]);
            return 2;
        }
    }
    if (c->suite_arg) {
        fprintf(stderr, "attnbench inputs: unexpected argument '%s' (one point, given by "
                        "flags)\n", c->suite_arg);
        return 2;
    }
    int rc = load_suite(c);
    if (rc) return rc;
    static const enum axis_id shape[] = {AXIS_B, AXIS_H, AXIS_N, AXIS_D, AXIS_DTYPE, AXIS_INPUTS};
    struct sweep_point pt;
    memset(&pt, 0, sizeof pt);
    for (size_t a = 0; a < sizeof shape / sizeof *shape; a++) {
        const struct suite_values *v = &c->suite.axes[shape[a]];
        if (v->count != 1) {
            fprintf(stderr, "attnbench inputs: --%s gives %d values (one point at a time)\n",
                    AXES[shape[a]].key, v->count);
            return 2;
        }
        AXES[shape[a]].set(&pt, v->values[0]);
    }
    pt.problem.seed = c->suite.seed;
    pt.problem.backend = ATTN_CPU;
    const char *path = c->run.out_path ? c->run.out_path : "inputs.safetensors";
    const size_t bytes = (size_t)attn_tensor_elems(&pt.problem) * attn_dtype_size(pt.problem.dtype);
    void *qkv[3] = {malloc(bytes), malloc(bytes), malloc(bytes)};
    char why[1024] = "";
    rc = qkv[0] && qkv[1] && qkv[2] ? 0 : 2;
    if (rc) snprintf(why, sizeof why, "out of memory for 3 x %zu bytes", bytes);
    for (int which = 0; which < 3 && !rc; which++)
        if (load_inputs_host(&pt, which, qkv[which], why, sizeof why) != LOAD_INPUTS_OK) rc = 2;
    if (!rc && tensor_file_write_safetensors(path, &pt.problem, (const void *const *)qkv, why,
                                             sizeof why) != 0)
        rc = 2;
    for (int which = 0; which < 3; which++) free(qkv[which]);
    if (rc) {
        fprintf(stderr, "attnbench inputs: %s\n", why);
        return rc;
    }
    printf("q, k, v [%d,%d,%" PRId64 ",%d] %s, inputs %s, seed %" PRIu64 " -> %s\n",
           pt.problem.B, pt.problem.H, pt.problem.N, pt.problem.d,
           attn_dtype_name(pt.problem.dtype), pt.inputs, pt.problem.seed, path);
    return 0;
}

static int is_help(const char *arg) { return !strcmp(arg, "--help") || !strcmp(arg, "-h"); }

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("attnbench %s (git %s)\n", ATTN_VERSION, ATTN_GIT_REV);
        return 0;
    }
    if (argc < 2 || !strcmp(argv[1], "help") || is_help(argv[1])) {
        /* attnbench help COMMAND: as COMMAND --help. */
        if (argc > 2 && !strcmp(argv[1], "help"))
            return usage_command(stdout, argv[2]) ? usage_unknown_command(argv[2]) : 0;
        usage_overview(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    /* COMMAND ... --help anywhere: the usage, whatever else is there. */
    for (int i = 2; i < argc; i++)
        if (is_help(argv[i]))
            return usage_command(stdout, argv[1]) ? usage_unknown_command(argv[1]) : 0;
    /* plot takes files and flags of its own, not a sweep's. */
    if (!strcmp(argv[1], "plot")) return plot_command(argc - 2, argv + 2);
    if (!strcmp(argv[1], "compare")) return cmd_compare(argc - 2, argv + 2);
    static struct cli c;
    c.command = argv[1];
    c.run.isolate = 1;
    c.run.argc = argc;
    c.run.argv = argv;
    c.slurm.shards = 4;
    c.slurm.gpus_per_task = -1; /* 1, or 0 on the cpu backend */
    if (!strcmp(argv[1], "merge")) return cmd_merge(argc - 2, argv + 2, &c);
    int rc = parse_flags(argc - 2, argv + 2, &c);
    if (rc) return rc;
    if (!strcmp(argv[1], "run")) {
        /* What a stopped run prints, so that it can be resumed (interrupt.h). */
        static char resume[8192];
        c.run.resume_command = interrupt_resume_command(argc, argv, resume, sizeof resume) == 0
                                   ? resume : "the same command with --resume";
        return cmd_run(&c);
    }
    if (!strcmp(argv[1], "list")) return cmd_list(&c);
    if (!strcmp(argv[1], "check")) return cmd_check(&c);
    if (!strcmp(argv[1], "slurm")) return cmd_slurm(&c);
    if (!strcmp(argv[1], "ceilings")) return cmd_ceilings(&c);
    if (!strcmp(argv[1], "inputs")) return cmd_inputs(&c);
    return usage_unknown_command(argv[1]);
}
