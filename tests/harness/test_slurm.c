/* test_slurm.c — a sweep as a Slurm job (harness/sweep/slurm.c): the resolved
 * suite written so that it reads back as the same definition; the job
 * array, merge job and submit script with the options asked for; the
 * backend and GPUs per task chosen and written down; bad options refused
 * before anything is written. (tests/slurm/ submits such a job to a real
 * cluster; tests/e2e runs its scripts without one.) */
#include "sweep/slurm.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "attn/registry.h"
#include "sweep/shard.h"
#include "test_util.h"

/* A method on the cuda backend, so that a build without CUDA can write a
 * GPU job; it is never run. */
static const char *fake_validate(const struct attn_problem *p, const struct attn_params *a,
                                 char *why, size_t why_len)
{
    return NULL;
}
static int fake_run(void *state, const struct attn_tensors *t, void *stream) { return 0; }
static double fake_work(const struct attn_problem *p, const struct attn_params *a)
{
    return 1e9 * (double)p->N;
}
static const struct attn_method fake_gpu = {
    .abi_version = ATTN_ABI_VERSION, .name = "fake_gpu", .description = "test",
    .backend = ATTN_CUDA, .validate = fake_validate, .run = fake_run, .flops = fake_work,
    .bytes = fake_work,
};

static void parse_suite(const char *text, struct suite *s)
{
    char err[1024];
    if (suite_parse_text(text, "test", s, err, sizeof err) != 0) {
        fprintf(stderr, "suite: %s\n", err);
        exit(1);
    }
}

static void hash_of(const struct suite *s, char *hash)
{
    struct sweep_plan plan;
    CHECK(sweep_plan_build(s, s->backend, &plan) == 0);
    memcpy(hash, plan.suite_hash, 17);
    sweep_plan_free(&plan);
}

static char *read_text(const char *path)
{
    static char text[65536];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[n] = '\0';
    return text;
}

static void test_suite_round_trip(void)
{
    struct suite s, back;
    parse_suite("name trip\ndescribe a suite, with words\n"
                "methods full:naive agent mita:route_only topk\nseqlen 256,2^10..2^12\n"
                "B 1,2\nH 3\nd 64,128\ndtype fp32 bf16\nm 16,32\nk 8\ns_r 1,2\n"
                "shared_scale official paper\nbackend cpu\nreps 7\nwarmup 0\nbudget 2.5\n"
                "timeout 300\nseed 18446744073709551615\n",
                &s);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    suite_write(f, &s);
    fclose(f);
    parse_suite(text, &back);
    char a[17], b[17];
    hash_of(&s, a);
    hash_of(&back, b);
    CHECK_STR(b, a);
    CHECK_STR(back.description, s.description);
    CHECK(back.budget_s == 2.5 && back.timeout_s == 300 && back.seed == UINT64_MAX &&
          back.backend_set);
    free(text);
}

/* Writes a job; returns 0 or the error's return, with the message in err. */
static int write_job(const char *suite_text, struct slurm_options opt, char *out, size_t out_len,
                     char *err, size_t err_len)
{
    struct suite s;
    parse_suite(suite_text, &s);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    err[0] = '\0';
    int rc = slurm_write_job(&s, &opt, f, err, err_len);
    fclose(f);
    snprintf(out, out_len, "%s", text);
    free(text);
    return rc;
}

static void test_cpu_job(const char *dir)
{
    char job[1024], path[1200], out[4096], err[1024];
    scratch_path(job, sizeof job, dir, "cpujob");
    const char *suite_text = "name q\nmethods full linear\nseqlen 2^8..2^10\nbackend cpu\n";
    struct slurm_options opt = {.dir = job, .shards = 3, .gpus_per_task = -1,
                                .partition = "debug", .account = "acct", .time_limit = "10"};
    CHECK(write_job(suite_text, opt, out, sizeof out, err, sizeof err) == 0);
    CHECK_STR(err, "");
    CHECK_CONTAINS(out, "suite q, 6 points on cpu in 3 shards");
    snprintf(path, sizeof path, "submit with: bash %s/submit.sh", job);
    CHECK_CONTAINS(out, path);

    const char *shards = read_text(scratch_path(path, sizeof path, job, "shards.sbatch"));
    CHECK(strncmp(shards, "#!/bin/bash\n", 12) == 0);
    CHECK_CONTAINS(shards, "#SBATCH --array=1-3\n");
    CHECK_CONTAINS(shards, "#SBATCH --partition=debug\n");
    CHECK_CONTAINS(shards, "#SBATCH --account=acct\n");
    CHECK_CONTAINS(shards, "#SBATCH --time=10\n");
    snprintf(path, sizeof path, "#SBATCH --chdir=%s\n", job);
    CHECK_CONTAINS(shards, path);
    snprintf(path, sizeof path, "#SBATCH --output=%s/logs/shard-%%a.out\n", job);
    CHECK_CONTAINS(shards, path);
    CHECK_CONTAINS(shards, " run 'q.suite' \\\n    --shard \"$SLURM_ARRAY_TASK_ID/3\" --out "
                           "\"shard-$SLURM_ARRAY_TASK_ID-of-3.csv\"");
    CHECK_CONTAINS(shards, "--resume --quiet\n");
    CHECK(!strstr(shards, "--gpus")); /* cpu: no GPU asked for, none used */

    const char *merge = read_text(scratch_path(path, sizeof path, job, "merge.sbatch"));
    CHECK_CONTAINS(merge, " merge 'q.csv' shard-*-of-3.csv --suite 'q.suite'\n");
    CHECK_CONTAINS(merge, "#SBATCH --partition=debug\n");
    CHECK(!strstr(merge, "--array"));

    const char *submit = read_text(scratch_path(path, sizeof path, job, "submit.sh"));
    CHECK_CONTAINS(submit, "array=$(sbatch --parsable \"$dir/shards.sbatch\")");
    CHECK_CONTAINS(submit, "--dependency=afterany:\"$array\" \"$dir/merge.sbatch\"");
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0100));
    CHECK(stat(scratch_path(path, sizeof path, job, "logs"), &st) == 0 && S_ISDIR(st.st_mode));

    /* The suite file is the same definition as the one asked for. */
    struct suite s, written;
    char err2[1024], a[17], b[17];
    parse_suite(suite_text, &s);
    CHECK(suite_parse_file(scratch_path(path, sizeof path, job, "q.suite"), &written, err2,
                           sizeof err2) == 0);
    hash_of(&s, a);
    hash_of(&written, b);
    CHECK_STR(b, a);
}

static void test_gpu_job(const char *dir)
{
    char job[1024], path[1200], out[4096], err[1024];
    scratch_path(job, sizeof job, dir, "gpujob");
    /* No backend in the suite: a job with GPUs runs on cuda, and says so. */
    struct slurm_options opt = {.dir = job, .shards = 2, .gpus_per_task = -1};
    CHECK(write_job("name g\nmethods fake_gpu\n", opt, out, sizeof out, err, sizeof err) == 0);
    CHECK_CONTAINS(out, "on cuda in 2 shards");
    const char *shards = read_text(scratch_path(path, sizeof path, job, "shards.sbatch"));
    CHECK_CONTAINS(shards, "#SBATCH --gpus-per-task=1\n");
    CHECK(!strstr(shards, "--gpus all"));
    CHECK(!strstr(shards, "--partition"));
    CHECK_CONTAINS(read_text(scratch_path(path, sizeof path, job, "g.suite")), "backend      cuda\n");

    /* Several GPUs a task: the task runs a worker per GPU it was given. */
    opt.gpus_per_task = 4;
    CHECK(write_job("name g\nmethods fake_gpu\n", opt, out, sizeof out, err, sizeof err) == 0);
    shards = read_text(scratch_path(path, sizeof path, job, "shards.sbatch"));
    CHECK_CONTAINS(shards, "#SBATCH --gpus-per-task=4\n");
    CHECK_CONTAINS(shards, "--resume --quiet --gpus all\n");

    /* --verify: every task checks its outputs (run --verify). */
    opt.verify = 1;
    CHECK(write_job("name g\nmethods fake_gpu\n", opt, out, sizeof out, err, sizeof err) == 0);
    shards = read_text(scratch_path(path, sizeof path, job, "shards.sbatch"));
    CHECK_CONTAINS(shards, "--resume --quiet --gpus all --verify\n");
    opt.verify = 0;

    /* --profile and --ceilings: passed on, the ceilings by their absolute path; a ceilings
     * file that is not there is named. */
    char ceilings[1024], absolute[PATH_MAX], want[PATH_MAX + 64];
    scratch_write(scratch_path(ceilings, sizeof ceilings, dir, "h200 ceilings.csv"), "x\n");
    CHECK(realpath(ceilings, absolute) != NULL);
    opt.profile = 1;
    opt.ceilings = ceilings;
    CHECK(write_job("name g\nmethods fake_gpu\n", opt, out, sizeof out, err, sizeof err) == 0);
    shards = read_text(scratch_path(path, sizeof path, job, "shards.sbatch"));
    snprintf(want, sizeof want, "--resume --quiet --gpus all --profile --ceilings '%s'\n",
             absolute);
    CHECK_CONTAINS(shards, want);
    opt.ceilings = "no-such-ceilings.csv";
    CHECK(write_job("name g\nmethods fake_gpu\n", opt, out, sizeof out, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--ceilings no-such-ceilings.csv: No such file or directory");
    opt.profile = 0;
    opt.ceilings = NULL;

    /* No GPU asked for and no backend set: the cpu. */
    opt.gpus_per_task = 0;
    CHECK(write_job("name c\nmethods full\n", opt, out, sizeof out, err, sizeof err) == 0);
    CHECK_CONTAINS(out, "on cpu in 2 shards");
}

static void test_refused(const char *dir)
{
    char job[1024], out[4096], err[1024];
    const char *cpu = "name r\nmethods full linear\nseqlen 2^8..2^10\nbackend cpu\n";
    struct slurm_options good = {.dir = scratch_path(job, sizeof job, dir, "refused"),
                                 .shards = 2, .gpus_per_task = -1};
    struct slurm_options opt = good;
    opt.shards = 0;
    CHECK(write_job(cpu, opt, out, sizeof out, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--shards 0: need 1 <= N <= 4096");
    opt.shards = 7;
    CHECK(write_job(cpu, opt, out, sizeof out, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--shards 7: suite r has only 6 points");
    opt = good;
    opt.gpus_per_task = 1;
    CHECK(write_job(cpu, opt, out, sizeof out, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--gpus-per-task 1 with the cpu backend: use 0");
    opt = good;
    opt.partition = "two words";
    CHECK(write_job(cpu, opt, out, sizeof out, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--partition 'two words': need one word");
    opt = good;
    opt.time_limit = "";
    CHECK(write_job(cpu, opt, out, sizeof out, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--time '': need one word");
    opt = good;
    CHECK(write_job("methods no_such_method\nbackend cpu\n", opt, out, sizeof out, err,
                    sizeof err) != 0);
    CHECK_CONTAINS(err, "no method 'no_such_method' on backend cpu");
    struct stat st;
    CHECK(stat(job, &st) != 0); /* nothing written so far */

    char blank[1100];
    snprintf(blank, sizeof blank, "%s/with blank", dir);
    opt.dir = blank;
    CHECK(write_job(cpu, opt, out, sizeof out, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "has a blank, a quote, a backslash or '%'");
    opt = good;
    const char *plugin = "/no/such/plugin.so";
    opt.plugins = &plugin;
    opt.plugin_count = 1;
    CHECK(write_job(cpu, opt, out, sizeof out, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--plugin /no/such/plugin.so");
}

int main(void)
{
    const struct attn_method *const extra[] = {&fake_gpu, NULL};
    if (attn_registry_append(extra) != 0) return 1;
    char dir[512];
    scratch_make(dir, sizeof dir);
    test_suite_round_trip();
    test_cpu_job(dir);
    test_gpu_job(dir);
    test_refused(dir);
    /* The jobs' folders have files and a logs/ folder in them. */
    char command[1100];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_exit("test_slurm");
}
