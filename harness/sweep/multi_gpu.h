/* multi_gpu.h — one sweep over several GPUs of this host (`run --gpus`).
 *
 * A worker process per GPU, each with CUDA_VISIBLE_DEVICES set to its GPU
 * alone, runs its part of the points (the shard split again, by cost) into
 * a file of its own; when all are done, their rows are merged into the
 * results file (merge.h) and the workers' files removed. Rows say which GPU
 * measured them: "NVIDIA H100 80GB HBM3 [gpu 1]".
 *
 * GPUs are named as this process sees them: `all`, or ordinals "0,1,3"
 * that index CUDA_VISIBLE_DEVICES when it is set (as Slurm sets it), and
 * the driver's devices otherwise.
 *
 * The workers run on the cuda backend. For tests on machines without a GPU,
 * ATTNBENCH_GPUS_ON_CPU=1 lets them run on the cpu backend instead: the
 * same fan-out, environment and merge, with CPU measurements.
 */
#ifndef HARNESS_MULTI_GPU_H
#define HARNESS_MULTI_GPU_H

#include "sweep/runner.h"
#include "sweep/suite.h"

#define MULTI_GPU_MAX 64

/* What each worker gets as CUDA_VISIBLE_DEVICES, from --gpus `text`, in
 * `visible` (the environment's CUDA_VISIBLE_DEVICES, NULL when unset) and
 * `device_count` (the driver's devices; -1 when unknown). Returns the number
 * of workers, or -1 with a message. */
int multi_gpu_resolve(const char *text, const char *visible, int device_count,
                      char ids[][32], char *err, size_t err_len);

/* Runs the suite with a worker per GPU of `gpus` and merges their rows into
 * opt->out_path. Returns the exit status of `run`: the worst of the
 * workers' and the merge's. */
int multi_gpu_run(const struct suite *s, const struct run_options *opt, const char *gpus);

#endif
