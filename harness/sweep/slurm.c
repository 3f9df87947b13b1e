/* slurm.c — writing a sweep's Slurm job (see slurm.h). */
#include "sweep/slurm.h"
#include "core/errors.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "measure/backend.h"
#include "config.h"
#include "git_rev.h"
#include "attn/registry.h"
#include "sweep/shard.h"

/* A word for bash: single quotes, each quote in it as '\''. */
static void shell_word(FILE *f, const char *word)
{
    fputc('\'', f);
    for (const char *c = word; *c; c++) {
        if (*c == '\'') fputs("'\\''", f);
        else fputc(*c, f);
    }
    fputc('\'', f);
}

/* #SBATCH lines are not parsed by a shell: a blank would end the value and
 * '%' starts a pattern (%a, %A), so paths in them must have neither. */
static int check_sbatch_path(const char *what, const char *path, char *err, size_t err_len)
{
    if (path[strcspn(path, " \t\n\"'%\\")])
        return harness_fail(err, err_len,
                    "%s '%s' has a blank, a quote, a backslash or '%%', which #SBATCH lines "
                    "cannot hold; choose another folder",
                    what, path);
    return 0;
}

static int check_sbatch_value(const char *flag, const char *value, char *err, size_t err_len)
{
    if (!value) return 0;
    if (!*value || value[strcspn(value, " \t\n\"'\\")])
        return harness_fail(err, err_len, "%s '%s': need one word (no blanks or quotes)", flag, value);
    return 0;
}

/* Opens DIR/NAME for writing, executable when `mode` says so. */
static FILE *create_file(const char *dir, const char *name, mode_t mode, char *path,
                         size_t path_len, char *err, size_t err_len)
{
    snprintf(path, path_len, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) harness_fail(err, err_len, "%s: cannot write: %s", path, strerror(errno));
    else chmod(path, mode);
    return f;
}

static int finish_file(FILE *f, const char *path, char *err, size_t err_len)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return harness_fail(err, err_len, "%s: cannot write", path);
    return 0;
}

/* The #SBATCH lines both scripts share. */
static void common_directives(FILE *f, const struct slurm_options *opt, const char *dir)
{
    fprintf(f, "#SBATCH --ntasks=1\n");
    if (opt->partition) fprintf(f, "#SBATCH --partition=%s\n", opt->partition);
    if (opt->account) fprintf(f, "#SBATCH --account=%s\n", opt->account);
    if (opt->time_limit) fprintf(f, "#SBATCH --time=%s\n", opt->time_limit);
    fprintf(f, "#SBATCH --chdir=%s\n", dir);
}

static void plugin_flags(FILE *f, const char *const *plugins, int count)
{
    for (int i = 0; i < count; i++) {
        fprintf(f, " \\\n    --plugin ");
        shell_word(f, plugins[i]);
    }
}

int slurm_write_job(const struct suite *s_in, const struct slurm_options *opt, FILE *out,
                    char *err, size_t err_len)
{
    struct suite s = *s_in;
    if (opt->shards < 1 || opt->shards > SHARD_MAX)
        return harness_fail(err, err_len, "--shards %d: need 1 <= N <= %d", opt->shards, SHARD_MAX);
    const int gpus = opt->gpus_per_task >= 0
                         ? opt->gpus_per_task
                         : (s.backend_set && s.backend == ATTN_CPU ? 0 : 1);
    /* The backend goes into the suite file: a shard must not fall back to
     * the cpu on a node whose GPU it was not given, nor the merge differ. */
    if (!s.backend_set) {
        s.backend = gpus > 0 ? ATTN_CUDA : ATTN_CPU;
        s.backend_set = 1;
    }
    if (s.backend == ATTN_CPU && gpus > 0)
        return harness_fail(err, err_len, "--gpus-per-task %d with the cpu backend: use 0", gpus);
    /* Found out here, not in every task after the job has waited in the queue. */
    for (int i = 0; i < s.method_count; i++)
        if (!attn_method_find(s.methods[i].name, s.backend))
            return harness_fail(err, err_len, "no method '%s' on backend %s in this build%s",
                        s.methods[i].name, attn_backend_name(s.backend),
                        backend_get(s.backend) ? ""
                                               : " (it has no CUDA: --backend cpu, or rebuild "
                                                 "with nvcc)");
    if (check_sbatch_value("--partition", opt->partition, err, err_len) ||
        check_sbatch_value("--account", opt->account, err, err_len) ||
        check_sbatch_value("--time", opt->time_limit, err, err_len))
        return -1;

    struct sweep_plan plan;
    if (sweep_plan_build(&s, s.backend, &plan) != 0) return harness_fail(err, err_len, "out of memory");
    int *shard_of = calloc(plan.count ? (size_t)plan.count : 1, sizeof *shard_of);
    double *load = calloc((size_t)opt->shards, sizeof *load);
    int rc = !shard_of || !load ? harness_fail(err, err_len, "out of memory") : 0;
    if (!rc && opt->shards > plan.count)
        rc = harness_fail(err, err_len, "--shards %d: suite %s has only %ld points", opt->shards, s.name,
                  plan.count);
    if (!rc && sweep_plan_assign(&plan, opt->shards, shard_of) != 0)
        rc = harness_fail(err, err_len, "out of memory");
    double total = 0, largest = 0;
    for (long i = 0; !rc && i < plan.count; i++) {
        load[shard_of[i]] += plan.cost_s[i];
        total += plan.cost_s[i];
    }
    for (int i = 0; !rc && i < opt->shards; i++)
        if (load[i] > largest) largest = load[i];
    long points = plan.count;
    sweep_plan_free(&plan);
    free(shard_of);
    free(load);
    if (rc) return rc;

    /* Absolute paths: the tasks run elsewhere, in --chdir. */
    char dir[PATH_MAX], exe[PATH_MAX], logs[PATH_MAX + 8];
    if (!realpath("/proc/self/exe", exe))
        return harness_fail(err, err_len, "cannot find this program's path: %s", strerror(errno));
    const int nplugins = opt->plugin_count;
    char (*plugins)[PATH_MAX] = calloc(nplugins ? (size_t)nplugins : 1, sizeof *plugins);
    const char **plugin_paths = calloc(nplugins ? (size_t)nplugins : 1, sizeof *plugin_paths);
    if (!plugins || !plugin_paths) {
        harness_fail(err, err_len, "out of memory");
        goto failed;
    }
    for (int i = 0; i < nplugins; i++) {
        if (!realpath(opt->plugins[i], plugins[i])) {
            harness_fail(err, err_len, "--plugin %s: %s", opt->plugins[i], strerror(errno));
            goto failed;
        }
        plugin_paths[i] = plugins[i];
    }
    char ceilings[PATH_MAX] = "";
    if (opt->ceilings && !realpath(opt->ceilings, ceilings)) {
        harness_fail(err, err_len, "--ceilings %s: %s", opt->ceilings, strerror(errno));
        goto failed;
    }
    if (check_sbatch_path("--dir", opt->dir, err, err_len)) goto failed;
    if (mkdir(opt->dir, 0777) != 0 && errno != EEXIST) {
        harness_fail(err, err_len, "%s: cannot create: %s", opt->dir, strerror(errno));
        goto failed;
    }
    if (!realpath(opt->dir, dir)) {
        harness_fail(err, err_len, "%s: %s", opt->dir, strerror(errno));
        goto failed;
    }
    if (check_sbatch_path("--dir, in full,", dir, err, err_len)) goto failed;
    snprintf(logs, sizeof logs, "%s/logs", dir);
    if (mkdir(logs, 0777) != 0 && errno != EEXIST) {
        harness_fail(err, err_len, "%s: cannot create: %s", logs, strerror(errno));
        goto failed;
    }

    char path[PATH_MAX + 128], suite_file[SUITE_NAME_LEN + 8], merged[SUITE_NAME_LEN + 8];
    snprintf(suite_file, sizeof suite_file, "%s.suite", s.name);
    snprintf(merged, sizeof merged, "%s.csv", s.name);
    FILE *f = create_file(dir, suite_file, 0644, path, sizeof path, err, err_len);
    if (!f) goto failed;
    fprintf(f, "# Suite %s as `attnbench slurm` resolved it (its file, then the flags):\n"
               "# every shard of the job and its merge read this one definition.\n", s.name);
    suite_write(f, &s);
    if (finish_file(f, path, err, err_len)) goto failed;

    f = create_file(dir, "shards.sbatch", 0755, path, sizeof path, err, err_len);
    if (!f) goto failed;
    fprintf(f, "#!/bin/bash\n"
               "# Suite %s in %d shards, one per task of this job array; written by\n"
               "# attnbench %s (%s). Submit with submit.sh, which also queues the merge.\n"
               "#SBATCH --job-name=attnbench-%s\n"
               "#SBATCH --array=1-%d\n",
            s.name, opt->shards, ATTN_VERSION, ATTN_GIT_REV, s.name, opt->shards);
    if (gpus > 0) fprintf(f, "#SBATCH --gpus-per-task=%d\n", gpus);
    common_directives(f, opt, dir);
    fprintf(f, "#SBATCH --output=%s/shard-%%a.out\n"
               "set -u\n"
               "# --resume: a requeued task measures only what its file lacks.\n"
               "exec ", logs);
    shell_word(f, exe);
    fprintf(f, " run ");
    shell_word(f, suite_file);
    fprintf(f, " \\\n    --shard \"$SLURM_ARRAY_TASK_ID/%d\" --out \"shard-$SLURM_ARRAY_TASK_ID-of-%d.csv\""
               " \\\n    --resume --quiet%s%s%s", opt->shards, opt->shards, gpus > 1 ? " --gpus all" : "",
            opt->verify ? " --verify" : "", opt->profile ? " --profile" : "");
    if (ceilings[0]) {
        fputs(" --ceilings ", f);
        shell_word(f, ceilings);
    }
    plugin_flags(f, plugin_paths, nplugins);
    fputc('\n', f);
    if (finish_file(f, path, err, err_len)) goto failed;

    f = create_file(dir, "merge.sbatch", 0755, path, sizeof path, err, err_len);
    if (!f) goto failed;
    fprintf(f, "#!/bin/bash\n"
               "# Joins the shards' files of suite %s into %s, and names any point\n"
               "# missing or measured twice (exit 1). Queued by submit.sh after the shards.\n"
               "#SBATCH --job-name=attnbench-%s-merge\n",
            s.name, merged, s.name);
    common_directives(f, opt, dir);
    fprintf(f, "#SBATCH --output=%s/merge.out\n"
               "set -u\n"
               "# The merged file is made from the shards' files, which stay: remaking it\n"
               "# loses nothing.\n"
               "rm -f ", logs);
    shell_word(f, merged);
    fprintf(f, "\nexec ");
    shell_word(f, exe);
    fprintf(f, " merge ");
    shell_word(f, merged);
    fprintf(f, " shard-*-of-%d.csv --suite ", opt->shards);
    shell_word(f, suite_file);
    plugin_flags(f, plugin_paths, nplugins);
    fputc('\n', f);
    if (finish_file(f, path, err, err_len)) goto failed;

    f = create_file(dir, "submit.sh", 0755, path, sizeof path, err, err_len);
    if (!f) goto failed;
    fprintf(f, "#!/bin/bash\n"
               "# Submits the shards of suite %s as a job array, then the merge as a job\n"
               "# that starts when every shard has ended, ok or not (afterany).\n"
               "set -euo pipefail\n"
               "dir=", s.name);
    shell_word(f, dir);
    fprintf(f, "\n"
               "array=$(sbatch --parsable \"$dir/shards.sbatch\")\n"
               "array=${array%%%%;*}   # --parsable prints ID or ID;CLUSTER\n"
               "merge=$(sbatch --parsable --dependency=afterany:\"$array\" \"$dir/merge.sbatch\")\n"
               "merge=${merge%%%%;*}\n"
               "echo \"shards job: $array (tasks 1-%d; logs in $dir/logs)\"\n"
               "echo \"merge job: $merge (writes $dir/%s)\"\n",
            opt->shards, merged);
    if (finish_file(f, path, err, err_len)) goto failed;
    free(plugins);
    free(plugin_paths);

    fprintf(out,
            "attnbench slurm: suite %s, %ld points on %s in %d shards (estimated %.0f s for the "
            "largest shard, %.0f s in all)\n"
            "wrote %s/{%s,shards.sbatch,merge.sbatch,submit.sh}\n"
            "submit with: bash %s/submit.sh\n"
            "results: %s/%s once the merge job has run\n",
            s.name, points, attn_backend_name(s.backend), opt->shards, largest, total, dir,
            suite_file, dir, dir, merged);
    return 0;
failed:
    free(plugins);
    free(plugin_paths);
    return -1;
}
