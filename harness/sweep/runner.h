/* runner.h — the sweep: expand a suite into points, run each (in a child
 * process of its own unless told otherwise), write a CSV row as soon as a
 * point is done, print the table and the progress. */
#ifndef HARNESS_RUNNER_H
#define HARNESS_RUNNER_H

#include "results/run_file.h"
#include "sweep/shard.h"
#include "sweep/suite.h"

struct run_options {
    const char *out_path;  /* the CSV file */
    int resume;            /* skip points already in out_path */
    int force;             /* empty out_path first (--force); without it or resume, a file
                              with rows is refused */
    int isolate;           /* one child process per point (default 1) */
    int quiet;             /* no table on stdout */
    int profile;           /* hardware counters after each point (--profile, profile.h) */
    int verify;            /* each point's output against the reference (--verify, verify.h) */
    int discard_throttled; /* leave out samples taken while the GPU throttled (timing.h) */
    const char *ceilings_path; /* the roofs of the roofline columns (--ceilings), or NULL */
    const char *json_path;     /* every row and sample as JSON too (--json), or NULL */
    int argc;                  /* the command line, for the JSON's environment */
    char **argv;
    struct shard_spec shard;  /* run only this shard of the suite (--shard I/N) */
    /* Set by `run --gpus` for each of its workers: */
    struct shard_spec worker; /* this worker's part of the shard */
    const char *device_tag;   /* appended to the device column: "gpu 1" */
    const char *done_path;    /* with resume: also skip the points already in this file */
    const char *resume_command; /* printed when a signal stops the run (interrupt.h); NULL:
                                   say nothing (the workers of `run --gpus`) */
};

/* Runs the suite. Returns the process exit status: 0 when every row is ok,
 * oom or skipped; 1 when a row is invalid, an error, a timeout or wrong (its
 * output failed --verify); 2 when the sweep could
 * not start (output not writable, in use by another run, holding rows
 * without --resume or --force, corrupt file to resume, no such backend);
 * 128 + the signal when SIGINT, SIGTERM or SIGHUP stopped it (interrupt.h). */
int runner_run(const struct suite *s, const struct run_options *opt);

/* How the run treats what out_path holds: --resume, --force, or neither
 * (results/run_file.h). */
enum run_file_mode runner_file_mode(const struct run_options *opt);

/* The backend a suite runs on: its own setting, else cuda when a GPU is
 * present, else cpu. */
enum attn_backend runner_pick_backend(const struct suite *s);

#endif
