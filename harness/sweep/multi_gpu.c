/* multi_gpu.c — a worker process per GPU, then one results file (see
 * multi_gpu.h).
 *
 * Workers are forked, not executed afresh: they inherit the parsed suite and
 * the loaded plugins. This process never touches CUDA (runner.c's rule), so
 * each worker starts clean and its CUDA_VISIBLE_DEVICES takes effect when
 * its first CUDA call (in its own point's child) initializes the driver.
 */
#include "sweep/multi_gpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/errors.h"
#include "measure/backend.h"
#include "results/csv.h"
#include "sweep/interrupt.h"
#include "sweep/merge.h"
#include "sweep/shard.h"

/* Splits a comma-separated list into `items`; returns the count or -1. */
static int split_list(const char *text, char items[][32], int cap)
{
    int n = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, ",");
        while (len && p[len - 1] == ' ') len--;
        if (len == 0 || len >= 32 || n == cap) return -1;
        memcpy(items[n], p, len);
        items[n++][len] = '\0';
        p += strcspn(p, ",");
        if (*p == ',') p++;
        while (*p == ' ') p++;
    }
    return n;
}

int multi_gpu_resolve(const char *text, const char *visible, int device_count,
                      char ids[][32], char *err, size_t err_len)
{
    char shown[MULTI_GPU_MAX][32];
    int nshown = -1; /* unknown */
    if (visible) {
        nshown = split_list(visible, shown, MULTI_GPU_MAX);
        if (nshown < 0) {
            snprintf(err, err_len, "CUDA_VISIBLE_DEVICES='%s' is not a list of GPUs", visible);
            return -1;
        }
    } else if (device_count >= 0) {
        nshown = device_count < MULTI_GPU_MAX ? device_count : MULTI_GPU_MAX;
        for (int i = 0; i < nshown; i++) snprintf(shown[i], sizeof shown[i], "%d", i);
    }
    if (strcmp(text, "all") == 0) {
        if (nshown < 0) {
            snprintf(err, err_len, "--gpus all: cannot count the GPUs here (no CUDA in this "
                                   "build, or the driver did not answer); name them, e.g. "
                                   "--gpus 0,1");
            return -1;
        }
        if (nshown == 0) {
            snprintf(err, err_len, "--gpus all: no GPU is visible%s", visible ?
                     " (CUDA_VISIBLE_DEVICES is empty)" : "");
            return -1;
        }
        memcpy(ids, shown, (size_t)nshown * sizeof shown[0]);
        return nshown;
    }
    char items[MULTI_GPU_MAX][32];
    int n = split_list(text, items, MULTI_GPU_MAX);
    if (n <= 0) {
        snprintf(err, err_len, "--gpus '%s': need 'all' or GPU ordinals such as 0,1", text);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char *end;
        long ordinal = strtol(items[i], &end, 10);
        if (*end || end == items[i] || ordinal < 0) {
            snprintf(err, err_len, "--gpus '%s': '%s' is not a GPU ordinal (need 0, 1, ...)", text,
                     items[i]);
            return -1;
        }
        if (nshown >= 0 && ordinal >= nshown) {
            snprintf(err, err_len, "--gpus '%s': there is no GPU %ld (%d visible%s%s)", text,
                     ordinal, nshown, visible ? ": CUDA_VISIBLE_DEVICES=" : "",
                     visible ? visible : "");
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (strtol(items[j], NULL, 10) == ordinal) {
                snprintf(err, err_len, "--gpus '%s': GPU %ld is listed twice", text, ordinal);
                return -1;
            }
        if (nshown >= 0) memcpy(ids[i], shown[ordinal], sizeof shown[0]);
        else snprintf(ids[i], 32, "%ld", ordinal);
    }
    return n;
}

/* The worker's process: its GPU alone, its part of the points, its file. */
static void run_worker(const struct suite *s, const struct run_options *opt, pid_t parent,
                       const char *gpu, int index, int count, const char *part)
{
    /* If the parent dies (SIGKILL, scancel), so do the workers: SIGTERM, on
     * which each ends its point's worker and stops (interrupt.h). If the
     * parent died before prctl, getppid() is no longer it. */
    interrupt_uninstall();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(2);
    setenv("CUDA_VISIBLE_DEVICES", gpu, 1);
    char tag[48];
    snprintf(tag, sizeof tag, "gpu %s", gpu);
    struct run_options w = *opt;
    w.out_path = part;
    w.worker = (struct shard_spec){index, count};
    w.device_tag = tag;
    w.quiet = 1;
    w.done_path = opt->resume ? opt->out_path : NULL;
    w.resume_command = NULL; /* the parent says how to resume */
    const int rc = runner_run(s, &w);
    fflush(NULL);
    _exit(rc);
}

/* Merges the workers' files into the results file and the rows it had,
 * then removes them. In a child process: merging reads the results file,
 * and closing any descriptor of it in this process would let go of the
 * run's lock (results/run_file.h). Returns merge_files()'s status; 0 when
 * no worker got as far as its file. */
static int merge_parts(const struct suite *s, const struct run_options *opt,
                       char parts[][1100], int count)
{
    const char *inputs[MULTI_GPU_MAX + 1];
    int ninputs = 0;
    inputs[ninputs++] = opt->out_path; /* its header at least: written when it was opened */
    struct stat st;
    for (int i = 0; i < count; i++)
        if (stat(parts[i], &st) == 0) inputs[ninputs++] = parts[i];
    if (ninputs == 1) return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct merge_options mo = {
            .out_path = opt->out_path, .inputs = inputs, .input_count = ninputs, .suite = s,
            .shard = opt->shard,
        };
        int merged = merge_files(&mo, stderr);
        if (merged == 2)
            fprintf(stderr, "attnbench: the workers' rows are kept in %s.part*of%d\n",
                    opt->out_path, count);
        else
            for (int i = 0; i < count; i++) unlink(parts[i]);
        fflush(NULL);
        _exit(merged);
    }
    int status = 0;
    if (pid < 0) fprintf(stderr, "attnbench: fork: %s\n", strerror(errno));
    else while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

int multi_gpu_run(const struct suite *s, const struct run_options *opt, const char *gpus)
{
    char err[1200];
    const enum attn_backend backend = runner_pick_backend(s);
    const char *on_cpu = getenv("ATTNBENCH_GPUS_ON_CPU");
    if (backend != ATTN_CUDA && !(on_cpu && strcmp(on_cpu, "1") == 0)) {
        fprintf(stderr, "attnbench: --gpus runs on the cuda backend, and this run is on %s "
                        "(ATTNBENCH_GPUS_ON_CPU=1 allows cpu workers, for tests)\n",
                attn_backend_name(backend));
        return 2;
    }
    char ids[MULTI_GPU_MAX][32];
    const int count = multi_gpu_resolve(gpus, getenv("CUDA_VISIBLE_DEVICES"),
                                        backend == ATTN_CUDA ? backend_cuda_device_count() : -1,
                                        ids, err, sizeof err);
    if (count < 0) {
        fprintf(stderr, "attnbench: %s\n", err);
        return 2;
    }
    /* The results file is this run's until the merge is done (its lock is
     * held here; the workers lock their own files). Refuse now, not after
     * hours of measuring, to merge into a file of another suite. */
    struct sweep_plan plan;
    if (sweep_plan_build(s, backend, &plan) != 0) {
        fprintf(stderr, "attnbench: out of memory expanding suite %s\n", s->name);
        return 2;
    }
    const enum run_file_mode mode = runner_file_mode(opt);
    struct csv_writer out;
    struct csv_table there;
    int rc = csv_writer_open(&out, opt->out_path, mode, stderr, &there, err, sizeof err);
    if (rc == 0) {
        rc = merge_check_rows(opt->out_path, &there, plan.suite_hash, err, sizeof err);
        csv_table_free(&there);
    }
    sweep_plan_free(&plan);
    char parts[MULTI_GPU_MAX][1100];
    for (int i = 0; i < count && rc == 0; i++) {
        snprintf(parts[i], sizeof parts[i], "%s.part%dof%d", opt->out_path, i + 1, count);
        /* A worker's file left by a run that was stopped: continued with
         * --resume, deleted with --force, else the user's to choose. */
        struct stat st;
        if (mode == RUN_FILE_FORCE) unlink(parts[i]);
        else if (mode == RUN_FILE_NEW && stat(parts[i], &st) == 0 && st.st_size > 0)
            rc = harness_fail(err, sizeof err, "%s holds the rows of a stopped run: --resume "
                              "to continue it (only the points it lacks are measured), or "
                              "--force to start afresh (its rows are deleted)", parts[i]);
    }
    if (rc != 0) {
        fprintf(stderr, "attnbench: %s\n", err);
        csv_writer_close(&out);
        return 2;
    }

    pid_t pids[MULTI_GPU_MAX];
    fprintf(stderr, "attnbench: %d workers:", count);
    for (int i = 0; i < count; i++)
        fprintf(stderr, " gpu %s -> %s%s", ids[i], parts[i], i + 1 < count ? "," : "\n");
    /* A stop signal goes on to every worker, which ends its point and
     * stops; their files are then kept for --resume, not merged. */
    char note[4000];
    snprintf(note, sizeof note, ": the rows measured are in %s and %s.part*of%d; to resume:\n"
             "  %s\n", opt->out_path, opt->out_path, count,
             opt->resume_command ? opt->resume_command : "");
    interrupt_install(opt->resume_command ? note : NULL);
    fflush(NULL);
    const pid_t parent = getpid();
    for (int i = 0; i < count; i++) {
        pids[i] = fork();
        if (pids[i] == 0) run_worker(s, opt, parent, ids[i], i + 1, count, parts[i]);
        if (pids[i] < 0) {
            fprintf(stderr, "attnbench: fork: %s\n", strerror(errno));
            for (int j = 0; j < i; j++) kill(pids[j], SIGTERM);
            for (int j = 0; j < i; j++) waitpid(pids[j], NULL, 0);
            interrupt_uninstall();
            csv_writer_close(&out);
            return 2;
        }
        interrupt_pass_on(pids[i], SIGTERM);
    }
    /* A signal that came while the workers were forked: pass it on now. */
    if (interrupt_signal())
        for (int i = 0; i < count; i++) kill(pids[i], SIGTERM);
    int worst = 0;
    for (int i = 0; i < count; i++) {
        int status = 0;
        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR) {}
        interrupt_forget(pids[i]);
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
        if (code != 0 && !interrupt_signal())
            fprintf(stderr, "attnbench: worker on gpu %s %s %d\n", ids[i],
                    WIFEXITED(status) ? "exited with status" : "was killed by signal",
                    WIFEXITED(status) ? code : WTERMSIG(status));
        if (code > worst) worst = code;
    }
    const int stopped = interrupt_signal();
    interrupt_uninstall();
    int merged = stopped ? 0 : merge_parts(s, opt, parts, count);
    csv_writer_close(&out);
    if (stopped) {
        interrupt_print_note(stopped);
        return 128 + stopped;
    }
    return merged > worst ? merged : worst;
}
