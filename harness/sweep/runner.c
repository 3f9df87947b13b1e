/* runner.c — the sweep runner (see runner.h).
 *
 * Each point runs in a forked worker by default (worker.h): a sticky CUDA
 * error (an illegal address, say) or a crash in a plugin then costs one row
 * that says `error:...`, not the sweep. The parent never touches CUDA, so
 * every worker starts with a clean process. A worker measures one point and
 * exits; with --profile it goes on to the next point, so that the CUDA
 * context and CUPTI's profiling session, which take seconds to set up, are
 * set up once per run (profiler.cu), and a worker whose point ended in an
 * error exits all the same. Rows are written by the parent only, one whole
 * line at a time, flushed at once.
 */
#include "sweep/runner.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "measure/backend.h"
#include "results/csv.h"
#include "git_rev.h"
#include "measure/measure.h"
#include "core/clock.h"
#include "measure/profile.h"
#include "results/json.h"
#include "results/steps_csv.h"
#include "attn/registry.h"
#include "sweep/interrupt.h"
#include "sweep/worker.h"
#include "measure/budget.h"
#include "results/table.h"

enum run_file_mode runner_file_mode(const struct run_options *opt)
{
    return opt->resume ? RUN_FILE_RESUME : opt->force ? RUN_FILE_FORCE : RUN_FILE_NEW;
}

enum attn_backend runner_pick_backend(const struct suite *s)
{
    if (s->backend_set) return s->backend;
    return backend_cuda_available() ? ATTN_CUDA : ATTN_CPU;
}

/* ---- running one point, in this process or a worker ---------------------- */

/* The device is read once per process: in the worker for isolated points. */
static void measure_here(const struct sweep_point *pt, const struct measure_options *mo,
                         struct result_row *row)
{
    static struct device_info device;
    static int initialized = 0, init_failed = 0;
    static char init_error[200];
    struct backend *b = backend_get(pt->problem.backend);
    row->point = *pt;
    if (!b) {
        snprintf(row->status, sizeof row->status, "error:this build has no %s backend",
                 attn_backend_name(pt->problem.backend));
        return;
    }
    if (!initialized) {
        init_failed = b->init(b, &device, init_error, sizeof init_error) != 0;
        initialized = 1;
    }
    if (init_failed) {
        snprintf(row->status, sizeof row->status, "error:%s", init_error);
        return;
    }
    measure_point(pt, b, &device, mo, row);
}

/* What a worker is asked: a point, with the samples its budget allows. */
struct point_request {
    struct sweep_point point;
    struct timing_rules timing;     /* with this point's cap */
};

struct point_worker {
    const struct measure_options *mo;  /* all but the timing rules */
    int keep;                          /* go on to the next point (--profile) */
};

static int serve_point(void *ctx, const void *request, void *reply)
{
    const struct point_worker *pw = ctx;
    const struct point_request *req = request;
    struct result_row *row = reply;
    struct measure_options mo = *pw->mo;
    mo.timing = req->timing;
    measure_here(&req->point, &mo, row);
    /* An error may have left the CUDA context unusable (sticky errors): the
     * next point gets a fresh process. */
    return pw->keep && strncmp(row->status, "error:", 6) != 0;
}

/* A row of a point that gave no measurement (not run, or stopped for
 * running too long): the device columns are those of the last point that
 * ran. */
static void unmeasured_row(struct result_row *row, const struct sweep_point *pt,
                           const char *status, const struct device_info *last)
{
    snprintf(row->device, sizeof row->device, "%s", last->name);
    snprintf(row->driver, sizeof row->driver, "%s", last->driver);
    snprintf(row->runtime, sizeof row->runtime, "%s", last->runtime);
    row->sm_clock_mhz = last->sm_clock_mhz;
    row->point = *pt;
    snprintf(row->status, sizeof row->status, "%s", status);
    snprintf(row->git_rev, sizeof row->git_rev, "%s", ATTN_GIT_REV);
    utc_timestamp(row->timestamp, sizeof row->timestamp);
}

/* The row's suite, suite_hash and shard stay the caller's. Returns how the
 * worker's call ended (worker.h): a failure is a row saying `error:`, a
 * timeout one saying `timeout`; a stop signal leaves the row unwritten. */
static int measure_in_worker(struct worker *w, const struct sweep_point *pt,
                             const struct timing_rules *timing, const struct device_info *last,
                             struct result_row *row)
{
    struct point_request req;
    memset(&req, 0, sizeof req);
    req.point = *pt;
    req.timing = *timing;
    static struct result_row reply; /* large for the stack */
    char why[200];
    const int got = worker_call(w, &req, &reply, why, sizeof why);
    if (got == WORKER_TIMED_OUT) {
        unmeasured_row(row, pt, "timeout", last);
    } else if (got != WORKER_OK) {
        row->point = *pt;
        snprintf(row->status, sizeof row->status, "error:%s", why);
    } else {
        memcpy(reply.suite, row->suite, sizeof reply.suite);
        memcpy(reply.suite_hash, row->suite_hash, sizeof reply.suite_hash);
        memcpy(reply.shard, row->shard, sizeof reply.shard);
        *row = reply;
    }
    return got;
}

/* ---- preparing the points ------------------------------------------------ */

/* A growing list of point keys; sweeps have at most thousands of points, so
 * a linear search is fine. */
struct key_set {
    char (*keys)[CSV_KEY_LEN];
    long count, cap;
};

static int key_set_has(const struct key_set *s, const char *key)
{
    for (long i = 0; i < s->count; i++)
        if (strcmp(s->keys[i], key) == 0) return 1;
    return 0;
}

static int key_set_add(struct key_set *s, const char *key)
{
    if (s->count == s->cap) {
        long cap = s->cap ? 2 * s->cap : 64;
        void *grown = realloc(s->keys, cap * sizeof *s->keys);
        if (!grown) return -1;
        s->keys = grown;
        s->cap = cap;
    }
    snprintf(s->keys[s->count++], sizeof *s->keys, "%s", key);
    return 0;
}

/* Adds the keys of the rows of `t`, read from `path`, to `done`. Non-zero
 * with a message when a key column is missing. */
static int add_done_keys(const struct csv_table *t, const char *path, struct key_set *done,
                         char *err, size_t err_len)
{
    for (long r = 0; r < t->nrows; r++) {
        char key[CSV_KEY_LEN];
        if (csv_row_key(t, r, key, sizeof key) != 0) {
            snprintf(err, err_len, "%s: not an attnbench results file (a key column is missing)",
                     path);
            return -1;
        }
        if (!key_set_has(done, key) && key_set_add(done, key) != 0) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Keys of the rows already in `path`, a file this run does not write (the
 * results file of `run --gpus`, for its workers). A missing or empty file
 * has none. Non-zero with a message when the file is corrupt. */
static int load_done_keys(const char *path, struct key_set *done, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int empty = fgetc(f) == EOF;
    fclose(f);
    if (empty) return 0;
    struct csv_table t;
    if (csv_read(path, &t, err, err_len) != 0) return -1;
    int rc = add_done_keys(&t, path, done, err, err_len);
    csv_table_free(&t);
    return rc;
}

/* ---- the sweep ----------------------------------------------------------- */

static int is_failure(const char *status)
{
    return strncmp(status, "error:", 6) == 0 || strncmp(status, "invalid:", 8) == 0 ||
           strcmp(status, "timeout") == 0 || strncmp(status, "wrong:", 6) == 0;
}

int runner_run(const struct suite *s, const struct run_options *opt)
{
    char err[1024];
    enum attn_backend backend = runner_pick_backend(s);
    if (!backend_get(backend)) {
        fprintf(stderr, "attnbench: backend %s: this build has no CUDA support (rebuild with "
                        "nvcc on PATH, meson option -Dcuda=enabled)\n", attn_backend_name(backend));
        return 2;
    }
    if (backend == ATTN_CUDA && !backend_cuda_available()) {
        fprintf(stderr, "attnbench: backend cuda: no usable CUDA device here (use --backend cpu)\n");
        return 2;
    }

    for (int i = 0; i < s->method_count; i++)
        if (!attn_method_find(s->methods[i].name, backend)) {
            fprintf(stderr, "attnbench: unknown method '%s' on backend %s (known:",
                    s->methods[i].name, attn_backend_name(backend));
            for (const struct attn_method *const *m = attn_method_all(); *m; m++)
                if ((*m)->backend == backend) fprintf(stderr, " %s", (*m)->name);
            fprintf(stderr, ")\n");
            return 2;
        }

    /* The plan has the points resolved and deduplicated (e.g. `full` once,
     * not once per m); keep this shard's, then drop those --resume finds
     * done. */
    struct sweep_plan plan;
    if (sweep_plan_build(s, backend, &plan) != 0 ||
        sweep_plan_keep_shard(&plan, opt->shard) != 0 ||
        sweep_plan_keep_shard(&plan, opt->worker) != 0) {
        fprintf(stderr, "attnbench: out of memory expanding suite %s\n", s->name);
        sweep_plan_free(&plan);
        return 2;
    }
    struct sweep_point *points = plan.points;
    struct ceilings ceilings;
    if (opt->ceilings_path && ceilings_read(opt->ceilings_path, &ceilings, err, sizeof err) != 0) {
        fprintf(stderr, "attnbench: --ceilings %s\n", err);
        sweep_plan_free(&plan);
        return 2;
    }
    /* A file-size limit then fails a write (EFBIG), as a full disk does,
     * instead of killing the run. */
    signal(SIGXFSZ, SIG_IGN);
    /* The file is this run's from here on (results/run_file.h); with
     * --resume, its rows say which points are done. */
    const enum run_file_mode mode = runner_file_mode(opt);
    struct csv_writer w;
    struct csv_table there;
    if (csv_writer_open(&w, opt->out_path, mode, stderr, &there, err, sizeof err) != 0) {
        fprintf(stderr, "attnbench: %s%s\n", mode == RUN_FILE_RESUME ? "cannot resume: " : "",
                err);
        sweep_plan_free(&plan);
        return 2;
    }
    struct key_set done = {0};
    int rc = add_done_keys(&there, opt->out_path, &done, err, sizeof err);
    csv_table_free(&there);
    if (rc == 0 && opt->resume && opt->done_path)
        rc = load_done_keys(opt->done_path, &done, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "attnbench: cannot resume: %s\n", err);
        free(done.keys);
        csv_writer_close(&w);
        sweep_plan_free(&plan);
        return 2;
    }
    long n = 0, resumed = 0;
    for (long i = 0; i < plan.count; i++) {
        char key[CSV_KEY_LEN];
        csv_point_key(&points[i], key, sizeof key);
        if (key_set_has(&done, key)) {
            resumed++;
            continue;
        }
        points[n++] = points[i];
    }
    free(done.keys);
    char shard[24];
    shard_format(opt->shard, shard, sizeof shard);

    struct json_writer json = {0};
    if (opt->json_path && json_writer_open(&json, opt->json_path, mode, opt->argc, opt->argv, err,
                                           sizeof err) != 0) {
        fprintf(stderr, "attnbench: --json %s\n", err);
        csv_writer_close(&w);
        sweep_plan_free(&plan);
        return 2;
    }
    /* Only a GPU has counters: the CPU gets no per-step file. */
    struct steps_writer steps = {.file.fd = -1};
    if (opt->profile && backend == ATTN_CUDA &&
        steps_writer_open(&steps, opt->out_path, mode, stderr, err, sizeof err) != 0) {
        fprintf(stderr, "attnbench: %s\n", err);
        csv_writer_close(&w);
        json_writer_close(&json);
        sweep_plan_free(&plan);
        return 2;
    }
    char last_profile_note[sizeof ((struct result_row *)0)->profile_note] = "";
    fprintf(stderr, "attnbench: suite %s, %ld points on %s -> %s", s->name, n,
            attn_backend_name(backend), opt->out_path);
    if (opt->shard.count > 1) fprintf(stderr, " (shard %s)", shard);
    if (resumed) fprintf(stderr, " (%ld already there, skipped)", resumed);
    fprintf(stderr, "\n");
    if (!opt->quiet) table_print_header(stdout);

    struct measure_options mo = {
        .timing = timing_rules_for(backend, s->warmup, s->reps, s->max_noise_pct, s->min_samples,
                                   s->max_samples, s->min_time_s, s->timing,
                                   opt->discard_throttled),
        .profile = opt->profile, .ceilings = opt->ceilings_path ? &ceilings : NULL,
        .verify = opt->verify || s->verify, .kernel_names = 1,
    };
    struct point_worker serve_ctx = {&mo, opt->profile};
    struct worker worker;
    worker_init(&worker, serve_point, &serve_ctx, sizeof(struct point_request),
                sizeof(struct result_row));
    worker.timeout_s = s->timeout_s;
    if (s->timeout_s > 0 && !opt->isolate)
        fprintf(stderr, "attnbench: --no-isolate: points run in this process, where nothing can "
                        "stop them; the timeout (%g s a point) is not enforced\n", s->timeout_s);
    /* From here, a stop signal ends the sweep between two rows (interrupt.h). */
    char note[2600];
    snprintf(note, sizeof note, ": every row measured is in %s; to resume:\n  %s\n",
             opt->out_path, opt->resume_command ? opt->resume_command : "");
    interrupt_install(opt->resume_command ? note : NULL);
    int exit_status = 0;
    struct budget budget;
    const int most = mo.timing.cap;
    if (budget_init(&budget, s->budget_s, most, s->warmup, n) != 0) {
        fprintf(stderr, "attnbench: out of memory\n");
        exit_status = 2;
        n = 0;
    }
    long measured = 0;
    struct device_info last_device = {0};
    snprintf(last_device.name, sizeof last_device.name, "%s", attn_backend_name(backend));
    double start = monotonic_seconds();
    for (long i = 0; i < n && !interrupt_signal(); i++) {
        struct result_row row;
        memset(&row, 0, sizeof row);
        snprintf(row.suite, sizeof row.suite, "%s", s->name);
        snprintf(row.suite_hash, sizeof row.suite_hash, "%s", plan.suite_hash);
        snprintf(row.shard, sizeof row.shard, "%s", shard);
        mo.timing.cap = budget_samples(&budget, &points[i]);
        mo.timing.capped_by_budget = mo.timing.cap < most;
        if (mo.timing.cap == 0) {
            unmeasured_row(&row, &points[i], "skipped:budget", &last_device);
        } else {
            if (opt->isolate) {
                if (measure_in_worker(&worker, &points[i], &mo.timing, &last_device, &row) ==
                    WORKER_STOPPED)
                    break;
            } else {
                interrupt_now(1);
                if (!interrupt_signal()) measure_here(&points[i], &mo, &row);
                interrupt_now(0);
                if (interrupt_signal()) break;
            }
            measured++;
            if (row.device[0] && opt->device_tag) {
                /* Workers of `run --gpus` share a device name: say which GPU. */
                size_t len = strlen(row.device);
                snprintf(row.device + len, sizeof row.device - len, " [%s]", opt->device_tag);
            }
            if (row.device[0]) {
                snprintf(last_device.name, sizeof last_device.name, "%s", row.device);
                snprintf(last_device.driver, sizeof last_device.driver, "%s", row.driver);
                snprintf(last_device.runtime, sizeof last_device.runtime, "%s", row.runtime);
                last_device.sm_clock_mhz = row.sm_clock_mhz;
            }
            budget_record(&budget, &row);
        }
        if (csv_writer_row(&w, &row) != 0) {
            fprintf(stderr, "attnbench: writing %s failed: %s\n", opt->out_path, strerror(errno));
            exit_status = 2;
            break;
        }
        if (json.f && json_writer_row(&json, &row) != 0) {
            fprintf(stderr, "attnbench: writing %s failed: %s\n", json.path, strerror(errno));
            exit_status = 2;
            break;
        }
        if (steps.file.fd >= 0 && steps_writer_rows(&steps, &row) != 0) {
            fprintf(stderr, "attnbench: writing %s failed: %s\n", steps.file.path,
                    strerror(errno));
            exit_status = 2;
            break;
        }
        /* Why the counters are missing, said once (per reason), not per row. */
        if (opt->profile && !row.has_counters && row.profile_note[0] &&
            strcmp(row.profile_note, last_profile_note) != 0) {
            fprintf(stderr, "attnbench: --profile: %s; the counter columns stay empty\n",
                    row.profile_note);
            snprintf(last_profile_note, sizeof last_profile_note, "%s", row.profile_note);
        }
        if (is_failure(row.status)) exit_status = 1;
        if (!opt->quiet) table_print_row(stdout, &row);
        table_print_progress(stderr, i + 1, n, &row, monotonic_seconds() - start, measured, n - i - 1);
    }
    worker_close(&worker);
    csv_writer_close(&w);
    steps_writer_close(&steps);
    json_writer_close(&json);
    budget_free(&budget);
    sweep_plan_free(&plan);
    const int stopped = interrupt_signal();
    interrupt_uninstall();
    if (!stopped) return exit_status;
    interrupt_print_note(stopped);
    return 128 + stopped;
}
