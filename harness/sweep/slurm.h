/* slurm.h — a sweep as a Slurm job (`attnbench slurm`).
 *
 * Writes, into one folder:
 *   SUITE.suite     the suite as resolved (its file, then the flags): every
 *                   shard and the merge read this one definition
 *   shards.sbatch   a job array, one shard per task:
 *                   `attnbench run SUITE.suite --shard $SLURM_ARRAY_TASK_ID/N
 *                   --out shard-I-of-N.csv --resume` (with --gpus all when a
 *                   task has several GPUs)
 *   merge.sbatch    `attnbench merge SUITE.csv shard-*-of-N.csv --suite
 *                   SUITE.suite`: every point once, or a report of those
 *                   missing or twice
 *   submit.sh       submits the array, then the merge with
 *                   --dependency=afterany on it (a failed shard leaves its
 *                   points missing and the merge names them)
 *   logs/           each task's output
 * The folder, this program and the plugins are named by absolute paths:
 * the nodes must see them where this host does (a shared file system).
 */
#ifndef HARNESS_SLURM_H
#define HARNESS_SLURM_H

#include <stdio.h>

#include "sweep/suite.h"

struct slurm_options {
    const char *dir;              /* the folder to write; created if absent */
    int shards;                   /* array tasks */
    int gpus_per_task;            /* -1: 1, or 0 when the suite runs on the cpu */
    const char *partition;        /* NULL: the cluster's default */
    const char *account;          /* NULL: the user's default */
    const char *time_limit;       /* per task, as sbatch --time takes it; NULL: the default */
    const char *const *plugins;   /* --plugin paths to pass on */
    int plugin_count;
    int verify;                   /* pass on run --verify */
    int profile;                  /* pass on run --profile (each task's steps file stays its own) */
    const char *ceilings;         /* pass on run --ceilings FILE (made absolute), or NULL */
};

/* Writes the folder; prints what it wrote and how to submit it to `out`.
 * Returns 0, or non-zero with a message naming the option or path at
 * fault. */
int slurm_write_job(const struct suite *s, const struct slurm_options *opt, FILE *out,
                    char *err, size_t err_len);

#endif
