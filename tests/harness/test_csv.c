/* test_csv.c — the results file (harness/results/csv.c): the header written once,
 * quoting that reads back exactly, empty cells for what a method does not
 * use, refusing foreign files, rows that survive a killed writer, a file
 * with rows continued or started afresh only when asked, a row cut short
 * cut off, one run at a time (the lock), a failed write that leaves no part
 * of its row, the reader's errors, point keys that match the rows read
 * back, and a file of an earlier attnbench continued under today's header. */
#include "results/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "results/json.h"
#include "test_util.h"

/* A measured row of method `mita` on point `i` (N = 1024 * (i + 1)). */
static struct result_row make_row(int i)
{
    struct result_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.suite, sizeof r.suite, "unit");
    struct sweep_point *p = &r.point;
    snprintf(p->method, sizeof p->method, "mita");
    snprintf(p->variant, sizeof p->variant, "s_r");
    p->problem = (struct attn_problem){.B = 1, .H = 8, .N = 1024 * (int64_t)(i + 1), .d = 64,
                                       .dtype = ATTN_BF16, .backend = ATTN_CUDA, .seed = 7};
    p->params = (struct attn_params){.m = 64, .k = 128, .s_r = 2,
                                     .shared_scale = ATTN_SHARED_PAPER};
    p->uses = ATTN_USES_M | ATTN_USES_K | ATTN_USES_S_R | ATTN_USES_SHARED_SCALE |
              ATTN_USES_GATHER;
    snprintf(p->inputs, sizeof p->inputs, "clustered");
    snprintf(r.device, sizeof r.device, "NVIDIA H100 80GB HBM3");
    snprintf(r.driver, sizeof r.driver, "580.1");
    snprintf(r.runtime, sizeof r.runtime, "13.0");
    r.sm_clock_mhz = 1980;
    r.reps = 10;
    r.ms_median = 1.25 + i;
    r.ms_min = 1.0;
    r.ms_max = 2.0;
    r.ms_stddev = 0.125;
    r.ms_p10 = 1.0625;
    r.ms_p90 = 1.875;
    r.flops_model = 1.5e12;
    r.bytes_model = 2.5e9;
    r.tflops = 1200.0;
    r.gbps = 2000.0;
    snprintf(r.status, sizeof r.status, "ok");
    snprintf(r.git_rev, sizeof r.git_rev, "0123456789ab");
    snprintf(r.timestamp, sizeof r.timestamp, "2026-11-22T10:00:00Z");
    /* Nearly full, as after many repetitions: a row of about 2.4 KB. */
    for (size_t n = 0; n + 12 < sizeof r.samples_ms;)
        n += (size_t)snprintf(r.samples_ms + n, sizeof r.samples_ms - n, "%s%d.%04d", n ? ";" : "",
                              i, (int)n);
    snprintf(r.suite_hash, sizeof r.suite_hash, "0123456789abcdef");
    snprintf(r.shard, sizeof r.shard, "2/4");
    return r;
}

/* The cell of row `r`, column `name` (a check fails when there is none). */
static const char *cell(const struct csv_table *t, long r, const char *name)
{
    int c = csv_column(t, name);
    CHECK(c >= 0 && r < t->nrows);
    return c >= 0 && r < t->nrows ? t->rows[r][c] : "<missing>";
}

static int open_writer(struct csv_writer *w, const char *path)
{
    char err[1024] = "";
    int rc = csv_writer_open(w, path, RUN_FILE_RESUME, NULL, NULL, err, sizeof err);
    if (rc != 0) fprintf(stderr, "csv_writer_open: %s\n", err);
    return rc;
}

static void test_header_once(const char *dir)
{
    char path[1024], err[1024];
    scratch_path(path, sizeof path, dir, "once.csv");
    struct csv_writer w;
    struct result_row r0 = make_row(0), r1 = make_row(1), r2 = make_row(2);
    CHECK(open_writer(&w, path) == 0);
    CHECK(csv_writer_row(&w, &r0) == 0);
    CHECK(csv_writer_row(&w, &r1) == 0);
    csv_writer_close(&w);
    CHECK(open_writer(&w, path) == 0); /* appending: no second header */
    CHECK(csv_writer_row(&w, &r2) == 0);
    csv_writer_close(&w);

    scratch_write(scratch_path(path, sizeof path, dir, "empty.csv"), ""); /* empty: gets one */
    CHECK(open_writer(&w, path) == 0);
    csv_writer_close(&w);

    struct csv_table t;
    scratch_path(path, sizeof path, dir, "once.csv");
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    CHECK(t.nrows == 3);
    int ncols = 0;
    while (csv_columns()[ncols]) ncols++;
    /* suite_hash and shard follow samples_ms; later columns are appended after them. */
    CHECK(ncols >= 37 && t.ncols == ncols);
    CHECK_STR(csv_columns()[34], "samples_ms");
    CHECK_STR(csv_columns()[35], "suite_hash");
    CHECK_STR(csv_columns()[36], "shard");
    for (int c = 0; c < ncols && c < t.ncols; c++) CHECK_STR(t.header[c], csv_columns()[c]);
    /* The profiling pass's columns, in this order, after samples_ms. */
    static const char *const profiled[] = {
        "dram_read_bytes", "dram_write_bytes", "l2_bytes", "kernel_ms", "flops_measured",
        "gather_dram_bytes", "intensity", "roof_fraction", "achieved_tflops", "profile_note",
    };
    const int first = csv_column(&t, profiled[0]);
    CHECK(first > 32);
    for (int i = 0; i < 10 && first > 32 && first + i < ncols; i++)
        CHECK_STR(csv_columns()[first + i], profiled[i]);
    CHECK_STR(cell(&t, 2, "N"), "3072");
    CHECK(csv_column(&t, "no_such_column") == -1);
    csv_table_free(&t);

    scratch_path(path, sizeof path, dir, "empty.csv");
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    CHECK(t.ncols == ncols && t.nrows == 0);
    csv_table_free(&t);
}

static void test_cells(const char *dir)
{
    char path[1024], err[1024];
    scratch_path(path, sizeof path, dir, "cells.csv");
    struct csv_writer w;
    struct result_row ok = make_row(0);
    ok.ms_median = 0.0123456789;
    ok.tflops = 12.345678;
    ok.has_counters = ok.has_flops_measured = ok.has_intensity = ok.has_roof = 1;
    ok.dram_read_bytes = 268435456;
    ok.dram_write_bytes = 268435456.4;
    ok.l2_bytes = 1.5e9;
    ok.kernel_ms = 0.125;
    ok.flops_measured = 1.2345e9;
    ok.gather_dram_bytes = 4096;
    ok.intensity = 2.2998;
    ok.roof_fraction = 0.81234;
    ok.achieved_tflops = 100.000049;
    snprintf(ok.profile_note, sizeof ok.profile_note, "dram may read low: 12.6 MB, \"x\"");
    ok.has_selection_stats = 1;
    ok.route_imbalance = 1.8125;
    ok.expert_overlap = 0.96875;
    snprintf(ok.kernels, sizeof ok.kernels, "landmarks_kernel<float>; route, \"quoted\" x2");
    struct result_row quoted = make_row(1);
    snprintf(quoted.suite, sizeof quoted.suite, "a,b");
    snprintf(quoted.point.variant, sizeof quoted.point.variant, "say \"hi\"");
    snprintf(quoted.device, sizeof quoted.device, "line one\nline two\r\nthree");
    snprintf(quoted.status, sizeof quoted.status, "error:cudaMalloc failed, \"out of memory\"");
    quoted.point.uses = ATTN_USES_M; /* an agent-like method: k, s_r and the scale unused */
    quoted.sm_clock_mhz = 0;
    snprintf(quoted.driver, sizeof quoted.driver, "%s", "");
    /* A small point on a CPU: rates far below 1e-4 keep their digits (a log axis drops 0). */
    struct result_row tiny = make_row(2);
    tiny.tflops = 3.25e-6;
    tiny.gbps = 0.0123456789;
    CHECK(open_writer(&w, path) == 0);
    CHECK(csv_writer_row(&w, &ok) == 0);
    CHECK(csv_writer_row(&w, &quoted) == 0);
    CHECK(csv_writer_row(&w, &tiny) == 0);
    csv_writer_close(&w);

    struct csv_table t;
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    CHECK(t.nrows == 3);
    CHECK_STR(cell(&t, 2, "tflops"), "3.25e-06");
    CHECK_STR(cell(&t, 2, "gbps"), "0.0123457");
    CHECK_STR(cell(&t, 0, "ms_median"), "0.0123456789");
    CHECK_STR(cell(&t, 0, "ms_p90"), "1.875");
    CHECK_STR(cell(&t, 0, "flops_model"), "1.500000e+12");
    CHECK_STR(cell(&t, 0, "tflops"), "12.3457");
    CHECK_STR(cell(&t, 0, "gbps"), "2000");
    CHECK_STR(cell(&t, 0, "m"), "64");
    CHECK_STR(cell(&t, 0, "k"), "128");
    CHECK_STR(cell(&t, 0, "s_r"), "2");
    CHECK_STR(cell(&t, 0, "shared_scale"), "paper");
    CHECK_STR(cell(&t, 0, "backend"), "cuda");
    CHECK_STR(cell(&t, 0, "dtype"), "bf16");
    CHECK_STR(cell(&t, 0, "sm_clock_mhz"), "1980");
    CHECK_STR(cell(&t, 0, "seed"), "7");
    CHECK_STR(cell(&t, 0, "samples_ms"), ok.samples_ms);
    CHECK_STR(cell(&t, 0, "suite_hash"), "0123456789abcdef");
    CHECK_STR(cell(&t, 0, "shard"), "2/4");
    CHECK_STR(cell(&t, 0, "dram_read_bytes"), "268435456");
    CHECK_STR(cell(&t, 0, "dram_write_bytes"), "268435456");
    CHECK_STR(cell(&t, 0, "l2_bytes"), "1500000000");
    CHECK_STR(cell(&t, 0, "kernel_ms"), "0.125");
    CHECK_STR(cell(&t, 0, "flops_measured"), "1.234500e+09");
    CHECK_STR(cell(&t, 0, "gather_dram_bytes"), "4096");
    CHECK_STR(cell(&t, 0, "intensity"), "2.2998");
    CHECK_STR(cell(&t, 0, "roof_fraction"), "0.8123");
    CHECK_STR(cell(&t, 0, "achieved_tflops"), "100");
    CHECK_STR(cell(&t, 0, "profile_note"), ok.profile_note);
    CHECK_STR(cell(&t, 0, "route_imbalance"), "1.8125");
    CHECK_STR(cell(&t, 0, "expert_overlap"), "0.96875");
    CHECK_STR(cell(&t, 0, "kernels"), ok.kernels);

    CHECK_STR(cell(&t, 1, "suite"), quoted.suite);
    CHECK_STR(cell(&t, 1, "variant"), quoted.point.variant);
    CHECK_STR(cell(&t, 1, "device"), quoted.device);
    CHECK_STR(cell(&t, 1, "status"), quoted.status);
    CHECK_STR(cell(&t, 1, "m"), "64");
    CHECK_STR(cell(&t, 1, "k"), "");
    CHECK_STR(cell(&t, 1, "s_r"), "");
    CHECK_STR(cell(&t, 1, "shared_scale"), "");
    CHECK_STR(cell(&t, 1, "sm_clock_mhz"), "");
    CHECK_STR(cell(&t, 1, "driver"), "");
    /* Not "ok": nothing was timed, so no time or rate; the models stand. */
    for (const char *const *c = (const char *const[]){"ms_median", "ms_min", "ms_max", "ms_stddev",
                                                       "ms_p10", "ms_p90", "tflops", "gbps", NULL};
         *c; c++)
        CHECK_STR(cell(&t, 1, *c), "");
    /* Not profiled, not MiTA: no counters, nothing derived from them, no routing. */
    for (const char *const *c = (const char *const[]){"dram_read_bytes", "dram_write_bytes",
                                                       "l2_bytes", "kernel_ms", "flops_measured",
                                                       "gather_dram_bytes", "intensity",
                                                       "roof_fraction", "achieved_tflops",
                                                       "profile_note", "route_imbalance",
                                                       "expert_overlap", "kernels", NULL};
         *c; c++)
        CHECK_STR(cell(&t, 1, *c), "");
    CHECK_STR(cell(&t, 1, "bytes_model"), "2.500000e+09");
    CHECK_STR(cell(&t, 1, "reps"), "10");
    csv_table_free(&t);
}

static void test_refuse(const char *dir)
{
    char path[1024], err[1024];
    struct csv_writer w;

    scratch_write(scratch_path(path, sizeof path, dir, "foreign.csv"), "a,b,c\n1,2,3\n");
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, NULL, err, sizeof err) != 0);
    CHECK_CONTAINS(err, path);
    CHECK_CONTAINS(err, "column 1 of its header is 'a', expected 'suite'");

    /* Our header with one column renamed, one missing, one added. */
    char header[1024] = "";
    for (int c = 0; csv_columns()[c]; c++)
        snprintf(header + strlen(header), sizeof header - strlen(header), "%s%s", c ? "," : "",
                 strcmp(csv_columns()[c], "gbps") == 0 ? "GBps" : csv_columns()[c]);
    strcat(header, "\n");
    scratch_write(path, header);
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, NULL, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "column 27 of its header is 'GBps', expected 'gbps'");

    scratch_write(path, "suite,method\n");
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, NULL, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "its header ends after column 2, expected 'variant' next");

    char *gbps = strstr(header, "GBps");
    memcpy(gbps, "gbps", 4);
    strcpy(header + strlen(header) - 1, ",extra\n");
    scratch_write(path, header);
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, NULL, err, sizeof err) != 0);
    int last = 0;
    while (csv_columns()[last + 1]) last++;
    char extra[128];
    snprintf(extra, sizeof extra, "an extra column 'extra' after '%s'", csv_columns()[last]);
    CHECK_CONTAINS(err, extra);

    /* A foreign file is never emptied, nor started on, with --force. */
    scratch_write(path, "a,b,c\n1,2,3\n");
    CHECK(csv_writer_open(&w, path, RUN_FILE_FORCE, NULL, NULL, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "column 1 of its header is 'a'");
    CHECK(csv_writer_open(&w, path, RUN_FILE_NEW, NULL, NULL, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "column 1 of its header is 'a'");

    /* Unwritable places: a missing folder, and a folder. */
    scratch_path(path, sizeof path, dir, "no-such-folder/r.csv");
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, NULL, err, sizeof err) != 0);
    CHECK_CONTAINS(err, path);
    CHECK_CONTAINS(err, strerror(ENOENT));
    CHECK(csv_writer_open(&w, dir, RUN_FILE_RESUME, NULL, NULL, err, sizeof err) != 0);
    CHECK_CONTAINS(err, dir);
    CHECK_CONTAINS(err, strerror(EISDIR));
}

/* A child writes rows and is killed before it closes the file: every row it
 * wrote must be in the file, whole, without anything flushed at exit. */
static void test_killed_writer(const char *dir)
{
    enum { ROWS = 40 };
    char path[1024], err[1024];
    scratch_path(path, sizeof path, dir, "killed.csv");
    fflush(NULL); /* so that the child has nothing of ours to flush */
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        struct csv_writer w;
        if (open_writer(&w, path) != 0) _exit(1);
        for (int i = 0; i < ROWS; i++) {
            struct result_row r = make_row(i);
            if (csv_writer_row(&w, &r) != 0) _exit(1);
        }
        raise(SIGKILL); /* mid-sweep: the writer is never closed */
        _exit(2);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    struct csv_table t;
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    CHECK(t.nrows == ROWS);
    for (long r = 0; r < t.nrows; r++) {
        struct result_row want = make_row((int)r);
        char n[32];
        snprintf(n, sizeof n, "%ld", 1024 * (r + 1));
        CHECK_STR(cell(&t, r, "N"), n);
        CHECK_STR(cell(&t, r, "status"), "ok");
        CHECK_STR(cell(&t, r, "samples_ms"), want.samples_ms);
    }
    csv_table_free(&t);

    /* The next sweep appends to the file the killed one left. */
    struct csv_writer w;
    struct result_row more = make_row(ROWS);
    CHECK(open_writer(&w, path) == 0);
    CHECK(csv_writer_row(&w, &more) == 0);
    csv_writer_close(&w);
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    CHECK(t.nrows == ROWS + 1);
    csv_table_free(&t);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* A file with rows is the user's to continue (--resume) or start afresh
 * (--force); a header alone is nothing to lose. */
static void test_modes(const char *dir)
{
    char path[1024], err[1024], log_text[2048];
    struct csv_writer w;
    struct csv_table done;
    struct result_row r0 = make_row(0), r1 = make_row(1);
    scratch_path(path, sizeof path, dir, "modes.csv");
    CHECK(csv_writer_open(&w, path, RUN_FILE_NEW, NULL, NULL, err, sizeof err) == 0);
    csv_writer_close(&w);
    const off_t header_only = file_size(path);
    CHECK(csv_writer_open(&w, path, RUN_FILE_NEW, NULL, NULL, err, sizeof err) == 0);
    CHECK(csv_writer_row(&w, &r0) == 0 && csv_writer_row(&w, &r1) == 0);
    csv_writer_close(&w);
    const off_t two_rows = file_size(path);

    CHECK(csv_writer_open(&w, path, RUN_FILE_NEW, NULL, NULL, err, sizeof err) != 0);
    char want[1200];
    snprintf(want, sizeof want, "%s already holds 2 rows: --resume to continue it (only the "
                                "points it lacks are measured), or --force to start it afresh "
                                "(its rows are deleted)", path);
    CHECK_STR(err, want);
    CHECK(file_size(path) == two_rows); /* refused: untouched */

    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, &done, err, sizeof err) == 0);
    CHECK(done.nrows == 2);
    CHECK_STR(cell(&done, 1, "N"), "2048");
    csv_table_free(&done);
    csv_writer_close(&w);

    /* A row cut short (a full disk, a kill mid-write): --resume cuts it,
     * quotes and all, says so, and the point is no longer there. */
    FILE *f = fopen(path, "a");
    fputs("unit,mita,s_r,cuda,\"NVIDIA, cut", f);
    fclose(f);
    FILE *log = fmemopen(log_text, sizeof log_text, "w");
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, log, &done, err, sizeof err) == 0);
    fclose(log);
    CHECK(done.nrows == 2);
    csv_table_free(&done);
    CHECK(file_size(path) == two_rows);
    snprintf(want, sizeof want, "attnbench: %s: its last row was cut short (no newline at its "
                                "end): removed it (31 bytes); that point is measured again\n",
             path);
    CHECK_STR(log_text, want);
    struct result_row r2 = make_row(2);
    CHECK(csv_writer_row(&w, &r2) == 0);
    csv_writer_close(&w);
    CHECK(csv_read(path, &done, err, sizeof err) == 0 && done.nrows == 3);
    csv_table_free(&done);

    /* A corrupt row is refused before anything is cut. */
    f = fopen(path, "a");
    fputs("unit,mita\nunit,cut", f);
    fclose(f);
    const off_t corrupt = file_size(path);
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, &done, err, sizeof err) != 0);
    CHECK_CONTAINS(err, ":5: row has 2 fields");
    CHECK(file_size(path) == corrupt);

    CHECK(csv_writer_open(&w, path, RUN_FILE_FORCE, NULL, &done, err, sizeof err) == 0);
    CHECK(done.nrows == 0);
    csv_writer_close(&w);
    CHECK(file_size(path) == header_only);
}

/* One run at a time: a file another process holds is refused at once with
 * its PID; once that process is gone (killed, here), the file is free. */
static void test_lock(const char *dir)
{
    char path[1024], err[1024];
    scratch_path(path, sizeof path, dir, "locked.csv");
    int ready[2];
    CHECK(pipe(ready) == 0);
    fflush(NULL);
    pid_t holder = fork();
    if (holder == 0) {
        struct csv_writer w;
        char byte = open_writer(&w, path) == 0 ? 'y' : 'n';
        if (write(ready[1], &byte, 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    char byte = 0;
    CHECK(read(ready[0], &byte, 1) == 1 && byte == 'y');
    struct csv_writer w;
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, NULL, err, sizeof err) != 0);
    char want[1200];
    snprintf(want, sizeof want, "%s is in use by another run (PID %ld): wait for it to end, or "
                                "write to another file", path, (long)holder);
    CHECK_STR(err, want);

    /* A child of the holder (a forked worker) does not hold it. */
    CHECK(csv_writer_open(&w, path, RUN_FILE_FORCE, NULL, NULL, err, sizeof err) != 0);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, NULL, err, sizeof err) == 0);
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        struct csv_writer other;
        char e[1200];
        /* Its own open and close: the parent's lock must stay. */
        int rc = csv_writer_open(&other, path, RUN_FILE_RESUME, NULL, NULL, e, sizeof e);
        _exit(rc != 0 && strstr(e, "is in use by another run") ? 0 : 1);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    csv_writer_close(&w);
    close(ready[0]);
    close(ready[1]);
}

/* A write cut short — a disk full, here a file-size limit — leaves no part
 * of the row behind: the file ends after the last whole row. */
static void test_short_write(const char *dir)
{
    char path[1024], err[1024];
    scratch_path(path, sizeof path, dir, "full.csv");
    struct csv_writer w;
    struct result_row r0 = make_row(0), r1 = make_row(1);
    CHECK(open_writer(&w, path) == 0);
    CHECK(csv_writer_row(&w, &r0) == 0);
    const off_t one_row = file_size(path);
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        signal(SIGXFSZ, SIG_IGN); /* a failed write, not a killed process */
        struct rlimit limit = {(rlim_t)one_row + 100, (rlim_t)one_row + 100};
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(3);
        _exit(csv_writer_row(&w, &r1) != 0 && errno == EFBIG ? 0 : 1);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(file_size(path) == one_row);
    csv_writer_close(&w);
    struct csv_table t;
    CHECK(csv_read(path, &t, err, sizeof err) == 0 && t.nrows == 1);
    csv_table_free(&t);
}

static void test_read(const char *dir)
{
    static const struct {
        const char *text;
        const char *message; /* "" when the file is good */
    } cases[] = {
        {"a,b\n1,2\n\"x,\"\"y\"\"\nz\",3\n", ""},
        {"a,b\r\n1,2\r\n\"q\",\"\"\r\n", ""},                 /* CRLF line ends */
        {"a,b\n1,2\n1,2,3\n", ":3: row has 3 fields, the header has 2"},
        {"a,b\n\"multi\nline\",2\n1\n", ":4: row has 1 fields, the header has 2"},
        {"a,b\n1,2\n\"open,2\n3,4\n", ":3: unterminated quote"},
        {"a,b\n1,2\n3,4", ":3: truncated row"},
        {"a,b\n1,2\n3,\"4\"", ":3: truncated row"},
        {"", ":1: no header"},
        {"a,b\n1,\"2\"x\n", ":2: text after a closing quote"},
        {"a,b\n1,2\"\n", ":2: quote inside an unquoted field"},
    };
    char path[1024], err[1024];
    scratch_path(path, sizeof path, dir, "read.csv");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct csv_table t;
        scratch_write(path, cases[i].text);
        err[0] = '\0';
        int rc = csv_read(path, &t, err, sizeof err);
        if (!cases[i].message[0]) {
            CHECK(rc == 0);
            CHECK_STR(err, "");
            CHECK(t.ncols == 2 && t.nrows == 2);
        } else {
            char want[1100];
            snprintf(want, sizeof want, "%s%s", path, cases[i].message);
            CHECK(rc != 0);
            CHECK_CONTAINS(err, want);
            CHECK(t.nrows == 0 && t.rows == NULL && t.header == NULL);
        }
        if (i == 0 && rc == 0) {
            CHECK_STR(t.rows[1][0], "x,\"y\"\nz");
            CHECK_STR(t.rows[1][1], "3");
        }
        if (i == 1 && rc == 0) {
            CHECK_STR(t.header[1], "b");
            CHECK_STR(t.rows[0][1], "2");
            CHECK_STR(t.rows[1][0], "q");
            CHECK_STR(t.rows[1][1], "");
        }
        csv_table_free(&t);
    }
    CHECK(csv_read(scratch_path(path, sizeof path, dir, "absent.csv"), &(struct csv_table){0}, err,
                   sizeof err) != 0);
    CHECK_CONTAINS(err, strerror(ENOENT));
}

/* csv_parse reads its `len` bytes and not one more: text that ends after
 * a comma, in a buffer of exactly its length (no NUL after it), is a
 * truncated row (the reader looked one byte past the end for a quote;
 * AddressSanitizer saw it, found by tests/fuzz). */
static void test_parse_bounds(void)
{
    static const char *const texts[] = {"a,b\n1,", "a,", "a,b\n\"1\","};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const size_t len = strlen(texts[i]);
        char *exact = malloc(len), err[256] = "";
        memcpy(exact, texts[i], len);
        struct csv_table t;
        CHECK(csv_parse("m.csv", exact, len, &t, err, sizeof err) != 0);
        CHECK_CONTAINS(err, "truncated row");
        free(exact);
    }
}

/* Keys of points and of the rows they wrote agree, unused parameters and
 * awkward names included; they differ where the points differ. */
static void test_keys(const char *dir)
{
    char path[1024], err[1024];
    scratch_path(path, sizeof path, dir, "keys.csv");
    enum { ROWS = 4 };
    struct result_row rows[ROWS] = {make_row(0), make_row(0), make_row(0), make_row(0)};
    rows[1].point.uses = 0; /* e.g. full: only the shape counts */
    rows[1].point.params.m = 12345;
    snprintf(rows[1].point.method, sizeof rows[1].point.method, "full");
    rows[2].point.uses = ATTN_USES_M | ATTN_USES_S_R;
    snprintf(rows[2].point.variant, sizeof rows[2].point.variant, "a,b \"c\"");
    rows[3].point.problem.dtype = ATTN_FP16;
    rows[3].point.problem.backend = ATTN_CPU;

    struct csv_writer w;
    CHECK(open_writer(&w, path) == 0);
    for (int i = 0; i < ROWS; i++) CHECK(csv_writer_row(&w, &rows[i]) == 0);
    csv_writer_close(&w);
    struct csv_table t;
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    char keys[ROWS][512];
    for (int i = 0; i < ROWS && i < t.nrows; i++) {
        char from_row[512];
        csv_point_key(&rows[i].point, keys[i], sizeof keys[i]);
        CHECK(csv_row_key(&t, i, from_row, sizeof from_row) == 0);
        CHECK_STR(from_row, keys[i]);
    }
    CHECK_STR(keys[0], "mita,s_r,cuda,bf16,1,8,1024,64,64,128,2,paper,clustered,fused");
    CHECK_STR(keys[1], "full,s_r,cuda,bf16,1,8,1024,64,,,,,clustered,");
    CHECK_STR(keys[2], "mita,\"a,b \"\"c\"\"\",cuda,bf16,1,8,1024,64,64,,2,,clustered,");
    CHECK_STR(keys[3], "mita,s_r,cpu,fp16,1,8,1024,64,64,128,2,paper,clustered,fused");
    char key[512];
    CHECK(csv_row_key(&t, ROWS, key, sizeof key) != 0);

    /* An unused parameter does not tell points apart; a used one does. */
    struct sweep_point a = rows[1].point, b = rows[1].point;
    b.params.m = 1;
    char ka[512], kb[512];
    csv_point_key(&a, ka, sizeof ka);
    csv_point_key(&b, kb, sizeof kb);
    CHECK_STR(ka, kb);
    a.uses = b.uses = ATTN_USES_M;
    csv_point_key(&a, ka, sizeof ka);
    csv_point_key(&b, kb, sizeof kb);
    CHECK(strcmp(ka, kb) != 0);

    /* A short buffer gets a truncated, terminated key. */
    csv_point_key(&a, key, 6);
    CHECK(strlen(key) < 6);
    csv_table_free(&t);

    /* A table without the key columns has no row keys. */
    scratch_write(path, "method,N\nfull,1024\n");
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    CHECK(csv_row_key(&t, 0, key, sizeof key) != 0);
    csv_table_free(&t);
}

/* A file written before the text axes existed: results_table_read gives it
 * their columns, the defaults where the method reads the axis, so that its
 * rows' keys match today's points. */
static void test_absent_axes(const char *dir)
{
    char path[1024], err[1024];
    scratch_path(path, sizeof path, dir, "old.csv");
    scratch_write(path, "suite,method,variant,backend,dtype,N,status\n"
                        "s,mita,shared,cuda,bf16,1024,ok\n"
                        "s,full,flash,cuda,bf16,1024,ok\n"
                        "s,mita,shared-torch-eager,torch-eager,bf16,1024,ok\n");
    struct csv_table t;
    CHECK(results_table_read(path, &t, err, sizeof err) == 0);
    CHECK(t.ncols == 9 && t.nrows == 3);
    CHECK_STR(cell(&t, 0, "inputs"), "iid");
    CHECK_STR(cell(&t, 0, "gather"), "fused");
    CHECK_STR(cell(&t, 1, "inputs"), "iid");
    CHECK_STR(cell(&t, 1, "gather"), "");
    /* A peer's row: no gather, as the peers write it. */
    CHECK_STR(cell(&t, 2, "inputs"), "iid");
    CHECK_STR(cell(&t, 2, "gather"), "");
    csv_table_free(&t);
}

/* Writes `rows` to `path` as an earlier attnbench would have: our columns
 * but those named in `absent`. */
static void write_earlier(const char *path, const struct result_row *rows, int n,
                          const char *const *absent)
{
    static struct csv_cells cells;
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    for (int r = -1; f && r < n; r++) {
        if (r >= 0) csv_row_cells(&rows[r], &cells);
        int first = 1;
        for (int c = 0; c < csv_column_count(); c++) {
            int skip = 0;
            for (const char *const *a = absent; *a && !skip; a++)
                skip = strcmp(csv_columns()[c], *a) == 0;
            if (skip) continue;
            if (!first) fputc(',', f);
            csv_write_field(f, r < 0 ? csv_columns()[c] : cells.cell[c]);
            first = 0;
        }
        fputc('\n', f);
    }
    CHECK(f && fclose(f) == 0);
}

/* A results file of an earlier attnbench (columns added since: an axis and
 * trailing ones) is continued by --resume under today's header, its rows
 * kept with the new axis's default and empty new cells, and said; merge
 * reads it the same way (test_merge.c). One that is not such a file (a
 * column out of order, an unknown one) is refused and left as it was. */
static void test_earlier_file(const char *dir)
{
    char path[1024], err[1024], log_text[2048];
    struct result_row rows[2] = {make_row(0), make_row(1)};
    const char *const absent[] = {"gather", "route_imbalance", "expert_overlap", "kernels", NULL};
    scratch_path(path, sizeof path, dir, "earlier.csv");
    write_earlier(path, rows, 2, absent);
    /* A row cut short at its end, as a killed run leaves it. */
    FILE *f = fopen(path, "a");
    fputs("unit,mita,s_r,cuda,cut", f);
    fclose(f);

    struct csv_writer w;
    struct csv_table done;
    CHECK(csv_writer_open(&w, path, RUN_FILE_NEW, NULL, NULL, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "column 16 of its header is 'reps', expected 'gather'");
    FILE *log = fmemopen(log_text, sizeof log_text, "w");
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, log, &done, err, sizeof err) == 0);
    fclose(log);
    char want[1400];
    snprintf(want, sizeof want, "attnbench: %s: written by an earlier attnbench: rewrote its 2 "
                                "rows under this one's header (added, empty: gather, "
                                "route_imbalance, expert_overlap, kernels); its last row was cut "
                                "short (no newline at its end): left out, that point is measured "
                                "again\n", path);
    CHECK_STR(log_text, want);
    CHECK(done.nrows == 2);
    CHECK_STR(cell(&done, 1, "N"), "2048");
    CHECK_STR(cell(&done, 1, "gather"), "fused"); /* mita reads the axis: its default */
    CHECK_STR(cell(&done, 1, "inputs"), "clustered");
    CHECK_STR(cell(&done, 0, "kernels"), "");
    csv_table_free(&done);
    struct result_row r2 = make_row(2);
    CHECK(csv_writer_row(&w, &r2) == 0);
    csv_writer_close(&w);
    struct csv_table t;
    CHECK(csv_read(path, &t, err, sizeof err) == 0);
    CHECK(t.nrows == 3 && t.ncols == csv_column_count());
    for (int c = 0; c < t.ncols && c < csv_column_count(); c++)
        CHECK_STR(t.header[c], csv_columns()[c]);
    CHECK_STR(cell(&t, 0, "samples_ms"), rows[0].samples_ms);
    csv_table_free(&t);
    /* The rewrite left nothing beside the file. */
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.rewrite-%ld", path, (long)getpid());
    CHECK(access(tmp, F_OK) != 0);

    /* Not an earlier attnbench's: two columns swapped, or one it never wrote. */
    char text[8192] = "";
    for (int c = 0; csv_columns()[c]; c++) {
        const char *name = csv_columns()[c];
        if (!strcmp(name, "kernels")) continue;
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", c ? "," : "",
                 !strcmp(name, "N") ? "d" : !strcmp(name, "d") ? "N" : name);
    }
    strcat(text, "\n");
    scratch_write(path, text);
    const off_t before = file_size(path);
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, &done, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "column 9 of its header is 'd', expected 'N'");
    CHECK(file_size(path) == before);
    scratch_write(path, "method,variant,backend,N,status,speed\n");
    CHECK(csv_writer_open(&w, path, RUN_FILE_RESUME, NULL, &done, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "column 1 of its header is 'method', expected 'suite'");

    /* The table alone: why it is not one. */
    const struct {
        const char *text, *why;
    } refused[] = {
        {"method,variant,backend,N,status,speed\n",
         "x.csv: its column 'speed' is not one this attnbench writes (a results file of a later "
         "attnbench, or not a results file)"},
        {"method,N,variant,backend,status\n",
         "x.csv: its column 'variant' comes after 'N', not before it as attnbench writes them"},
        {"suite,method,variant,N\n", "x.csv: no 'backend' column (not a results file)"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        CHECK(csv_parse("x.csv", refused[i].text, strlen(refused[i].text), &t, err,
                        sizeof err) == 0);
        const int ncols = t.ncols;
        CHECK(csv_table_to_current("x.csv", &t, NULL, 0, err, sizeof err) != 0);
        CHECK_STR(err, refused[i].why);
        CHECK(t.ncols == ncols); /* unchanged */
        csv_table_free(&t);
    }
}

/* The longest inputs word still leaves the gather column in the key. */
static void test_long_keys(void)
{
    struct result_row a = make_row(0), b = make_row(0);
    memset(a.point.inputs, 'x', sizeof a.point.inputs - 1);
    memcpy(a.point.inputs, "file:", 5);
    a.point.inputs[sizeof a.point.inputs - 1] = '\0';
    memcpy(b.point.inputs, a.point.inputs, sizeof b.point.inputs);
    snprintf(b.point.gather, sizeof b.point.gather, "vec16");
    char ka[CSV_KEY_LEN], kb[CSV_KEY_LEN];
    csv_point_key(&a.point, ka, sizeof ka);
    csv_point_key(&b.point, kb, sizeof kb);
    CHECK(strcmp(ka, kb) != 0);
    CHECK(strlen(ka) > 300 && strcmp(ka + strlen(ka) - 6, ",fused") == 0);
}

int main(void)
{
    char dir[512];
    scratch_make(dir, sizeof dir);
    test_header_once(dir);
    test_cells(dir);
    test_refuse(dir);
    test_killed_writer(dir);
    test_modes(dir);
    test_lock(dir);
    test_short_write(dir);
    test_read(dir);
    test_parse_bounds();
    test_keys(dir);
    test_absent_axes(dir);
    test_earlier_file(dir);
    test_long_keys();
    scratch_remove(dir);
    return check_exit("test_csv");
}
